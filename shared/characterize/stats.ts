/**
 * Robust one-dimensional statistics for sky estimation (medians from shared/util/stats):
 * iterative sigma clipping with SExtractor's mode estimator (Bertin & Arnouts 1996, A&AS 117, 393).
 */

import { medianInPlace, selectInPlace } from '../util/stats.js';
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
const scratchHist = new Float64Array(3 * N_BINS);
/** Drawn values whose quartiles place binnedMedian's bins. */
const PILOT = 64;
/** Fewer drawn values than this take medianInPlace (the pilot would cost more than it saves). */
const MIN_BINNED = 4 * PILOT;
/** binnedMedian's bins per pilot sigma, over +-SELECT_SIGMA pilot sigma. */
const SELECT_BINS_PER_SIGMA = 16;
const SELECT_SIGMA = 4;
const SELECT_BINS = 2 * SELECT_SIGMA * SELECT_BINS_PER_SIGMA;
const scratchPilot = new Float64Array(PILOT);
// Each drawn value's bin: 0 below the bins, 1..SELECT_BINS inside, SELECT_BINS + 1 above, + 2 NaN.
const scratchBin = new Uint8Array(2 * START_SAMPLE);
const scratchBinCount = new Int32Array(SELECT_BINS + 3);
// binnedMedian's drawn values (or deviations), as doubles.
const scratchDrawn = new Float64Array(2 * START_SAMPLE);

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
  const start = binnedStart(values, n, stride) ?? selectedStart(values, n, stride);
  const [med0, sigma0] = start;
  if (!(sigma0 > 0)) return { mean: med0, median: med0, std: 0, sky: med0, n };
  const width = sigma0 / BINS_PER_SIGMA;
  const nb = N_BINS;
  const lo = med0 - HIST_SIGMA * sigma0;
  // Per bin: the count, the sum of deviations from med0 and of their squares, side by side (one cache line a value).
  const hist = scratchHist.fill(0);
  const perBin = 1 / width;
  for (let i = 0; i < n; i++) {
    const d = values[i] - med0;
    const t = (values[i] - lo) * perBin;
    // Truncation is the floor on [0, nb); outside (or NaN) the value is not histogrammed.
    if (!(t >= 0 && t < nb)) continue;
    const b = 3 * (t | 0);
    hist[b]++;
    hist[b + 1] += d;
    hist[b + 2] += d * d;
  }
  const trunc = truncationFactor(clip);
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
      c += hist[3 * b];
      s += hist[3 * b + 1];
      s2 += hist[3 * b + 2];
    }
    if (c < 2) break;
    const mean = med0 + s / c;
    std = Math.sqrt(Math.max(0, s2 / c - (s / c) ** 2)) / trunc;
    // Median: the bin holding half the kept count, interpolated linearly within it.
    let acc = 0;
    let median = mean;
    for (let b = b0; b <= b1; b++) {
      const cb = hist[3 * b];
      if (acc + cb >= c / 2) {
        median = lo + (b + (c / 2 - acc) / cb) * width;
        break;
      }
      acc += cb;
    }
    centre = median;
    const crowded = Math.abs(mean - median) > 0.3 * std;
    result = { mean, median, std, sky: crowded ? median : 2.5 * median - 1.5 * mean, n: c };
  }
  return result;
}

/** The median and MAD_TO_SIGMA x MAD of the values drawn at `stride` from the first n, by two quickselects. */
function selectedStart(values: Float32Array | Float64Array, n: number, stride: number): number[] {
  const sample = scratchSample;
  let m = 0;
  for (let i = 0; i < n; i += stride) sample[m++] = values[i];
  const med0 = medianInPlace(sample, m);
  for (let i = 0; i < m; i++) sample[i] = Math.abs(sample[i] - med0);
  return [med0, MAD_TO_SIGMA * medianInPlace(sample, m)];
}

/**
 * selectedStart's values, found by counting the drawn values (then their deviations from the
 * median) in bins and selecting only within the bin(s) holding the middle rank(s): passes whose
 * branches predict well instead of quickselect's. The bins are placed by the quartiles of PILOT
 * values; null (take selectedStart) when the middle ranks fall outside them or a value is NaN.
 */
