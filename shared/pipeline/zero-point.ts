/**
 * The science image's photometric zero point (AB magnitude of 1 ADU), which calibrates every
 * flux to nJy: the header's PHOTZP / MAGZERO when given, else the template's carried through
 * the PSF-matching kernel. The kernel sum k is science flux per template flux, so 1 science ADU
 * is 1/k template ADU, of magnitude ZP_t - 2.5 log10(1/k):
 *
 *     ZP_science = ZP_template + 2.5 log10(k)
 */
import { PipelineInputError } from './errors.js';

export type ZeroPointSource = 'science header' | 'template calibration';

export interface ZeroPoint {
  zeroPoint: number;
  source: ZeroPointSource;
}

/** Throws PipelineInputError when neither image is calibrated (association needs nJy). */
export function resolveZeroPoint(scienceZeroPoint: number, templateZeroPoint: number, kernelSum: number): ZeroPoint {
  if (Number.isFinite(scienceZeroPoint)) return { zeroPoint: scienceZeroPoint, source: 'science header' };
  if (Number.isFinite(templateZeroPoint) && kernelSum > 0) {
    return { zeroPoint: templateZeroPoint + 2.5 * Math.log10(kernelSum), source: 'template calibration' };
  }
  throw new PipelineInputError('pair', 'no photometric zero point: neither the science nor the template header has PHOTZP or MAGZERO');
}
