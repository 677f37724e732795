/**
 * Adaptive (elliptical-Gaussian-weighted) second moments, Bernstein & Jarvis 2002 (AJ 123, 583):
 * iterate the weight to the measured shape; for a Gaussian source the result is its own covariance.
 */

export interface Moments {
  /** Centroid, px, in the array's grid. */
  x: number;
  y: number;
  /** Second moments, px^2. */
  ixx: number;
  iyy: number;
  ixy: number;
  /** Gaussian-equivalent flux 2 * sum(W I), ADU (exact for a Gaussian source). */
  flux: number;
  /** Signal-to-noise of the weighted sum, sum(W I) / sqrt(sum(W^2 var)). */
  snr: number;
  /** False if the iteration diverged or the moments are not positive definite. */
  ok: boolean;
}

export interface PixelSource {
  /** Background-subtracted pixels, contiguous width*height. */
  data: Float32Array;
  width: number;
  height: number;
  /** Non-zero where a pixel must not be used. */
  bad: Uint8Array | null;
  /** Per-pixel variance (ADU^2), or one value for all. */
  variance: Float32Array | number;
}

/**
 * Adaptive moments around a first guess (x, y) with a round Gaussian weight of sigma `sigma0` px.
 * @example adaptiveMoments(src, 120, 88, 2).ixx
 */
export function adaptiveMoments(
  src: PixelSource,
  x: number,
  y: number,
  sigma0: number,
  maxIterations = 30,
): Moments {
  let cx = x;
  let cy = y;
  let mxx = sigma0 * sigma0;
  let myy = mxx;
  let mxy = 0;
  const failed: Moments = {
    x,
    y,
    ixx: Number.NaN,
    iyy: Number.NaN,
    ixy: Number.NaN,
    flux: Number.NaN,
    snr: Number.NaN,
    ok: false,
  };
  let last = { flux: 0, snr: 0 };
  const { data, bad, width } = src;
  const varPlane = typeof src.variance === 'number' ? null : src.variance;
  const varConst = typeof src.variance === 'number' ? src.variance : 0;
  for (let it = 0; it < maxIterations; it++) {
    const det = mxx * myy - mxy * mxy;
    if (!(det > 0) || mxx > 400 || myy > 400) return failed;
    const axx = myy / det;
    const ayy = mxx / det;
    const axy = -mxy / det;
    const r = Math.ceil(4 * Math.sqrt(Math.max(mxx, myy)));
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(src.width - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r));
    const y1 = Math.min(src.height - 1, Math.ceil(cy + r));
    let s0 = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    let sv = 0;
    for (let yy = y0; yy <= y1; yy++) {
      const dy = yy - cy;
      for (let xx = x0; xx <= x1; xx++) {
        const i = yy * width + xx;
        if (bad && bad[i]) continue;
        const dx = xx - cx;
        const q = axx * dx * dx + 2 * axy * dx * dy + ayy * dy * dy;
        if (q > 16) continue;
        const wgt = Math.exp(-0.5 * q);
        const v = wgt * data[i];
        s0 += v;
        sx += v * dx;
        sy += v * dy;
        sxx += v * dx * dx;
        syy += v * dy * dy;
        sxy += v * dx * dy;
        sv += wgt * wgt * (varPlane ? varPlane[i] : varConst);
      }
    }
    if (!(s0 > 0)) return failed;
    const nx = cx + sx / s0;
    const ny = cy + sy / s0;
    // Weighted moments of a Gaussian of covariance C under weight covariance M: (C^-1 + M^-1)^-1; invert for C.
    const wxx = sxx / s0 - (sx / s0) ** 2;
    const wyy = syy / s0 - (sy / s0) ** 2;
    const wxy = sxy / s0 - (sx / s0) * (sy / s0);
    const wdet = wxx * wyy - wxy * wxy;
    if (!(wdet > 0)) return failed;
    const cxx = wyy / wdet - axx;
    const cyy = wxx / wdet - ayy;
    const cxy = -wxy / wdet - axy;
    const cdet = cxx * cyy - cxy * cxy;
    if (!(cdet > 0) || !(cxx > 0)) return failed;
    const nxx = cyy / cdet;
    const nyy = cxx / cdet;
    const nxy = -cxy / cdet;
    const moved = Math.abs(nx - cx) + Math.abs(ny - cy);
    const changed = Math.abs(nxx - mxx) + Math.abs(nyy - myy) + Math.abs(nxy - mxy);
    cx = Math.min(Math.max(nx, x - 3 * sigma0 - 2), x + 3 * sigma0 + 2);
    cy = Math.min(Math.max(ny, y - 3 * sigma0 - 2), y + 3 * sigma0 + 2);
    // Damped update keeps the iteration stable on noisy, faint sources.
    mxx = 0.5 * (mxx + nxx);
    myy = 0.5 * (myy + nyy);
    mxy = 0.5 * (mxy + nxy);
    last = { flux: 2 * s0, snr: s0 / Math.sqrt(sv) };
    if (moved < 1e-4 && changed < 1e-4 * (mxx + myy)) break;
  }
  return { x: cx, y: cy, ixx: mxx, iyy: myy, ixy: mxy, flux: last.flux, snr: last.snr, ok: true };
}
