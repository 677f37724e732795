/**
 * Robust one-dimensional statistics for sky estimation (medians from shared/util/stats):
 * iterative sigma clipping with SExtractor's mode estimator (Bertin & Arnouts 1996, A&AS 117, 393).
 */

import { medianInPlace } from '../util/stats.js';
import { erf, MAD_TO_SIGMA } from '../util/numeric.js';

export interface ClippedStats {
  /** Clipped mean. */
  mean: number;
  /** Clipped median. */
  median: number;
  /** Clipped standard deviation, corrected for the truncation of a Gaussian at +-clip sigma. */
  std: number;
  /** SExtractor's sky: the mode 2.5 median - 1.5 mean, or the median where |mean - median| > 0.3 std (crowded). */
  sky: number;
  /** Values kept after clipping. */
  n: number;
}

/** Histogram bins per initial sigma: clip edges and the median are resolved to sigma / BINS_PER_SIGMA. */
const BINS_PER_SIGMA = 50;
/** The histogram spans +-HIST_SIGMA initial sigma about the initial median. */
const HIST_SIGMA = 6;
/** Values drawn (regularly) for the starting median and MAD. */
const START_SAMPLE = 2048;
/** Histogram bins: +-HIST_SIGMA sigma at BINS_PER_SIGMA. */
const N_BINS = 2 * HIST_SIGMA * BINS_PER_SIGMA;
// Scratch reused by every call (this module's thread only; sigmaClip is synchronous): a 16 px mesh
// cell has 256 values, so allocating these per call cost more than the clipping itself.
// ceil(n / floor(n / START_SAMPLE)) < 2 START_SAMPLE values are drawn.
const scratchSample = new Float64Array(2 * START_SAMPLE);
const scratchCount = new Float64Array(N_BINS);
const scratchSum = new Float64Array(N_BINS);
const scratchSum2 = new Float64Array(N_BINS);

/**
 * Iterative sigma clipping about the median, as SExtractor iterates on a histogram of the
 * pixels: the median and MAD of a regular subsample set the start, then each
 * clipping pass works on a fine histogram holding exact per-bin sums, so the passes cost nothing.
 * A Gaussian truncated at +-k sigma has variance factor 1 - 2k phi(k)/(2 Phi(k) - 1); the std is corrected for it.
 * @example sigmaClip(Float32Array.from(pixels), pixels.length, 3, 5).sky
 */
export function sigmaClip(
  values: Float32Array | Float64Array,
  n: number,
  clip = 3,
  iterations = 5,
): ClippedStats {
  if (n === 0)
    return { mean: Number.NaN, median: Number.NaN, std: Number.NaN, sky: Number.NaN, n: 0 };
  // The start only sets the histogram's range and bins: a regular subsample of the values suffices.
  const stride = Math.max(1, Math.floor(n / START_SAMPLE));
  const sample = scratchSample;
  let m = 0;
  for (let i = 0; i < n; i += stride) sample[m++] = values[i];
  const med0 = medianInPlace(sample, m);
  for (let i = 0; i < m; i++) sample[i] = Math.abs(sample[i] - med0);
  const sigma0 = MAD_TO_SIGMA * medianInPlace(sample, m);
  if (!(sigma0 > 0)) return { mean: med0, median: med0, std: 0, sky: med0, n };
  const width = sigma0 / BINS_PER_SIGMA;
  const nb = N_BINS;
  const lo = med0 - HIST_SIGMA * sigma0;
  const count = scratchCount.fill(0);
  const sum = scratchSum.fill(0);
  const sum2 = scratchSum2.fill(0);
  const perBin = 1 / width;
  for (let i = 0; i < n; i++) {
    const d = values[i] - med0;
    const t = (values[i] - lo) * perBin;
    // Truncation is the floor on [0, nb); outside (or NaN) the value is not histogrammed.
    if (!(t >= 0 && t < nb)) continue;
    const b = t | 0;
    count[b]++;
    sum[b] += d;
    sum2[b] += d * d;
  }
  // Start from the median and MAD (robust against whatever lies outside the histogram).
  let centre = med0;
  let std = sigma0;
  let b0 = 0;
  let b1 = nb - 1;
  let result: ClippedStats = { mean: med0, median: med0, std: sigma0, sky: med0, n };
  for (let it = 0; it < iterations; it++) {
    const nb0 = Math.max(0, Math.floor((centre - clip * std - lo) / width));
    const nb1 = Math.min(nb - 1, Math.floor((centre + clip * std - lo) / width));
    if (it > 0 && nb0 === b0 && nb1 === b1) break;
    b0 = nb0;
    b1 = nb1;
    let c = 0;
    let s = 0;
    let s2 = 0;
    for (let b = b0; b <= b1; b++) {
      c += count[b];
      s += sum[b];
      s2 += sum2[b];
    }
    if (c < 2) break;
    const mean = med0 + s / c;
    std = Math.sqrt(Math.max(0, s2 / c - (s / c) ** 2)) / truncationFactor(clip);
    // Median: the bin holding half the kept count, interpolated linearly within it.
    let acc = 0;
    let median = mean;
    for (let b = b0; b <= b1; b++) {
      if (acc + count[b] >= c / 2) {
        median = lo + (b + (c / 2 - acc) / count[b]) * width;
        break;
      }
      acc += count[b];
    }
    centre = median;
    const crowded = Math.abs(mean - median) > 0.3 * std;
    result = { mean, median, std, sky: crowded ? median : 2.5 * median - 1.5 * mean, n: c };
  }
  return result;
}

/** sqrt of the variance of a unit Gaussian truncated at +-k. */
function truncationFactor(k: number): number {
  const phi = Math.exp(-0.5 * k * k) / Math.sqrt(2 * Math.PI);
  const mass = erf(k / Math.SQRT2);
  return Math.sqrt(1 - (2 * k * phi) / mass);
}
