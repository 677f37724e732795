/**
 * The noise correlation Lanczos resampling leaves in a warped image. Output pixel
 * y = sum_k w_k(f) x_k of white input x (sub-pixel phase f) has, along one axis, the covariance at lag d
 * R_f(d) = sigma^2 sum_k w_k w_{k+d}, i.e. the power spectrum sigma^2 |W_f(u)|^2 of the kernel's transfer
 * function W_f (separable: x and y taps are independent). A warp's phases drift across the image, so
 * the noise of a region has the average of R_f over the phases used there: the resampler keeps a
 * histogram of phases per cell of CELL_SIZE pixels. Input noise that was already correlated (covariance
 * sigma^2 c(d)) leaves sum_k sum_l w_k w_l c(d + l - k) = (R_f * c)(d): the lags convolve.
 */
import type { NoiseCorrelation, NoiseLags } from '../image/exposure.js';
import type { LanczosTable } from './lanczos.js';

/** Phase bins of the histograms the resampler keeps (`phaseBin`). */
export const PHASE_BINS = 64;
/** Side of the cells over which phases are averaged, output pixels. */
export const CELL_SIZE = 128;

/** The histogram bin of a tabulated phase index p in [0, phases). */
export function phaseBin(p: number, phases: number): number {
  return Math.min(PHASE_BINS - 1, Math.floor((p * PHASE_BINS) / phases));
}

/** Mean over a histogram's phases (bin centres) of the taps' autocorrelation sum_k w_k w_{k+d}, d = 0 .. taps-1. */
export function meanTapAutocorrelation(
  table: LanczosTable,
  histogram: ArrayLike<number>,
  offset = 0,
): number[] {
  const w = new Float64Array(table.taps);
  const r = new Array<number>(table.taps).fill(0);
  let total = 0;
  for (let b = 0; b < PHASE_BINS; b++) {
    const count = histogram[offset + b];
    if (!count) continue;
    table.weights((b + 0.5) / PHASE_BINS, w);
    for (let d = 0; d < table.taps; d++) {
      let s = 0;
      for (let k = 0; k + d < table.taps; k++) s += w[k] * w[k + d];
      r[d] += count * s;
    }
    total += count;
  }
  return total > 0 ? r.map((v) => v / total) : [];
}

/**
 * The warped exposure's NoiseCorrelation from per-cell phase histograms (PHASE_BINS per cell,
 * cells row-major over nx x ny): its variance plane holds each pixel's variance, so each cell's lags
 * are scaled to 1 at lag 0. Cells without covered pixels take the whole image's phases.
 */
export function resampledNoiseCorrelation(
  table: LanczosTable,
  grid: { x0: number; y0: number; nx: number; ny: number },
  phasesX: Float64Array,
  phasesY: Float64Array,
  input: NoiseCorrelation | null = null,
): NoiseCorrelation {
  const total = (h: Float64Array) => {
    const t = new Float64Array(PHASE_BINS);
    for (let i = 0; i < h.length; i++) t[i % PHASE_BINS] += h[i];
    return t;
  };
  // The input's correlation (averaged over its cells) convolves each cell's; white input leaves the taps' alone.
  const inputLags = input && meanLags(input);
  const unit = (r: number[], axis: 'x' | 'y') => {
    const lags = r.map((v) => v / r[0]);
    return inputLags ? convolveLags(lags, inputLags[axis]) : lags;
  };
  const allX = unit(meanTapAutocorrelation(table, total(phasesX)), 'x'),
    allY = unit(meanTapAutocorrelation(table, total(phasesY)), 'y');
  const cells: NoiseLags[] = [];
  for (let c = 0; c < grid.nx * grid.ny; c++) {
    const rx = meanTapAutocorrelation(table, phasesX, c * PHASE_BINS),
      ry = meanTapAutocorrelation(table, phasesY, c * PHASE_BINS);
    cells.push({ x: rx.length ? unit(rx, 'x') : allX, y: ry.length ? unit(ry, 'y') : allY });
  }
  return { ...grid, cellSize: CELL_SIZE, cells };
}

/** Lags of the convolution of two symmetric lag sequences: (r * c)(d) = sum_m r[|m|] c[|d - m|], d = 0 .. r.length + c.length - 2. */
export function convolveLags(r: readonly number[], c: readonly number[]): number[] {
  const at = (a: readonly number[], k: number) => a[Math.abs(k)] ?? 0;
  return Array.from({ length: r.length + c.length - 1 }, (_, d) => {
    let s = 0;
    for (let m = 1 - r.length; m < r.length; m++) s += at(r, m) * at(c, d - m);
    return s;
  });
}

/** A model's lags averaged over its cells. */
function meanLags(model: NoiseCorrelation): NoiseLags {
  const mean = (axis: 'x' | 'y') => {
    const out = new Array<number>(Math.max(...model.cells.map((l) => l[axis].length))).fill(0);
    for (const l of model.cells) l[axis].forEach((v, d) => (out[d] += v / model.cells.length));
    return out;
  };
  return { x: mean('x'), y: mean('y') };
}
