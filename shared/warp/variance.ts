import type { NoiseLags } from '../image/exposure.js';
import type { WarpResult } from './warp.js';

/** X(0) = x[0] + 2 sum_d x[d]: the large-scale noise power along one axis over lag 0's. */
const atZero = (lags: readonly number[]): number =>
  lags.reduce((s, v, d) => s + (d ? 2 : 1) * v, 0);

/**
 * Lanczos resampling leaves sum(w^2) * variance in each pixel, the per-pixel noise of correlated
 * output; on the scales of a PSF the noise keeps the input level. PSF matching and decorrelation
 * need the latter, so this rescales the warped variance plane to it, in place: each pixel is
 * multiplied by its cell's large-scale factor X(0) Y(0) (about 1 / covarianceFactor; see the
 * exposure's noiseCorrelation, which warpExposure sets), and the cell's lags divided by it, so that
 * plane x lags still give the noise covariance, now with X(0) = Y(0) = 1. Without a noise model the
 * plane is divided by covarianceFactor.
 */
export function rescaleVarianceToPsfScales(warped: WarpResult): void {
  const e = warped.exposure,
    v = e.variance,
    model = e.noiseCorrelation;
  if (!model) {
    const factor = warped.covarianceFactor > 0 ? warped.covarianceFactor : 1;
    if (factor === 1) return;
    for (let y = 0; y < v.height; y++) {
      const row = v.row(y);
      for (let x = 0; x < v.width; x++) row[x] /= factor;
    }
    return;
  }
  const gains = model.cells.map((l) => atZero(l.x) * atZero(l.y));
  // Cell i spans columns [from(i), from(i + 1)) of the plane, the edge cells reaching to its borders.
  const from = (i: number) =>
    i <= 0
      ? 0
      : i >= model.nx
        ? v.width
        : Math.min(v.width, Math.max(0, model.x0 + i * model.cellSize - v.x0));
  for (let y = 0; y < v.height; y++) {
    const row = v.row(y);
    const j = Math.min(
      model.ny - 1,
      Math.max(0, Math.floor((y + v.y0 - model.y0) / model.cellSize)),
    );
    for (let i = 0; i < model.nx; i++) {
      const g = gains[j * model.nx + i];
      for (let x = from(i), end = from(i + 1); x < end; x++) row[x] *= g;
    }
  }
  const unit = (l: NoiseLags): NoiseLags => {
    const gx = atZero(l.x),
      gy = atZero(l.y);
    return { x: l.x.map((r) => r / gx), y: l.y.map((r) => r / gy) };
  };
  e.noiseCorrelation = { ...model, cells: model.cells.map(unit) };
}
