/**
 * Association of one (visit, detector): DiaSources -> DiaObjects, as Rubin's ap_association.
 *
 * 1. calibrate the DiaSourceRecords to nJy rows with deterministic ids; match known solar-system
 *    objects first (./known-objects.ts): those sources take an ssObjectId and stay out of 2-6;
 * 2. read the DiaObjects in the detector's footprint from the APDB;
 * 3. match one-to-one by global nearest-pair greedy within `radiusArcsec` (./match.ts);
 *    an unmatched source starts a new DiaObject whose id is its diaSourceId;
 * 4. read the matched objects' DiaSources and DiaForcedSources of the last `historyDays`;
 * 5. force-photometer the objects on the detector that got no source this visit;
 * 6. recompute each touched DiaObject's row from its history and the new source.
 *
 * The result holds everything the APDB stores (`batch`, for Apdb.storeVisit) and what alerts
 * need (history per object). Rows of this (visit, detector) found in the APDB (a replay, or a
 * crash between writes) are left out of the history, so a replay computes the same rows.
 */
import type { DiaSourceRecord } from '../detect/types.js';
import type { VisitInfo } from '../image/visit-info.js';
import type { Wcs } from '../wcs/types.js';
import type {
  Apdb,
  DiaForcedSource,
  DiaObject,
  DiaSource,
  SkyCone,
  VisitBatch,
} from '../apdb/types.js';
import { sourceId } from '../apdb/ids.js';
import { separationDeg } from '../healpix/index.js';
import { finiteOrNull, nanojanskyPerAdu, toDiaSources } from './calibration.js';
import { matchNearest } from './match.js';
import { summarizeDiaObject } from './diaobject.js';
import {
  associateKnownObjects,
  DEFAULT_KNOWN_OBJECT_CONFIG,
  type KnownObjectConfig,
  type KnownObjectMatch,
  type KnownObjectsInField,
} from './known-objects.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

export interface AssociationConfig {
  /** Largest DiaSource-DiaObject separation for a match, arcsec. Default 1. */
  radiusArcsec: number;
  /** History carried in alerts and used for features, days. Default 365 (12 months). */
  historyDays: number;
  /** Matching to known solar-system objects (default DEFAULT_KNOWN_OBJECT_CONFIG). */
  knownObjects?: KnownObjectConfig;
}

export const DEFAULT_ASSOCIATION_CONFIG: AssociationConfig = { radiusArcsec: 1, historyDays: 365 };

/** Where a detector sees the sky: a bounding cone for APDB reads and an exact test. */
export interface DetectorFootprint {
  cone: SkyCone;
  contains(ra: number, dec: number): boolean;
}

/** Footprint of a width x height image through its WCS (0-based pixels), grown by marginPx. */
export function detectorFootprint(
  wcs: Wcs,
  width: number,
  height: number,
  marginPx = 0,
): DetectorFootprint {
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const xs = Float64Array.of(
    cx,
    -0.5 - marginPx,
    width - 0.5 + marginPx,
    -0.5 - marginPx,
    width - 0.5 + marginPx,
  );
  const ys = Float64Array.of(
    cy,
    -0.5 - marginPx,
    -0.5 - marginPx,
    height - 0.5 + marginPx,
    height - 0.5 + marginPx,
  );
  const sky = wcs.pixelToSky({ x: xs, y: ys });
  let radiusDeg = 0;
  for (let k = 1; k < 5; k++)
    radiusDeg = Math.max(radiusDeg, separationDeg(sky.ra[0], sky.dec[0], sky.ra[k], sky.dec[k]));
  return {
    cone: { ra: sky.ra[0], dec: sky.dec[0], radiusDeg },
    contains(ra: number, dec: number): boolean {
      const p = wcs.skyToPixel({ ra: Float64Array.of(ra), dec: Float64Array.of(dec) });
      const x = p.x[0];
      const y = p.y[0];
      return (
        x >= -0.5 - marginPx &&
        x < width - 0.5 + marginPx &&
        y >= -0.5 - marginPx &&
        y < height - 0.5 + marginPx
      );
    },
  };
}

