/**
 * The per-visit preload cache (DMTN-260): before the exposure, for each detector, the template
 * cut out around the predicted footprint, already characterized (prepared: background, masks,
 * PSF model), the APDB rows of that region and the orbits of the known solar-system objects
 * predicted there (from the `<prefix>-orbits` bucket) are written to the work bucket at
 * `preload/{groupId}/{detector}/`, so that processImage starts computing at once.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { readExposureWithHeader } from '../shared/fits/index.js';
import type { Exposure } from '../shared/image/exposure.js';
import {
  PipelineInputError,
  prepareTemplate,
  readExposureOrPrepared,
  writePreparedImage,
  type PreparedImage,
} from '../shared/pipeline/index.js';
import type { DiaForcedSource, DiaObject, DiaSource } from '../shared/apdb/types.js';
import type { Apdb } from '../shared/apdb/types.js';
import { predictDetectorFootprint, type SkyCircle } from '../shared/prompt/camera.js';
import type { NextVisit } from '../shared/prompt/next-visit.js';
import { templateKey, tileOf, tilesInCircle } from '../shared/prompt/template-tiles.js';
import { TRANSFER_VALIDATION } from '../shared/adapters/storage.js';
import type { CharacterizeOverrides } from '../shared/characterize/characterize.js';
import { DEFAULT_KNOWN_OBJECT_CONFIG } from '../shared/association/known-objects.js';
import { OrbitCatalog } from '../shared/solar/catalog.js';
import { formatOrbitsCsv, parseOrbitsCsv, type MpcOrbit } from '../shared/solar/orbit.js';
import { RUBIN_SITE } from '../shared/solar/site.js';
import { taiFromUtc } from '../shared/solar/time.js';
import type { Services } from './context.js';
import { orbitCatalog } from './known-objects.js';
import { log } from './log.js';
import { ARCSEC_PER_DEG } from '../shared/util/numeric.js';

/** History kept in alerts: 12 months. */
export const HISTORY_DAYS = 365;

export interface ApdbSnapshot {
  /** Wall-clock MJD when the rows were read. */
  snapshotMjd: number;
  region: SkyCircle;
  diaObjects: DiaObject[];
  diaSources: DiaSource[];
  forcedSources: DiaForcedSource[];
}

export const preloadPrefix = (groupId: string, detector: number) =>
  `preload/${groupId}/${detector}/`;

export function mjdNow(): number {
  return Date.now() / 86_400_000 + 40587;
}

/** Most template tiles a footprint may touch (a 4k detector at 0.2"/px touches ~4; 1.5 deg radius ~600). */
export const MAX_TEMPLATE_TILES = 1024;
/** Existence checks in flight at once: a bounded burst of storage calls, never one per tile at once. */
export const TEMPLATE_LOOKUP_CONCURRENCY = 8;

/** Finds a template for the footprint: its centre's tile first, then the other tiles it touches, a few at a time. */
export async function findTemplate(
  s: Services,
  band: string,
  region: SkyCircle,
): Promise<{ key: string; bytes: Buffer } | null> {
  const centre = tileOf(region.center[0], region.center[1]);
  const tiles = [centre, ...tilesInCircle(region).filter((t) => t !== centre)];
  if (tiles.length > MAX_TEMPLATE_TILES)
    throw new PipelineInputError(
      'science',
      `footprint of radius ${region.radiusDeg.toFixed(2)} deg touches ${tiles.length} template tiles, above ${MAX_TEMPLATE_TILES}`,
    );
  const candidates = tiles.map((tile) => templateKey(band, tile));
  let key: string | undefined;
  for (let k = 0; k < candidates.length && key === undefined; k += TEMPLATE_LOOKUP_CONCURRENCY) {
    const batch = candidates.slice(k, k + TEMPLATE_LOOKUP_CONCURRENCY);
    const exists = await Promise.all(
      batch.map(async (name) => (await s.buckets.templates.file(name).exists())[0]),
    );
    key = batch.find((_, i) => exists[i]);
  }
  if (key === undefined) return null;
  const [bytes] = await s.buckets.templates.file(key).download({ validation: TRANSFER_VALIDATION });
  return { key, bytes };
}

