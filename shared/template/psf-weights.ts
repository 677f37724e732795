/**
 * PSF-continuous weights. A direct coadd's PSF is the weighted mean of the PSFs of the inputs used
 * at each pixel (CoaddPsf), so it jumps wherever that set changes: at each input's edge (dithers)
 * and where rejection left an input out. A difference kernel varies smoothly over the image and
 * cannot follow such jumps: bright stars there leave residuals (measured: most of the false
 * positives of a 2.5-7 px stack, README.md). Where only some inputs are usable, their weights are
 * tilted, w_i exp(lambda m_i) with m_i the PSF's second moment (the maximum-entropy change of the
 * weights), so that the weighted mean second moment stays that of all inputs: the PSF's width, the
 * first thing a mismatched kernel leaves at a star, is then continuous.
 */

/** No input's weight is changed more than this factor against another's. */
export const MAX_TILT_RATIO = 10;
/** Sets of more inputs than this are not keyed exactly (a float of 2^k sums): weights kept. */
export const MAX_TILTED_INPUTS = 53;

/**
 * Weights of the present inputs (present[k]) tilted so that sum w m / sum w = target, within
 * MAX_TILT_RATIO (the nearest reachable moment when target is outside the present ones').
 */
export function tiltedWeights(
  weights: ArrayLike<number>,
  moments: ArrayLike<number>,
  present: ArrayLike<boolean>,
  target: number,
): Float64Array {
  const out = new Float64Array(weights.length);
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < weights.length; k++) {
    if (!present[k]) continue;
    out[k] = weights[k];
    lo = Math.min(lo, moments[k]);
    hi = Math.max(hi, moments[k]);
  }
  if (!(hi > lo) || !Number.isFinite(target)) return out;
  const limit = Math.log(MAX_TILT_RATIO) / (hi - lo);
  const mean = (lambda: number) => {
    let s = 0;
    let sm = 0;
    for (let k = 0; k < weights.length; k++) {
      if (!present[k]) continue;
      const w = weights[k] * Math.exp(lambda * (moments[k] - lo));
      s += w;
      sm += w * moments[k];
    }
    return sm / s;
  };
  // The weighted mean grows with lambda (its derivative is the weighted variance): bisection.
  let a = -limit;
  let b = limit;
  for (let i = 0; i < 60; i++) {
    const c = 0.5 * (a + b);
    if (mean(c) < target) a = c;
    else b = c;
  }
  const lambda = 0.5 * (a + b);
  for (let k = 0; k < weights.length; k++)
    if (present[k]) out[k] = weights[k] * Math.exp(lambda * (moments[k] - lo));
  return out;
}

/** sum w m / sum w over all inputs: the moment every pixel's weights are tilted to. */
export function targetMoment(weights: ArrayLike<number>, moments: ArrayLike<number>): number {
  let s = 0;
  let sm = 0;
  for (let k = 0; k < weights.length; k++) {
    s += weights[k];
    sm += weights[k] * moments[k];
  }
  return sm / s;
}
