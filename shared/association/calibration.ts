/**
 * Photometric calibration to nJy and DiaSourceRecord -> APDB DiaSource rows.
 *
 * AB magnitudes (Oke & Gunn 1983, ApJ 266, 713): m = -2.5 log10(f / 3631 Jy), so 1 nJy is
 * m = 31.4. With a zero point ZP = AB magnitude of 1 ADU, flux_nJy = flux_ADU * 10^(-0.4 (ZP - 31.4)).
 */
import type { DiaSourceRecord } from '../detect/types.js';
import type { VisitInfo } from '../image/visit-info.js';
import type { DiaSource } from '../apdb/types.js';
import { sourceId } from '../apdb/ids.js';

/** AB magnitude of a 1 nJy source. */
export const AB_MAG_OF_1_NJY = 31.4;

/** nJy per ADU for an image whose zero point (AB mag of 1 ADU) is `zeroPoint`. */
export function nanojanskyPerAdu(zeroPoint: number): number {
  if (!Number.isFinite(zeroPoint))
    throw new RangeError(`photometric zero point ${zeroPoint} is not a finite AB magnitude`);
  return 10 ** (-0.4 * (zeroPoint - AB_MAG_OF_1_NJY));
}

/** A finite number, else null (Avro's "unknown"). */
export function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

export interface CalibrationOptions {
  /** When these rows were made, MJD TAI. */
  timeProcessedMjdTai: number;
  /** Name and version of the real/bogus model that set `reliability`, or null. */
  reliabilityModel: string | null;
  /** Effective configuration hash and code version that made these rows (null: not recorded). */
  configHash?: string | null;
  codeVersion?: string | null;
  /** Version id (TMPLID) of the template differenced against (null: the template has none). */
  templateVersion?: string | null;
  /** Science-image pixel scale, arcsec/pixel (converts moments and dipole lengths); NaN if unknown. */
  pixelScaleArcsec: number;
}

/**
 * Calibrated DiaSource rows of one (visit, detector), ids from (visit, detector, record.index),
 * diaObjectId still null (association fills it).
 */
export function toDiaSources(
  records: readonly DiaSourceRecord[],
  visit: VisitInfo,
  options: CalibrationOptions,
): DiaSource[] {
  const scale = nanojanskyPerAdu(visit.zeroPoint);
  const nJy = (adu: number): number | null => finiteOrNull(adu * scale);
  const px2 = options.pixelScaleArcsec ** 2;
  return records.map((r) => ({
    diaSourceId: sourceId(visit.visit, visit.detector, r.index),
    visit: visit.visit,
    detector: visit.detector,
    diaObjectId: null,
    ssObjectId: null,
    parentDiaSourceId: null,
    midpointMjdTai: visit.mjd,
    ra: r.ra,
    raErr: finiteOrNull(r.raErr),
    dec: r.dec,
    decErr: finiteOrNull(r.decErr),
    ra_dec_Cov: null,
    x: r.x,
    xErr: finiteOrNull(r.xErr),
    y: r.y,
    yErr: finiteOrNull(r.yErr),
    centroid_flag: r.flags.measurementFailed,
    apFlux: nJy(r.apFlux),
    apFluxErr: nJy(r.apFluxErr),
    isNegative: r.isNegative,
    snr: finiteOrNull(r.snr),
    psfFlux: nJy(r.psfFlux),
    psfFluxErr: nJy(r.psfFluxErr),
    psfNdata: r.psfNdata,
    psfFlux_flag: r.flags.measurementFailed,
    trailNdata: 0,
    dipoleMeanFlux: r.isDipole ? nJy(r.dipoleMeanFlux) : null,
    dipoleFluxDiff: r.isDipole ? nJy(r.dipoleFluxDiff) : null,
    dipoleLength: r.isDipole ? finiteOrNull(r.dipoleSep * options.pixelScaleArcsec) : null,
    dipoleAngle: r.isDipole ? finiteOrNull(r.dipoleAngle) : null,
    dipoleNdata: 0,
    scienceFlux: nJy(r.scienceFlux),
    scienceFluxErr: nJy(r.scienceFluxErr),
    templateFlux: nJy(r.templateFlux),
    templateFluxErr: nJy(r.templateFluxErr),
    ixx: finiteOrNull(r.ixx * px2),
    iyy: finiteOrNull(r.iyy * px2),
    ixy: finiteOrNull(r.ixy * px2),
    reliability: finiteOrNull(r.reliability),
    reliabilityModel: options.reliabilityModel,
    configHash: options.configHash ?? null,
    codeVersion: options.codeVersion ?? null,
    templateVersion: options.templateVersion ?? null,
    band: visit.band || null,
    isDipole: r.isDipole,
    dipoleFitAttempted: r.isDipole,
    timeProcessedMjdTai: options.timeProcessedMjdTai,
    bboxSize: r.bboxSize,
    pixelFlags: r.flags.measurementFailed,
    pixelFlags_bad: r.flags.bad,
    pixelFlags_cr: r.flags.cr,
    pixelFlags_crCenter: r.flags.crCenter,
    pixelFlags_edge: r.flags.edge,
    pixelFlags_interpolated: r.flags.interpolated,
    pixelFlags_interpolatedCenter: r.flags.interpolatedCenter,
    pixelFlags_saturated: r.flags.saturated,
    pixelFlags_saturatedCenter: r.flags.saturatedCenter,
    pixelFlags_suspectCenter: r.flags.suspectCenter,
  }));
}
