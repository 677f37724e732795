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

const ENCODE_CUTOUTS = tasksOf<typeof import('./cutout-worker.js')>(
  siblingModule('./cutout-worker', import.meta.url).href,
)('encodeCutouts');

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

/** The science, template and difference cutouts of one source, before FITS encoding. */
function cutoutPartsOf(
  diaSource: DiaSourceRow,
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

/**
 * As buildAlerts (same alerts, byte for byte), with the cutouts' FITS encoding (RICE compression,
 * headers: two thirds of the time) on `pool`'s worker threads while this thread cuts the pixels
 * out; without workers, everything runs here. `sourcesPerTask`: sources per worker task, large
 * enough to amortise messaging, small enough to keep the threads busy together.
 */
export async function buildAlertsParallel(
  input: BuildAlertsInput,
  pool: WorkerPool | null,
  sourcesPerTask = 64,
): Promise<Alert[]> {
  const { cutouts } = input;
  if (!cutouts || !pool || pool.size === 0) return buildAlerts(input);
  const config = input.cutoutConfig ?? DEFAULT_CUTOUT_CONFIG;
  const sources = sortedSources(input);
  const tasks: Array<Promise<Uint8Array[]>> = [];
  for (let start = 0; start < sources.length; start += sourcesPerTask) {
    const parts = sources
      .slice(start, start + sourcesPerTask)
      .flatMap((s) => cutoutPartsOf(s, cutouts, config));
    tasks.push(pool.runTask(ENCODE_CUTOUTS, parts));
  }
  const files = (await Promise.all(tasks))
    .flat()
    .map((f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength));
  return sources.map((diaSource, i) =>
    alertOf(input, diaSource, files.slice(3 * i, 3 * i + 3) as CutoutTriplet),
  );
}