/** Forced PSF photometry on this visit, ADU (NaN when unmeasurable). */
export interface ForcedMeasurement {
  /** On the difference image. */
  psfFlux: number;
  psfFluxErr: number;
  /** On the science image. */
  scienceFlux: number;
  scienceFluxErr: number;
}

/** Measures forced photometry at sky positions (degrees); one result per position, same order. */
export type ForcedPhotometry = (
  positions: ReadonlyArray<{ ra: number; dec: number }>,
) => ForcedMeasurement[] | Promise<ForcedMeasurement[]>;

export interface AssociationInput {
  /** Visit, detector, band, midpoint MJD TAI and photometric zero point of the science image. */
  visit: VisitInfo;
  records: readonly DiaSourceRecord[];
  footprint: DetectorFootprint;
  /** Omit to skip forced photometry. */
  forcedPhotometry?: ForcedPhotometry;
  /** When processed, MJD TAI (the DiaObject rows' validityStartMjdTai). */
  timeProcessedMjdTai: number;
  /** Name and version of the real/bogus model behind `reliability`. */
  reliabilityModel?: string | null;
  /** Effective configuration hash and code version (recorded in each DiaSource). */
  configHash?: string | null;
  codeVersion?: string | null;
  /** The template's version id (its TMPLID card), recorded in each DiaSource; null when it has none. */
  templateVersion?: string | null;
  /** Science pixel scale, arcsec/pixel (NaN if unknown). */
  pixelScaleArcsec?: number;
  /** Known solar-system objects predicted in the field: matched first, never made DiaObjects. */
  knownObjects?: KnownObjectsInField | null;
}

export interface AssociationResult {
  /** True when the APDB already holds this (visit, detector): storing again changes nothing. */
  alreadyStored: boolean;
  /** Rows to store: this visit's DiaSources (diaObjectId set), the touched DiaObjects, the forced sources. */
  batch: VisitBatch;
  /** Earlier DiaSources of each touched DiaObject within historyDays, oldest first (this visit excluded). */
  prvDiaSources: Map<number, DiaSource[]>;
  /** DiaForcedSources of each touched DiaObject within historyDays, oldest first (this visit excluded). */
  prvDiaForcedSources: Map<number, DiaForcedSource[]>;
  /** Updated DiaObject row by id. */
  diaObjects: Map<number, DiaObject>;
  /** ssSource and mpc_orbits records of the sources matched to known objects, by diaSourceId. */
  knownObjectMatches: Map<number, KnownObjectMatch>;
}

function groupByObject<T extends { diaObjectId: number | null; midpointMjdTai: number }>(
  rows: readonly T[],
): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const row of [...rows].sort((a, b) => a.midpointMjdTai - b.midpointMjdTai)) {
    if (row.diaObjectId === null) continue;
    const list = out.get(row.diaObjectId);
    if (list) list.push(row);
    else out.set(row.diaObjectId, [row]);
  }
  return out;
}

