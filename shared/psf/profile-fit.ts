/**
 * FWHM of a sampled PSF by profile fitting (Levenberg-Marquardt) to the stamp's core:
 * - 'moffat': an elliptical Moffat (Moffat 1969, A&A 3, 455) integrated over each pixel: the
 *   pixel-free FWHM that PSFEx reports as FWHM_PixelFree (Bertin 2011, ASP Conf. Ser. 442, 435),
 *   i.e. the PSF before pixelisation, as a simulator or seeing model states it;
 * - 'gaussian': an elliptical Gaussian through the pixel values, the Gaussian-core FWHM that
 *   survey pipelines (SExtractor's FWHM_IMAGE, DECam's FWHM card) quote.
 */
import { FWHM_PER_SIGMA } from '../util/numeric.js';
import { levenbergMarquardt } from '../util/linalg.js';

export type ProfileKind = 'moffat' | 'gaussian';

export interface ProfileFit {
  /** FWHM of the fitted profile (geometric mean of the axes), px. */
  fwhm: number;
  /** Moffat alpha (px) and beta; for a Gaussian, alpha is sigma and beta is Infinity. */
  alpha: number;
  beta: number;
  /** Shear-like shape parameters of the unit-determinant quadratic form. */
  g1: number;
  g2: number;
  /** Centre offset from the stamp centre, px. */
  dx: number;
  dy: number;
}

const SUB3 = [-1 / 3, 0, 1 / 3];
const SUB1 = [0];
/** Fit radii in FWHM: the Gaussian fits the core only (as a Gaussian-core estimate does), the Moffat its wings too. */
const GAUSS_RADIUS = 1;
const MOFFAT_RADIUS = 2;

/** Fits the core (radius ~ 2 FWHM) of an odd-sized stamp whose PSF is near its centre. */
export function fitProfile(
  data: Float32Array | Float64Array,
  size: number,
  fwhmGuess: number,
  kind: ProfileKind = 'moffat',
): ProfileFit {
  const gaussian = kind === 'gaussian';
  const sub = gaussian ? SUB1 : SUB3;
  const c = (size - 1) / 2;
  const radius = Math.min(c, Math.max(3, (gaussian ? GAUSS_RADIUS : MOFFAT_RADIUS) * fwhmGuess));
  const xs: number[] = [];
  const ys: number[] = [];
  const vs: number[] = [];
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      if ((i - c) ** 2 + (j - c) ** 2 > radius * radius) continue;
      xs.push(i - c);
      ys.push(j - c);
      vs.push(data[j * size + i]);
    }
  }
  const n = vs.length;
  const beta0 = 3.5;
  // p = [ln alpha, ln(beta - 1), g1, g2, dx, dy]
  let p = gaussian
    ? [Math.log(fwhmGuess / FWHM_PER_SIGMA), 0, 0, 0, 0, 0]
    : [
        Math.log(fwhmGuess / (2 * Math.sqrt(2 ** (1 / beta0) - 1))),
        Math.log(beta0 - 1),
        0,
        0,
        0,
        0,
      ];
  // A Gaussian has no beta: its parameter slot stays fixed.
  const free = gaussian ? [0, 2, 3, 4, 5] : [0, 1, 2, 3, 4, 5];
  const model = (q: readonly number[], out: Float64Array): number => {
    const alpha = Math.exp(q[0]);
    const beta = 1 + Math.exp(q[1]);
    const g1 = q[2];
    const g2 = q[3];
    const norm = 1 / Math.sqrt(Math.max(1e-6, 1 - g1 * g1 - g2 * g2));
    const a = ((1 + g1) * norm) / (alpha * alpha);
    const b = ((1 - g1) * norm) / (alpha * alpha);
    const h = (g2 * norm) / (alpha * alpha);
    let smm = 0;
    let sdm = 0;
    for (let k = 0; k < n; k++) {
      let s = 0;
      for (const oy of sub) {
        const y = ys[k] + oy - q[5];
        for (const ox of sub) {
          const x = xs[k] + ox - q[4];
          const quad = a * x * x + 2 * h * x * y + b * y * y;
          s += gaussian ? Math.exp(-0.5 * quad) : Math.pow(1 + quad, -beta);
        }
      }
      out[k] = s;
      smm += s * s;
      sdm += s * vs[k];
    }
    const amp = sdm / smm;
    let chi = 0;
    for (let k = 0; k < n; k++) {
      out[k] = vs[k] - amp * out[k];
      chi += out[k] * out[k];
    }
    return chi;
  };
  // Converged once the width, the figure wanted, stops moving (alpha and beta trade off slowly).
  p = levenbergMarquardt(p, n, model, {
    free,
    converged: (from, to, gain) =>
      gain < 1e-9 || Math.abs(fwhmOf(to, gaussian) / fwhmOf(from, gaussian) - 1) < 1e-5,
  }).p;
  const alpha = Math.exp(p[0]);
  const beta = gaussian ? Infinity : 1 + Math.exp(p[1]);
  return { fwhm: fwhmOf(p, gaussian), alpha, beta, g1: p[2], g2: p[3], dx: p[4], dy: p[5] };
}

function fwhmOf(p: readonly number[], gaussian: boolean): number {
  const alpha = Math.exp(p[0]);
  return gaussian
    ? FWHM_PER_SIGMA * alpha
    : 2 * alpha * Math.sqrt(2 ** (1 / (1 + Math.exp(p[1]))) - 1);
}
