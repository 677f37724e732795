/**
 * The science image's photometric zero point (AB magnitude of 1 ADU), which calibrates every
 * flux to nJy: the header's PHOTZP / MAGZERO when given, else the template's carried through
 * the PSF-matching kernel. The kernel sum k is science flux per template flux, so 1 science ADU
 * is 1/k template ADU, of magnitude ZP_t - 2.5 log10(1/k):
 *
 *     ZP_science = ZP_template + 2.5 log10(k)
 */
import { PipelineInputError } from './errors.js';

/** 'science header' (its cards), 'override' (--zero-point), a reference catalog, the template's through the kernel, or the configuration's calibration.zeroPoint. */
export type ZeroPointSource =
  'science header' | 'override' | 'reference catalog' | 'template calibration' | 'configuration';

export interface ZeroPoint {
  zeroPoint: number;
  source: ZeroPointSource;
  /** The cards or option it came from ('PHOTZP', 'BUNIT MJy/sr, PIXAR_SR', '--zero-point', 'template PHOTZP + 2.5 log10 KERNSUM'). */
  origin: string;
}

/** What is known of an image's zero point: its value (NaN when unknown) and where it came from. */
export interface ImageZeroPoint {
  zeroPoint: number;
  origin?: string;
}

export interface CalibrationConfig {
  /**
   * The zero point (AB magnitude of 1 image unit) used when the science header, the reference
   * catalog and the template give none: a deploy-time setting for a camera whose frames carry no
   * calibration. Default NaN: none (the image then fails, naming the options).
   */
  zeroPoint: number;
}

export const DEFAULT_CALIBRATION_CONFIG: CalibrationConfig = { zeroPoint: Number.NaN };

/** Where the configured zero point is set, as the error message and the record name it. */
export const CONFIGURED_ZERO_POINT = 'calibration.zeroPoint';

export interface ZeroPointFallbacks {
  /** The science image calibrated against a reference catalog (refcat.ts). */
  reference?: ImageZeroPoint | null;
  /** The configured zero point (calibration.zeroPoint); NaN or absent: none. */
  configured?: number;
}

/**
 * The science zero point: the science's own (an override such as --zero-point, or its header),
 * else a reference catalog's, else the template's through the kernel sum, else a configured one.
 * Throws PipelineInputError naming every way to give one when none is known (association needs nJy).
 */
export function resolveZeroPoint(
  science: ImageZeroPoint,
  template: ImageZeroPoint,
  kernelSum: number,
  fallbacks: ZeroPointFallbacks = {},
): ZeroPoint {
  if (Number.isFinite(science.zeroPoint)) {
    const origin = science.origin || 'science header';
    return {
      zeroPoint: science.zeroPoint,
      source: origin.startsWith('--') ? 'override' : 'science header',
      origin,
    };
  }
  const reference = fallbacks.reference;
  if (reference && Number.isFinite(reference.zeroPoint))
    return {
      zeroPoint: reference.zeroPoint,
      source: 'reference catalog',
      origin: reference.origin || 'reference catalog',
    };
  const fallback = fallbacks.configured ?? Number.NaN;
  if (Number.isFinite(template.zeroPoint) && kernelSum > 0) {
    return {
      zeroPoint: template.zeroPoint + 2.5 * Math.log10(kernelSum),
      source: 'template calibration',
      origin: `template ${template.origin || 'zero point'} + 2.5 log10 KERNSUM`,
    };
  }
  if (Number.isFinite(fallback))
    return { zeroPoint: fallback, source: 'configuration', origin: CONFIGURED_ZERO_POINT };
  throw new PipelineInputError(
    'pair',
    `no photometric zero point: give --zero-point MAG (AB magnitude of 1 image unit), a reference catalog of the footprint (--refcat FILE, CSV or FITS table; in the cloud the <prefix>-refcats bucket), a PHOTZP/MAGZERO/MAGZP card (or BUNIT MJy/sr with PIXAR_SR) in the science or the template header, or the configuration's ${CONFIGURED_ZERO_POINT} (--config FILE; in the cloud AP_PIPELINE_CONFIG)`,
  );
}