/** Runs association for one (visit, detector); does not write (store `result.batch`). */
export async function associateVisit(
  apdb: Apdb,
  input: AssociationInput,
  config: AssociationConfig = DEFAULT_ASSOCIATION_CONFIG,
): Promise<AssociationResult> {
  const { visit } = input;
  const alreadyStored = await apdb.hasVisit(visit.visit, visit.detector);
  const diaSources = toDiaSources(input.records, visit, {
    timeProcessedMjdTai: input.timeProcessedMjdTai,
    reliabilityModel: input.reliabilityModel ?? null,
    configHash: input.configHash ?? null,
    codeVersion: input.codeVersion ?? null,
    templateVersion: input.templateVersion ?? null,
    pixelScaleArcsec: input.pixelScaleArcsec ?? Number.NaN,
  });
  const knownObjectMatches = input.knownObjects
    ? associateKnownObjects(
        diaSources,
        input.knownObjects,
        config.knownObjects ?? DEFAULT_KNOWN_OBJECT_CONFIG,
      )
    : new Map<number, KnownObjectMatch>();
  const cone = {
    ...input.footprint.cone,
    radiusDeg: input.footprint.cone.radiusDeg + config.radiusArcsec / ARCSEC_PER_DEG,
  };
  const thisVisit = (row: { visit: number; detector: number }): boolean =>
    row.visit === visit.visit && row.detector === visit.detector;
  const createdHere = new Set(diaSources.map((s) => s.diaSourceId));
  const candidates = (await apdb.getDiaObjectsInRegion(cone))
    .filter((o) => !createdHere.has(o.diaObjectId))
    .sort((a, b) => a.diaObjectId - b.diaObjectId);
  const objectSide = candidates.map((o) => ({ id: o.diaObjectId, ra: o.ra, dec: o.dec }));
  // A known object's source is hidden from DiaObject matching (NaN position: never matched).
  const sourceSide = diaSources.map((s) =>
    s.ssObjectId === null
      ? { id: s.diaSourceId, ra: s.ra, dec: s.dec }
      : { id: s.diaSourceId, ra: Number.NaN, dec: Number.NaN },
  );
  const { objectIndex } = matchNearest(sourceSide, objectSide, config.radiusArcsec);

  // A source without a sky position (no WCS) cannot be associated: it keeps diaObjectId null.
  const previous = new Map<number, DiaObject>();
  diaSources.forEach((s, i) => {
    const j = objectIndex[i];
    if (j >= 0) previous.set(candidates[j].diaObjectId, candidates[j]);
    const placed = Number.isFinite(s.ra) && Number.isFinite(s.dec) && s.ssObjectId === null;
    s.diaObjectId = j >= 0 ? candidates[j].diaObjectId : placed ? s.diaSourceId : null;
  });

  const sinceMjd = visit.mjd - config.historyDays;
  const matchedIds = [...previous.keys()].sort((a, b) => a - b);
  const prvDiaSources = groupByObject(
    (await apdb.getDiaSourcesForObjects(matchedIds, sinceMjd)).filter((r) => !thisVisit(r)),
  );
  const prvDiaForcedSources = groupByObject(
    (await apdb.getForcedSourcesForObjects(matchedIds, sinceMjd)).filter((r) => !thisVisit(r)),
  );

  const unseen = candidates.filter(
    (o) => !previous.has(o.diaObjectId) && input.footprint.contains(o.ra, o.dec),
  );
  const forcedSources = await measureForced(unseen, input);

  const diaObjects = new Map<number, DiaObject>();
  for (const s of diaSources) {
    const id = s.diaObjectId;
    if (id === null) continue;
    const sources = [...(prvDiaSources.get(id) ?? []), s];
    diaObjects.set(
      id,
      summarizeDiaObject(
        id,
        sources,
        prvDiaForcedSources.get(id) ?? [],
        previous.get(id) ?? null,
        input.timeProcessedMjdTai,
      ),
    );
  }
  return {
    alreadyStored,
    batch: {
      visit: visit.visit,
      detector: visit.detector,
      historySinceMjd: sinceMjd,
      diaObjects: [...diaObjects.values()],
      diaSources,
      forcedSources,
    },
    prvDiaSources,
    prvDiaForcedSources,
    diaObjects,
    knownObjectMatches,
  };
}

async function measureForced(
  objects: readonly DiaObject[],
  input: AssociationInput,
): Promise<DiaForcedSource[]> {
  if (!input.forcedPhotometry || objects.length === 0) return [];
  const { visit } = input;
  const measured = await input.forcedPhotometry(objects.map((o) => ({ ra: o.ra, dec: o.dec })));
  if (measured.length !== objects.length) {
    throw new RangeError(
      `forced photometry returned ${measured.length} results for ${objects.length} positions`,
    );
  }
  const scale = nanojanskyPerAdu(visit.zeroPoint);
  return objects.map((o, k) => ({
    diaForcedSourceId: sourceId(visit.visit, visit.detector, k),
    diaObjectId: o.diaObjectId,
    ra: o.ra,
    dec: o.dec,
    visit: visit.visit,
    detector: visit.detector,
    psfFlux: finiteOrNull(measured[k].psfFlux * scale),
    psfFluxErr: finiteOrNull(measured[k].psfFluxErr * scale),
    midpointMjdTai: visit.mjd,
    scienceFlux: finiteOrNull(measured[k].scienceFlux * scale),
    scienceFluxErr: finiteOrNull(measured[k].scienceFluxErr * scale),
    band: visit.band || null,
    timeProcessedMjdTai: input.timeProcessedMjdTai,
  }));
}
