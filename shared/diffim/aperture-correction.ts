/**
 * Photometric scale of a PSF match from total fluxes, as survey pipelines calibrate PSF-scale
 * fluxes with aperture corrections (Rubin's measureApCorr; the growth-curve extrapolation of
 * Stetson 1990, PASP 102, 932).
 *
 * - `steadyCandidates`: a star whose flux ratio between the two images differs from the
 *   ensemble's by more than `clip` of its own photometric error is variable (or blended with a
 *   change) and is dropped before the kernel fit, whose kernel sum it would otherwise pull.
 * - `apertureCorrection`: the kernel sum is the flux ratio within the fitted stamp (the kernel's
 *   reach); PSF wings beyond it (Moffat's reach tens of pixels) differ between two seeings. The
 *   light outside the stamp is extrapolated from a Moffat fitted to each image's PSF model (a
 *   model stamp is shorter than the stamp and unit-sum within itself, so it cannot be summed):
 *   scale = kernelSum * c_target / c_source with c = 1 / (1 - light outside).
 *   A Moffat fitted to a diffraction-limited core (JWST: the first Airy ring inside the fit
 *   radius) has beta -> 1, whose wings hold almost all the light: 1 / (1 - 1) = Infinity. Wings
 *   that the stamp does not show are not extrapolated: beyond MAX_EXTRAPOLATED_LIGHT the
 *   correction is unknown (NaN) and the pair is left uncorrected (`pairApertureCorrection`).
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane, UNUSABLE } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { fitProfile } from '../psf/profile-fit.js';
import type { CandidateStamp } from './candidates.js';

export interface ApertureFlux {
  flux: number;
  variance: number;
}

/** A candidate this many sigma off the ensemble's flux ratio is taken for a variable. */
export const STEADY_CLIP_SIGMA = 5;

const AVOID = UNUSABLE | MaskPlane.SUSPECT | MaskPlane.INTRP;

/** Sum and variance of the pixels whose centres lie within `radius` of (x, y); null when one is masked or off the image. */
export function apertureFlux(
  e: Exposure,
  x: number,
  y: number,
  radius: number,
): ApertureFlux | null {
  const r = Math.floor(radius);
  if (x - r < 0 || y - r < 0 || x + r >= e.width || y + r >= e.height) return null;
  let flux = 0,
    variance = 0;
  const r2 = radius * radius;
  for (let v = Math.ceil(y - radius); v <= Math.floor(y + radius); v++) {
    const im = e.image.row(v),
      va = e.variance.row(v),
      m = e.mask.row(v);
    for (let u = Math.ceil(x - radius); u <= Math.floor(x + radius); u++) {
      if ((u - x) ** 2 + (v - y) ** 2 > r2) continue;
      if (m[u] & AVOID || !Number.isFinite(im[u])) return null;
      flux += im[u];
      variance += va[u];
    }
  }
  return { flux, variance };
}

/** Inverse-variance weighted mean of values with errors, iteratively clipped at `clip` sigma about it. */
function clippedWeightedMean(
  values: number[],
  errors: number[],
  clip: number,
): { mean: number; error: number; kept: boolean[] } {
  let kept = values.map((v, i) => Number.isFinite(v) && errors[i] > 0);
  let mean = Number.NaN,
    error = Number.NaN;
  for (let it = 0; it < 10; it++) {
    let sw = 0,
      swv = 0;
    values.forEach((v, i) => {
      if (!kept[i]) return;
      const w = 1 / errors[i] ** 2;
      sw += w;
      swv += w * v;
    });
    if (sw === 0) break;
    mean = swv / sw;
    error = 1 / Math.sqrt(sw);
    const next = values.map(
      (v, i) =>
        Number.isFinite(v) &&
        errors[i] > 0 &&
        Math.abs(v - mean) <= clip * Math.hypot(errors[i], error),
    );
    if (next.every((k, i) => k === kept[i])) break;
    kept = next;
  }
  return { mean, error, kept };
}

