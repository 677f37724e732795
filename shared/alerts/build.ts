/**
 * Alerts of one (visit, detector): one per new DiaSource, with its updated DiaObject, the
 * object's DiaSources and DiaForcedSources of the history window, and cutouts.
 *
 * Input is the association result (shared/association/associate.ts): its DiaSource rows are
 * already calibrated to nJy from the science image's zero point and carry `reliability` with
 * `reliabilityModel` (the real/bogus model's name and version, a documented extension field of
 * diaSource), so alerts of different visits and cameras compare directly.
 * @example
 *   const result = await associateVisit(apdb, { visit, records, footprint, timeProcessedMjdTai, reliabilityModel: 'rb-cnn 1.2' });
 *   const alerts = buildAlerts({ association: result, cutouts: { science, template, difference, differencePsf } });
 */
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import type { AssociationResult } from '../association/associate.js';
import { WorkerPool } from '../util/worker-pool.js';
import { siblingModule } from '../util/worker.js';
import {
  cutoutFits,
  cutoutParts,
  cutoutSize,
  DEFAULT_CUTOUT_CONFIG,
  type CutoutConfig,
  type CutoutParts,
} from './cutouts.js';
import type { Alert } from './types.js';
import { tasksOf } from '../util/pool-task.js';
import { encodeClaimedCutouts } from './cutout-worker.js';

const ENCODE_CLAIMED_CUTOUTS = tasksOf<typeof import('./cutout-worker.js')>(
  siblingModule('./cutout-worker', import.meta.url).href,
)('encodeClaimedCutouts');

/** Images the cutouts are cut from, all on the science image's pixel grid. */
export interface CutoutSources {
  science: Exposure;
  /** The template warped (and PSF-matched) onto the science grid. */
  template: Exposure;
  difference: Exposure;
  /** PSF of the difference image (default: difference.psf). */
  differencePsf?: Psf | null;
}

export interface BuildAlertsInput {
  association: Pick<
    AssociationResult,
    'batch' | 'diaObjects' | 'prvDiaSources' | 'prvDiaForcedSources'
  > &
    Partial<Pick<AssociationResult, 'knownObjectMatches'>>;
  /** Omit for alerts without cutouts. */
  cutouts?: CutoutSources | null;
  /** Scheduler reason and target of the visit (RTN-097), when known. */
  observationReason?: string | null;
  targetName?: string | null;
  cutoutConfig?: CutoutConfig;
}

type DiaSourceRow = BuildAlertsInput['association']['batch']['diaSources'][number];
type CutoutTriplet = [science: Buffer, template: Buffer, difference: Buffer];

/** The fields of a DiaSource row that its cutouts are made from (all fixed at detection). */
const CUTOUT_FIELDS = [
  'diaSourceId',
  'visit',
  'detector',
  'midpointMjdTai',
  'band',
  'x',
  'y',
  'bboxSize',
] as const satisfies ReadonlyArray<keyof DiaSourceRow>;

/** A DiaSource row as far as its cutouts go (CUTOUT_FIELDS). */
export type CutoutRow = Pick<DiaSourceRow, (typeof CUTOUT_FIELDS)[number]>;

/** The science, template and difference cutouts of one source, before FITS encoding. */
function cutoutPartsOf(
  diaSource: CutoutRow,
  cutouts: CutoutSources,
  config: CutoutConfig,
): [CutoutParts, CutoutParts, CutoutParts] {
  const size = cutoutSize(diaSource.bboxSize, config);
  const cards = {
    DIASRCID: diaSource.diaSourceId,
    VISIT: diaSource.visit,
    DETECTOR: diaSource.detector,
    'MJD-OBS': diaSource.midpointMjdTai,
    ...(diaSource.band ? { FILTER: diaSource.band } : {}),
  };
  const { x, y } = diaSource;
  return [
    cutoutParts(cutouts.science, x, y, size, cutouts.science.psf, { ...cards, CUTOUT: 'science' }),
    cutoutParts(cutouts.template, x, y, size, cutouts.template.psf, {
      ...cards,
      CUTOUT: 'template',
    }),
    cutoutParts(cutouts.difference, x, y, size, cutouts.differencePsf ?? cutouts.difference.psf, {
      ...cards,
      CUTOUT: 'difference',
    }),
  ];
}

function alertOf(
  input: BuildAlertsInput,
  diaSource: DiaSourceRow,
  cutouts: CutoutTriplet | null,
): Alert {
  const { association } = input;
  const objectId = diaSource.diaObjectId;
  return {
    diaSourceId: diaSource.diaSourceId,
    observation_reason: input.observationReason ?? null,
    target_name: input.targetName ?? null,
    diaSource,
    prvDiaSources: objectId === null ? null : (association.prvDiaSources.get(objectId) ?? []),
    prvDiaForcedSources:
      objectId === null ? null : (association.prvDiaForcedSources.get(objectId) ?? []),
    diaObject: objectId === null ? null : (association.diaObjects.get(objectId) ?? null),
    ssSource: association.knownObjectMatches?.get(diaSource.diaSourceId)?.ssSource ?? null,
    mpc_orbits: association.knownObjectMatches?.get(diaSource.diaSourceId)?.mpc_orbits ?? null,
    cutoutScience: cutouts?.[0] ?? null,
    cutoutTemplate: cutouts?.[1] ?? null,
    cutoutDifference: cutouts?.[2] ?? null,
  };
}

