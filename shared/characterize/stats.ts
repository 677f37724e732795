/**
 * Robust one-dimensional statistics for sky estimation: quickselect median and
 * iterative sigma clipping with SExtractor's mode estimator (Bertin & Arnouts 1996, A&AS 117, 393).
 */

/** k-th smallest of values[0..n) (0-based), in place (Hoare's quickselect). */
export function selectKth(values: Float32Array | Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
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
    else return values[k];
  }
  return values[k];
}

/** Median of values[0..n) (reorders the array). NaN when n = 0. */
export function medianInPlace(values: Float32Array | Float64Array, n: number = values.length): number {
  if (n === 0) return Number.NaN;
  const hi = selectKth(values, n, n >> 1);
  if (n % 2 === 1) return hi;
  let lo = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (values[i] > lo) lo = values[i];
  return 0.5 * (lo + hi);
}

/** Median of a copy of the values. */
export function median(values: ArrayLike<number>): number {
  return medianInPlace(Float64Array.from(values));
}

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

/**
 * Iterative sigma clipping about the median (reorders `values[0..n)`).
 * Gaussian truncated at +-k sigma has variance factor 1 - 2k phi(k)/(2 Phi(k) - 1); the std is corrected for it.
 * @example sigmaClip(Float32Array.from(pixels), pixels.length, 3, 5).sky
 */
export function sigmaClip(values: Float32Array | Float64Array, n: number, clip = 3, iterations = 5): ClippedStats {
  let count = n;
  let med = Number.NaN;
  let mean = Number.NaN;
  let std = Number.NaN;
  for (let it = 0; it <= iterations && count > 0; it++) {
    med = medianInPlace(values, count);
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < count; i++) {
      const d = values[i] - med;
      s += d;
      s2 += d * d;
    }
    mean = med + s / count;
    const raw = Math.sqrt(Math.max(0, s2 / count - (s / count) ** 2));
    std = it === 0 ? raw : raw / truncationFactor(clip);
    if (it === iterations || !(std > 0)) break;
    const lo = med - clip * std;
    const hi = med + clip * std;
    let kept = 0;
    for (let i = 0; i < count; i++) {
      const v = values[i];
      if (v >= lo && v <= hi) values[kept++] = v;
    }
    if (kept === count) break;
    count = kept;
  }
  const crowded = Math.abs(mean - med) > 0.3 * std;
  return { mean, median: med, std, sky: crowded ? med : 2.5 * med - 1.5 * mean, n: count };
}

/** sqrt of the variance of a unit Gaussian truncated at +-k. */
function truncationFactor(k: number): number {
  const phi = Math.exp(-0.5 * k * k) / Math.sqrt(2 * Math.PI);
  const mass = erf(k / Math.SQRT2);
  return Math.sqrt(1 - (2 * k * phi) / mass);
}

/** Abramowitz & Stegun 7.1.26 error function (|error| < 1.5e-7). */
export function erf(x: number): number {
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}
