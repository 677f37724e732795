/**
 * Robust statistics over plain numeric arrays.
 */
import { MAD_TO_SIGMA } from './numeric.js';

/** k-th smallest (0-based) of the first n values, reordering them in place (Hoare's quickselect, O(n)). */
export function selectInPlace(
  values: Float32Array | Float64Array,
  k: number,
  n = values.length,
): number {
  let lo = 0,
    hi = n - 1;
  while (hi > lo) {
    const pivot = values[(lo + hi) >>> 1];
    let i = lo,
      j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return values[k];
}

/** Median of the first n values (NaNs removed first), reordering them in place; NaN when n = 0. */
export function medianInPlace(values: Float32Array | Float64Array, n = values.length): number {
  if (n === 0) return Number.NaN;
  const upper = selectInPlace(values, n >> 1, n);
  if (n % 2) return upper;
  let lower = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (values[i] > lower) lower = values[i];
  return 0.5 * (lower + upper);
}

/** Median of a copy of the values (NaNs must be removed first); 0-length input gives NaN. */
export function median(values: ArrayLike<number>): number {
  return medianInPlace(Float64Array.from(values));
}

/** Gaussian-equivalent sigma from the median absolute deviation (1.4826 * MAD). */
export function madSigma(values: ArrayLike<number>, center = median(values)): number {
  const dev = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) dev[i] = Math.abs(values[i] - center);
  return MAD_TO_SIGMA * median(dev);
}

export interface ClippedStats {
  mean: number;
  std: number;
  /** Values kept after clipping. */
  count: number;
}

/**
 * Mean and standard deviation after iterative n-sigma clipping about the median. The kept values
 * are compacted in place, in their order, and each median (of them, then of their deviations) is
 * selected in one scratch array: no array per round.
 */
export function clippedStats(values: ArrayLike<number>, nSigma = 3, iterations = 5): ClippedStats {
  const kept = Float64Array.from(values);
  let n = 0;
  for (let i = 0; i < kept.length; i++) if (Number.isFinite(kept[i])) kept[n++] = kept[i];
  const scratch = new Float64Array(n);
  for (let it = 0; it < iterations && n > 2; it++) {
    scratch.set(kept.subarray(0, n));
    const c = medianInPlace(scratch, n);
    for (let i = 0; i < n; i++) scratch[i] = Math.abs(kept[i] - c);
    const s = MAD_TO_SIGMA * medianInPlace(scratch, n);
    if (!(s > 0)) break;
    let next = 0;
    for (let i = 0; i < n; i++) if (Math.abs(kept[i] - c) <= nSigma * s) kept[next++] = kept[i];
    if (next === n) break;
    n = next;
  }
  let mean = 0;
  for (let i = 0; i < n; i++) mean += kept[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (kept[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / Math.max(1, n - 1)), count: n };
}