function binnedStart(
  values: Float32Array | Float64Array,
  n: number,
  stride: number,
): number[] | null {
  const m = Math.ceil(n / stride);
  if (m < MIN_BINNED) return null;
  const pilot = scratchPilot;
  const step = stride * Math.floor(m / PILOT);
  for (let j = 0; j < PILOT; j++) pilot[j] = values[j * step];
  const q1 = selectInPlace(pilot, PILOT >> 2);
  const q3 = selectInPlace(pilot, (3 * PILOT) >> 2);
  // Half the interquartile range is the MAD of a symmetric distribution.
  const sigma = 0.5 * MAD_TO_SIGMA * (q3 - q1);
  const width = sigma / SELECT_BINS_PER_SIGMA;
  if (!(width > 0)) return null;
  const lo = selectInPlace(pilot, PILOT >> 1) - SELECT_SIGMA * sigma;
  const med0 = binnedMedian(values, n, stride, Number.NaN, lo, width);
  // |deviations| have their median near 0.67 sigma: as many bins, half as wide, from 0.
  const mad = Number.isNaN(med0) ? med0 : binnedMedian(values, n, stride, med0, 0, 0.5 * width);
  return Number.isNaN(mad) ? null : [med0, MAD_TO_SIGMA * mad];
}

/**
 * medianInPlace of the values drawn at `stride` from the first n (of their |deviations| from
 * `centre` unless it is NaN), counted in SELECT_BINS bins of `width` from `lo`: only the values of
 * the bin(s) holding the middle rank(s) are selected in, as a bin's values all lie below the next
 * bin's. NaN when those ranks fall outside the bins or a value is NaN.
 */
function binnedMedian(
  values: Float32Array | Float64Array,
  n: number,
  stride: number,
  centre: number,
  lo: number,
  width: number,
): number {
  const bins = scratchBin;
  const count = scratchBinCount.fill(0);
  // The values drawn (or their |deviations| from `centre`), kept for the selection below.
  const drawn = scratchDrawn;
  let m = 0;
  if (Number.isNaN(centre)) for (let i = 0; i < n; i += stride) drawn[m++] = values[i];
  else for (let i = 0; i < n; i += stride) drawn[m++] = Math.abs(values[i] - centre);
  const perBin = 1 / width;
  const above = SELECT_BINS + 1;
  for (let j = 0; j < m; j++) {
    const t = (drawn[j] - lo) * perBin;
    const b = t >= 0 ? (t < SELECT_BINS ? (t | 0) + 1 : above) : t < 0 ? 0 : above + 1;
    bins[j] = b;
    count[b]++;
  }
  if (count[above + 1] > 0) return Number.NaN;
  // Rank k (and k - 1 for even m, the median being their mean): the bins holding them.
  const k = m >> 1;
  let high = 0;
  let below = 0;
  while (below + count[high] <= k) below += count[high++];
  let low = high;
  if (m % 2 === 0 && below === k) {
    do low--;
    while (count[low] === 0);
    below -= count[low];
  }
  if (low === 0 || high === above) return Number.NaN;
  const near = scratchSample;
  let g = 0;
  // Every value is written, the count advanced only for those in [low, high] (no branch to mispredict).
  for (let j = 0; j < m; j++) {
    near[g] = drawn[j];
    g += (((bins[j] - low) | (high - bins[j])) >>> 31) ^ 1;
  }
  const upper = selectInPlace(near, k - below, g);
  if (m % 2) return upper;
  let lower = -Infinity;
  for (let i = 0; i < k - below; i++) if (near[i] > lower) lower = near[i];
  return 0.5 * (lower + upper);
}

/** sqrt of the variance of a unit Gaussian truncated at +-k. */
function truncationFactor(k: number): number {
  const phi = Math.exp(-0.5 * k * k) / Math.sqrt(2 * Math.PI);
  const mass = erf(k / Math.SQRT2);
  return Math.sqrt(1 - (2 * k * phi) / mass);
}
