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
import { cutoutSize, makeCutout, DEFAULT_CUTOUT_CONFIG, type CutoutConfig } from './cutouts.js';
import type { Alert } from './types.js';

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
  >;
  /** Omit for alerts without cutouts. */
  cutouts?: CutoutSources | null;
  /** Scheduler reason and target of the visit (RTN-097), when known. */
  observationReason?: string | null;
  targetName?: string | null;
  cutoutConfig?: CutoutConfig;
}

/** The alerts of a visit, in diaSourceId order. */
export function buildAlerts(input: BuildAlertsInput): Alert[] {
  const { association, cutouts } = input;
  const config = input.cutoutConfig ?? DEFAULT_CUTOUT_CONFIG;
  const sources = [...association.batch.diaSources].sort((a, b) => a.diaSourceId - b.diaSourceId);
  return sources.map((diaSource) => {
    const objectId = diaSource.diaObjectId;
    let cutoutDifference: Buffer | null = null;
    let cutoutScience: Buffer | null = null;
    let cutoutTemplate: Buffer | null = null;
    if (cutouts) {
      const size = cutoutSize(diaSource.bboxSize, config);
      const cards = {
        DIASRCID: diaSource.diaSourceId,
        VISIT: diaSource.visit,
        DETECTOR: diaSource.detector,
        'MJD-OBS': diaSource.midpointMjdTai,
        ...(diaSource.band ? { FILTER: diaSource.band } : {}),
      };
      const { x, y } = diaSource;
      cutoutScience = makeCutout(cutouts.science, x, y, size, cutouts.science.psf, {
        ...cards,
        CUTOUT: 'science',
      });
      cutoutTemplate = makeCutout(cutouts.template, x, y, size, cutouts.template.psf, {
        ...cards,
        CUTOUT: 'template',
      });
      const psf = cutouts.differencePsf ?? cutouts.difference.psf;
      cutoutDifference = makeCutout(cutouts.difference, x, y, size, psf, {
        ...cards,
        CUTOUT: 'difference',
      });
    }
    return {
      diaSourceId: diaSource.diaSourceId,
      observation_reason: input.observationReason ?? null,
      target_name: input.targetName ?? null,
      diaSource,
      prvDiaSources: objectId === null ? null : (association.prvDiaSources.get(objectId) ?? []),
      prvDiaForcedSources:
        objectId === null ? null : (association.prvDiaForcedSources.get(objectId) ?? []),
      diaObject: objectId === null ? null : (association.diaObjects.get(objectId) ?? null),
      ssSource: null,
      mpc_orbits: null,
      cutoutDifference,
      cutoutScience,
      cutoutTemplate,
    };
  });
}