function sortedSources(input: BuildAlertsInput): DiaSourceRow[] {
  return [...input.association.batch.diaSources].sort((a, b) => a.diaSourceId - b.diaSourceId);
}

/** The alerts of a visit, in diaSourceId order. */
export function buildAlerts(input: BuildAlertsInput): Alert[] {
  const { cutouts } = input;
  const config = input.cutoutConfig ?? DEFAULT_CUTOUT_CONFIG;
  return sortedSources(input).map((diaSource) =>
    alertOf(
      input,
      diaSource,
      cutouts ? (cutoutPartsOf(diaSource, cutouts, config).map(cutoutFits) as CutoutTriplet) : null,
    ),
  );
}

/** Cutouts being encoded ahead of the alerts (startCutouts). */
export interface PendingCutouts {
  /** The rows they were cut for, by diaSourceId. */
  rows: Map<number, CutoutRow>;
  /** Encodes here the chunks no worker has claimed yet, then takes the workers': the FITS files by diaSourceId. */
  finish(): Promise<Map<number, CutoutTriplet>>;
}

/**
 * Cuts the cutouts of `rows` out here and starts their FITS encoding (RICE compression, headers:
 * two thirds of the time) on `pool`'s workers, which claim chunks of `sourcesPerTask` sources
 * from a shared counter while this thread goes on (e.g. scoring and association: the cutouts
 * depend on detection alone); `finish` claims and encodes the rest here, so no thread waits on a
 * fixed share. `sourcesPerTask`: large enough to amortise messaging, small enough to balance.
 */
export function startCutouts(
  rows: readonly CutoutRow[],
  cutouts: CutoutSources,
  pool: WorkerPool,
  config: CutoutConfig = DEFAULT_CUTOUT_CONFIG,
  sourcesPerTask = 16,
): PendingCutouts {
  const chunks: CutoutParts[][] = [];
  for (let start = 0; start < rows.length; start += sourcesPerTask)
    chunks.push(
      rows.slice(start, start + sourcesPerTask).flatMap((r) => cutoutPartsOf(r, cutouts, config)),
    );
  const claim = new Int32Array(new SharedArrayBuffer(4));
  const remote = Array.from({ length: pool.size }, () =>
    pool.runTask(ENCODE_CLAIMED_CUTOUTS, { chunks, claim }),
  );
  // Handled here too: an abandoned start (the pipeline failed before its alerts) must not crash.
  for (const r of remote) r.catch(() => undefined);
  return {
    rows: new Map(rows.map((r) => [r.diaSourceId, r])),
    async finish() {
      const encoded = encodeClaimedCutouts({ chunks, claim });
      for (const done of await Promise.all(remote)) encoded.push(...done);
      const byId = new Map<number, CutoutTriplet>();
      for (const [index, files] of encoded)
        for (let k = 0; k < files.length; k += 3)
          byId.set(
            rows[index * sourcesPerTask + k / 3].diaSourceId,
            files
              .slice(k, k + 3)
              .map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength)) as CutoutTriplet,
          );
      return byId;
    },
  };
}

/**
 * As buildAlerts (same alerts, byte for byte), with the cutouts encoded on `pool`'s workers and
 * this thread (startCutouts), or taken from `ahead` when they were started earlier: a source whose
 * row differs from the one its cutouts were cut for (or that was not cut) is cut again here.
 * Without workers, everything runs here.
 */
export async function buildAlertsParallel(
  input: BuildAlertsInput,
  pool: WorkerPool | null,
  sourcesPerTask = 16,
  ahead: PendingCutouts | null = null,
): Promise<Alert[]> {
  const { cutouts } = input;
  if (!cutouts || !pool || pool.size === 0) return buildAlerts(input);
  const config = input.cutoutConfig ?? DEFAULT_CUTOUT_CONFIG;
  const sources = sortedSources(input);
  const pending = ahead ?? startCutouts(sources, cutouts, pool, config, sourcesPerTask);
  const files = await pending.finish();
  return sources.map((diaSource) => {
    const cut = pending.rows.get(diaSource.diaSourceId);
    const same = cut !== undefined && CUTOUT_FIELDS.every((k) => Object.is(cut[k], diaSource[k]));
    const triplet = same ? files.get(diaSource.diaSourceId) : undefined;
    return alertOf(
      input,
      diaSource,
      triplet ?? (cutoutPartsOf(diaSource, cutouts, config).map(cutoutFits) as CutoutTriplet),
    );
  });
}