/**
 * Candidates whose target/source flux ratio within `radius` agrees with the ensemble's within
 * `clip` sigma (all of them when fewer than 3 would remain). Fitted as one weighted mean, the
 * brightest stars set the reference, so variables of a few percent stand out.
 */
export function steadyCandidates(
  stamps: CandidateStamp[],
  target: Exposure,
  source: Exposure,
  radius: number,
  clip: number,
): CandidateStamp[] {
  const ratios: number[] = [],
    errors: number[] = [];
  for (const s of stamps) {
    const t = apertureFlux(target, s.x, s.y, radius),
      o = apertureFlux(source, s.x, s.y, radius);
    if (!t || !o || !(t.flux > 0) || !(o.flux > 0)) {
      ratios.push(Number.NaN);
      errors.push(Number.NaN);
      continue;
    }
    const q = t.flux / o.flux;
    ratios.push(q);
    errors.push(q * Math.sqrt(t.variance / t.flux ** 2 + o.variance / o.flux ** 2));
  }
  const { kept } = clippedWeightedMean(ratios, errors, clip);
  const steady = stamps.filter((_s, i) => kept[i]);
  return steady.length >= 3 ? steady : stamps;
}

/** Pixels beyond this many alpha hold a negligible part of a Moffat with beta >= 2 (added analytically). */
const WING_REACH_ALPHA = 40;

/**
 * Fraction of a circular Moffat's light (Moffat 1969, unit total) on pixels outside the box
 * |dx|, |dy| <= half: pixel-centre sums out to WING_REACH_ALPHA alpha, (1 + r^2/alpha^2)^(1 - beta)
 * beyond.
 */
export function moffatLightOutsideBox(alpha: number, beta: number, half: number): number {
  if (!Number.isFinite(beta)) return 0;
  const reach = Math.ceil(WING_REACH_ALPHA * alpha);
  const amp = (beta - 1) / (Math.PI * alpha * alpha);
  let sum = 0;
  for (let v = -reach; v <= reach; v++) {
    for (let u = -reach; u <= reach; u++) {
      const r2 = u * u + v * v;
      if ((Math.abs(u) <= half && Math.abs(v) <= half) || r2 > reach * reach) continue;
      sum += amp * Math.pow(1 + r2 / (alpha * alpha), -beta);
    }
  }
  return sum + Math.pow(1 + (reach * reach) / (alpha * alpha), 1 - beta);
}

/**
 * Most light a fitted Moffat may put outside the stamp for its extrapolation to be believed: a
 * quarter (ground-based seeing puts 0.5-11 % outside a 2.5-FWHM stamp; a fit claiming more is
 * extrapolating wings it never saw).
 */
export const MAX_EXTRAPOLATED_LIGHT = 0.25;

/**
 * Aperture correction of the box |dx|, |dy| <= half at (x, y): total flux over flux in the box,
 * from a Moffat fitted to the PSF model's stamp there; NaN when the fit puts more than
 * MAX_EXTRAPOLATED_LIGHT outside (or fails).
 */
export function apertureCorrection(psf: Psf, x: number, y: number, half: number): number {
  const stamp = psf.stampAt(x, y, true);
  const fit = fitProfile(stamp.data, stamp.size, psf.fwhmAt(x, y), 'moffat');
  const outside = moffatLightOutsideBox(fit.alpha, fit.beta, half);
  return outside >= 0 && outside <= MAX_EXTRAPOLATED_LIGHT ? 1 / (1 - outside) : Number.NaN;
}

/**
 * c_target / c_source for the photometric scale, or 1 (`applied` false) when either correction is
 * unknown: correcting one side only would bias the scale by the other's missing wings.
 */
export function pairApertureCorrection(
  target: Psf,
  source: Psf,
  x: number,
  y: number,
  half: number,
): { ratio: number; applied: boolean } {
  const ratio = apertureCorrection(target, x, y, half) / apertureCorrection(source, x, y, half);
  return Number.isFinite(ratio) && ratio > 0
    ? { ratio, applied: true }
    : { ratio: 1, applied: false };
}
