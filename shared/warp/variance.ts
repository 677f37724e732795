import type { WarpResult } from './warp.js';

/**
 * Lanczos resampling leaves sum(w^2) * variance in each pixel, the per-pixel noise of correlated
 * output; on the scales of a PSF the noise keeps the input level. PSF matching and decorrelation
 * need the latter, so this divides the warped variance plane by the covariance factor, in place.
 */
export function rescaleVarianceToPsfScales(warped: WarpResult): void {
  const factor = warped.covarianceFactor > 0 ? warped.covarianceFactor : 1;
  if (factor === 1) return;
  const v = warped.exposure.variance;
  for (let y = 0; y < v.height; y++) {
    const row = v.row(y);
    for (let x = 0; x < v.width; x++) row[x] /= factor;
  }
}
