/**
 * Robust statistics over plain numeric arrays.
 */

/** Median (NaNs must be removed first); 0-length input gives NaN. */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return n % 2 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

/** Gaussian-equivalent sigma from the median absolute deviation (1.4826 * MAD). */
export function madSigma(values: ArrayLike<number>, center = median(values)): number {
  const dev = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) dev[i] = Math.abs(values[i] - center);
  return 1.4826 * median(dev);
}

export interface ClippedStats {
  mean: number;
  std: number;
  /** Values kept after clipping. */
  count: number;
}

/** Mean and standard deviation after iterative n-sigma clipping about the median. */
export function clippedStats(values: ArrayLike<number>, nSigma = 3, iterations = 5): ClippedStats {
  let kept = Float64Array.from(values).filter(Number.isFinite);
  for (let it = 0; it < iterations && kept.length > 2; it++) {
    const c = median(kept);
    const s = madSigma(kept, c);
    if (!(s > 0)) break;
    const next = kept.filter((v) => Math.abs(v - c) <= nSigma * s);
    if (next.length === kept.length) break;
    kept = next;
  }
  let mean = 0;
  for (const v of kept) mean += v;
  mean /= kept.length;
  let ss = 0;
  for (const v of kept) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / Math.max(1, kept.length - 1)), count: kept.length };
}
