/**
 * Aperture photometry, second moments and mask flags of a source on an exposure.
 * Positions are 0-based pixels in the exposure's parent frame.
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import type { DiaSourceFlags } from './types.js';

/** Sum of pixel values whose centres lie within `radius` px of (x, y), and its error from the variance plane. */
export function apertureFlux(
  exposure: Exposure,
  x: number,
  y: number,
  radius: number,
): { flux: number; fluxErr: number } {
  const lx = x - exposure.image.x0;
  const ly = y - exposure.image.y0;
  const r2 = radius * radius;
  let flux = 0;
  let variance = 0;
  for (
    let py = Math.max(0, Math.ceil(ly - radius));
    py <= Math.min(exposure.height - 1, Math.floor(ly + radius));
    py++
  ) {
    for (
      let px = Math.max(0, Math.ceil(lx - radius));
      px <= Math.min(exposure.width - 1, Math.floor(lx + radius));
      px++
    ) {
      if ((px - lx) ** 2 + (py - ly) ** 2 > r2) continue;
      const k = exposure.image.index(px, py);
      const d = exposure.image.data[k];
      const v = exposure.variance.data[k];
      if (!Number.isFinite(d) || !Number.isFinite(v)) continue;
      flux += d;
      variance += v;
    }
  }
  return { flux, fluxErr: Math.sqrt(variance) };
}

export interface Moments {
  ixx: number;
  iyy: number;
  ixy: number;
}

/**
 * Second moments (px^2) of `sign` * image around (x, y): moments M measured with a circular
 * Gaussian weight of `weightSigma` px, then deconvolved from the weight, C = (M^-1 - W^-1)^-1,
 * exact for a Gaussian profile (Bernstein & Jarvis 2002, AJ 123, 583, sec. 3). NaN when the
 * weighted moments are not positive definite or not inside the weight (noise-dominated).
 */
export function secondMoments(
  exposure: Exposure,
  x: number,
  y: number,
  weightSigma: number,
  sign: number,
): Moments {
  const lx = x - exposure.image.x0;
  const ly = y - exposure.image.y0;
  const r = Math.ceil(4 * weightSigma);
  const inv2s2 = 1 / (2 * weightSigma * weightSigma);
  let s0 = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  const cx = Math.round(lx);
  const cy = Math.round(ly);
  for (let py = Math.max(0, cy - r); py <= Math.min(exposure.height - 1, cy + r); py++) {
    for (let px = Math.max(0, cx - r); px <= Math.min(exposure.width - 1, cx + r); px++) {
      const d = sign * exposure.image.get(px, py);
      if (!Number.isFinite(d)) continue;
      const dx = px - lx;
      const dy = py - ly;
      const w = Math.exp(-(dx * dx + dy * dy) * inv2s2) * d;
      s0 += w;
      sxx += w * dx * dx;
      syy += w * dy * dy;
      sxy += w * dx * dy;
    }
  }
  const nan = { ixx: Number.NaN, iyy: Number.NaN, ixy: Number.NaN };
  if (!(s0 > 0)) return nan;
  const [mxx, myy, mxy] = [sxx / s0, syy / s0, sxy / s0];
  const det = mxx * myy - mxy * mxy;
  if (!(mxx > 0 && myy > 0 && det > 0)) return nan;
  // M^-1 - W^-1, with W = weightSigma^2 I.
  const w2 = weightSigma * weightSigma;
  const pxx = myy / det - 1 / w2;
  const pyy = mxx / det - 1 / w2;
  const pxy = -mxy / det;
  const pdet = pxx * pyy - pxy * pxy;
  if (!(pxx > 0 && pyy > 0 && pdet > 0)) return nan;
  return { ixx: pyy / pdet, iyy: pxx / pdet, ixy: -pxy / pdet };
}

/** Flags from the mask bits in a footprint (flat indices y * width + x) and within 1 px of (x, y). */
export function maskFlags(
  exposure: Exposure,
  footprint: ArrayLike<number>,
  x: number,
  y: number,
): DiaSourceFlags {
  const mask = exposure.mask;
  let all = 0;
  for (let k = 0; k < footprint.length; k++) {
    const x = footprint[k] % exposure.width;
    all |= mask.get(x, (footprint[k] - x) / exposure.width);
  }
  let centre = 0;
  const cx = Math.round(x - mask.x0);
  const cy = Math.round(y - mask.y0);
  for (let py = Math.max(0, cy - 1); py <= Math.min(exposure.height - 1, cy + 1); py++) {
    for (let px = Math.max(0, cx - 1); px <= Math.min(exposure.width - 1, cx + 1); px++)
      centre |= mask.get(px, py);
  }
  return {
    edge: (all & (MaskPlane.EDGE | MaskPlane.NO_DATA)) !== 0,
    saturated: (all & MaskPlane.SAT) !== 0,
    saturatedCenter: (centre & MaskPlane.SAT) !== 0,
    interpolated: (all & MaskPlane.INTRP) !== 0,
    interpolatedCenter: (centre & MaskPlane.INTRP) !== 0,
    cr: (all & MaskPlane.CR) !== 0,
    crCenter: (centre & MaskPlane.CR) !== 0,
    bad: (all & MaskPlane.BAD) !== 0,
    suspectCenter: (centre & MaskPlane.SUSPECT) !== 0,
    measurementFailed: false,
  };
}