/** The part of `template` within the circle (pixel bounding box of its rim), as a view. */
export function cutOut(template: Exposure, region: SkyCircle): Exposure | null {
  if (!template.wcs) return template;
  const n = 32;
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  const [ra0, dec0] = region.center;
  const cosDec = Math.max(Math.cos((dec0 * Math.PI) / 180), 1e-6);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    ra[i] = ra0 + (region.radiusDeg * Math.cos(t)) / cosDec;
    dec[i] = dec0 + region.radiusDeg * Math.sin(t);
  }
  const { x, y } = template.wcs.skyToPixel({ ra, dec });
  const x0 = Math.max(0, Math.floor(Math.min(...x)));
  const y0 = Math.max(0, Math.floor(Math.min(...y)));
  const x1 = Math.min(template.width, Math.ceil(Math.max(...x)) + 1);
  const y1 = Math.min(template.height, Math.ceil(Math.max(...y)) + 1);
  if (x1 <= x0 || y1 <= y0) return null;
  return template.view({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
}

export async function snapshotApdb(apdb: Apdb, region: SkyCircle): Promise<ApdbSnapshot> {
  const snapshotMjd = mjdNow();
  const diaObjects = await apdb.getDiaObjectsInRegion({
    ra: region.center[0],
    dec: region.center[1],
    radiusDeg: region.radiusDeg,
  });
  const ids = diaObjects.map((o) => o.diaObjectId);
  const since = snapshotMjd - HISTORY_DAYS;
  const [diaSources, forcedSources] = await Promise.all([
    apdb.getDiaSourcesForObjects(ids, since),
    apdb.getForcedSourcesForObjects(ids, since),
  ]);
  return { snapshotMjd, region, diaObjects, diaSources, forcedSources };
}

/**
 * Sky margin of the known-object preload, degrees: the motion between the preload and the exposure
 * (2 deg/day, faster than all but the closest near-Earth objects, for 2.4 hours) plus the largest
 * match radius.
 */
export const KNOWN_OBJECT_MARGIN_DEG =
  0.2 + DEFAULT_KNOWN_OBJECT_CONFIG.maxRadiusArcsec / ARCSEC_PER_DEG;

/** The orbits of the objects predicted within the footprint (grown by KNOWN_OBJECT_MARGIN_DEG) now. */
async function knownObjectsNear(s: Services, region: SkyCircle): Promise<MpcOrbit[]> {
  const catalog = await orbitCatalog(s);
  if (!catalog) return [];
  const cone = {
    ra: region.center[0],
    dec: region.center[1],
    radiusDeg: region.radiusDeg + KNOWN_OBJECT_MARGIN_DEG,
  };
  return catalog
    .predictInCone(cone, taiFromUtc(mjdNow()), RUBIN_SITE)
    .map((p) => catalog.orbits[p.index]);
}

export interface PreloadSummary {
  detector: number;
  template: string | null;
  /** FWHM of the prepared template's PSF, px. */
  templateFwhmPx: number | null;
  diaObjects: number;
  /** Known solar-system objects predicted on the detector. */
  knownObjects: number;
}

/** Preloads one detector of a visit; idempotent (objects are created once). */
export async function preloadDetector(
  s: Services,
  visit: NextVisit,
  detector: number,
): Promise<PreloadSummary> {
  const region = predictDetectorFootprint(visit, s.config.camera, detector);
  const prefix = preloadPrefix(visit.groupId, detector);
  const [template, snapshot, known] = await Promise.all([
    findTemplate(s, visit.filters, region),
    snapshotApdb(s.apdb, region),
    knownObjectsNear(s, region),
  ]);
  let prepared: PreparedImage | null = null;
  if (template) {
    const cut = cutOut(readExposureWithHeader(template.bytes, template.key).exposure, region);
    prepared = cut
      ? prepareCut(cut, `${template.key} for detector ${detector}`, s.config.pipeline.characterize)
      : null;
    if (prepared)
      await s.work.putIfAbsent(
        `${prefix}template.fits`,
        Buffer.from(writePreparedImage(prepared)),
        'application/fits',
      );
  }
  await s.work.putIfAbsent(
    `${prefix}apdb.json.gz`,
    gzipSync(JSON.stringify(snapshot)),
    'application/gzip',
  );
  await s.work.putIfAbsent(`${prefix}orbits.csv`, Buffer.from(formatOrbitsCsv(known)), 'text/csv');
  return {
    detector,
    template: prepared && template ? template.key : null,
    templateFwhmPx: prepared?.psfFwhmPx ?? null,
    diaObjects: snapshot.diaObjects.length,
    knownObjects: known.length,
  };
}

/**
 * The cut-out characterized as the pipeline would; null when it cannot be (no star, no data):
 * processImage then looks for the template itself and dead-letters the image with the reason.
 */
function prepareCut(
  cut: Exposure,
  what: string,
  config: CharacterizeOverrides,
): PreparedImage | null {
  try {
    return prepareTemplate(cut, config);
  } catch (err) {
    if (!(err instanceof PipelineInputError)) throw err;
    log('WARNING', 'template not preloaded', { template: what, reason: err.message });
    return null;
  }
}

export interface Preload {
  /** Prepared at preload (older preloads may hold the cut-out as read). */
  template: Exposure | PreparedImage | null;
  snapshot: ApdbSnapshot | null;
  /** The known objects preloaded for the detector (null: not preloaded). */
  knownObjects: OrbitCatalog | null;
}

/** The preload of a detector, or nulls for what was not preloaded. */
export async function loadPreload(
  s: Services,
  groupId: string,
  detector: number,
): Promise<Preload> {
  const prefix = preloadPrefix(groupId, detector);
  const [templateBytes, apdbBytes, orbitBytes] = await Promise.all([
    s.work.get(`${prefix}template.fits`),
    s.work.get(`${prefix}apdb.json.gz`),
    s.work.get(`${prefix}orbits.csv`),
  ]);
  return {
    knownObjects: orbitBytes
      ? new OrbitCatalog(parseOrbitsCsv(orbitBytes.toString('utf8'), `${prefix}orbits.csv`))
      : null,
    template: templateBytes
      ? readExposureOrPrepared(templateBytes, `${prefix}template.fits`)
      : null,
    snapshot: apdbBytes
      ? (JSON.parse(gunzipSync(apdbBytes).toString('utf8')) as ApdbSnapshot)
      : null,
  };
}

/**
 * Reads through a preload snapshot: DiaObjects are always read fresh (another visit may have
 * updated them since); history rows, which never change once written, come from the snapshot,
 * topped up with rows observed from a day before the snapshot on (visits processed since).
 */
export class PreloadedApdb implements Apdb {
  constructor(
    private readonly live: Apdb,
    private readonly snapshot: ApdbSnapshot,
  ) {}

  getDiaObjectsInRegion(cone: {
    ra: number;
    dec: number;
    radiusDeg: number;
  }): Promise<DiaObject[]> {
    return this.live.getDiaObjectsInRegion(cone);
  }

  private covered(ids: readonly number[]): { cached: Set<number>; rest: number[] } {
    const cached = new Set(this.snapshot.diaObjects.map((o) => o.diaObjectId));
    return { cached, rest: ids.filter((id) => !cached.has(id)) };
  }

  private async merge<T extends { diaObjectId: number | null; midpointMjdTai: number }>(
    ids: readonly number[],
    sinceMjd: number,
    rows: T[],
    idOf: (row: T) => number,
    read: (ids: readonly number[], since: number) => Promise<T[]>,
  ): Promise<T[]> {
    const { cached, rest } = this.covered(ids);
    const wanted = new Set(ids);
    // Rows stored after the snapshot belong to visits observed after (or within a day before) its newest row.
    const newest = rows.reduce((m, r) => Math.max(m, r.midpointMjdTai), -Infinity);
    const recentSince = Math.max(sinceMjd, Number.isFinite(newest) ? newest - 1 : sinceMjd);
    const [fresh, recent] = await Promise.all([
      read(rest, sinceMjd),
      read(
        [...cached].filter((id) => wanted.has(id)),
        recentSince,
      ),
    ]);
    const byId = new Map<number, T>();
    for (const row of rows) {
      if (row.diaObjectId !== null && wanted.has(row.diaObjectId) && row.midpointMjdTai >= sinceMjd)
        byId.set(idOf(row), row);
    }
    for (const row of [...fresh, ...recent]) byId.set(idOf(row), row);
    return [...byId.values()];
  }

  getDiaSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaSource[]> {
    return this.merge(
      ids,
      sinceMjd,
      this.snapshot.diaSources,
      (r) => r.diaSourceId,
      (i, s) => this.live.getDiaSourcesForObjects(i, s),
    );
  }

  getForcedSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaForcedSource[]> {
    return this.merge(
      ids,
      sinceMjd,
      this.snapshot.forcedSources,
      (r) => r.diaForcedSourceId,
      (i, s) => this.live.getForcedSourcesForObjects(i, s),
    );
  }

  hasVisit(visit: number, detector: number): Promise<boolean> {
    return this.live.hasVisit(visit, detector);
  }

  visitDigest(visit: number, detector: number): Promise<string | null | undefined> {
    return this.live.visitDigest(visit, detector);
  }

  storeVisit(batch: Parameters<Apdb['storeVisit']>[0]): Promise<boolean> {
    return this.live.storeVisit(batch);
  }

  async close(): Promise<void> {}
}
