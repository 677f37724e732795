/**
 * Sersic galaxies (Sersic 1963, Bol. Asoc. Argentina Astron. 6, 41): I(r) = I_e exp(-b_n ((r/r_e)^(1/n) - 1)),
 * drawn in a visit's pixel grid and convolved with that visit's PSF at the galaxy.
 */
import { convolveCircular, nextPow2 } from './convolve.js';
import type { MoffatShape } from './moffat.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

/** b_n by Ciotti & Bertin's asymptotic series, 1999 (A&A 352, 447) eq. 18 (within 2e-4 for n >= 1, 1.4e-3 at n = 0.5). */
export function sersicBSeries(n: number): number {
  return 2 * n - 1 / 3 + 4 / (405 * n) + 46 / (25515 * n * n) + 131 / (1148175 * n * n * n);
}

/** Regularised lower incomplete gamma P(a, x), by its series (Numerical Recipes 3rd ed. eq. 6.2.5). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  let term = 1 / a;
  let sum = term;
  for (let k = 1; k < 1000 && term > sum * 1e-16; k++) {
    term *= x / (a + k);
    sum += term;
  }
  return sum * Math.exp(-x + a * Math.log(x) - lnGamma(a));
}

/**
 * b_n such that r_e encloses half the light, P(2n, b_n) = 1/2 (Ciotti & Bertin 1999 eq. 4),
 * solved by Newton's method from the series (dP/dx = x^(a-1) e^-x / Gamma(a)).
 */
export function sersicB(n: number): number {
  const a = 2 * n;
  let b = Math.max(0.05, sersicBSeries(n));
  for (let it = 0; it < 50; it++) {
    const step = (gammaP(a, b) - 0.5) / Math.exp((a - 1) * Math.log(b) - b - lnGamma(a));
    b = Math.max(b / 2, b - step);
    if (Math.abs(step) < 1e-13 * b) break;
  }
  return b;
}

/** Profile cut where the surface brightness falls to this fraction of I_e (and at most MAX_RE radii). */
const CUT_FRACTION = 1e-3;
/** The cut never comes closer than this many half-light radii. */
const MIN_RE = 2;
const MAX_RE = 8;
/** Largest half-size of a galaxy stamp before PSF padding, pixels. */
const MAX_HALF = 96;

/** A galaxy as seen in one image: the elliptical radius as a quadratic form in pixel offsets. */
export interface GalaxyInPixels {
  /** Centre, 0-based image pixels. */
  x: number;
  y: number;
  /** Total flux in this image, ADU (the flux inside the profile cut). */
  flux: number;
  sersicN: number;
  /** r^2 (in units of r_e^2) = ma dx^2 + 2 mc dx dy + mb dy^2 for pixel offsets dx, dy. */
  ma: number;
  mb: number;
  mc: number;
}

/**
 * The pixel quadratic form of a galaxy with half-light radius reArcsec (geometric mean of the
 * axes), axis ratio q and major-axis position angle paDeg east of north, through the local
 * Jacobian J (degrees per pixel, rows: east, north).
 */
export function galaxyForm(
  jacobian: readonly (readonly number[])[],
  reArcsec: number,
  q: number,
  paDeg: number,
): { ma: number; mb: number; mc: number } {
  const pa = (paDeg * Math.PI) / 180;
  // Unit vectors in (east, north): along the major axis and across it.
  const major = [Math.sin(pa), Math.cos(pa)];
  const minor = [-Math.cos(pa), Math.sin(pa)];
  const s = ARCSEC_PER_DEG / reArcsec;
  // Pixel offset -> (along, across) in units of r_e.
  const along = [0, 1].map((k) => s * (major[0] * jacobian[0][k] + major[1] * jacobian[1][k]));
  const across = [0, 1].map((k) => s * (minor[0] * jacobian[0][k] + minor[1] * jacobian[1][k]));
  // r^2 = q along^2 + across^2 / q (determinant-one ellipse, so r_e is the circularised radius).
  return {
    ma: q * along[0] * along[0] + (across[0] * across[0]) / q,
    mb: q * along[1] * along[1] + (across[1] * across[1]) / q,
    mc: q * along[0] * along[1] + (across[0] * across[1]) / q,
  };
}

/** ln Gamma(x) for x > 0, Lanczos 1964 (SIAM J. Numer. Anal. B 1, 86) with Numerical Recipes' g = 5 coefficients. */
export function lnGamma(x: number): number {
  const c = [
    76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155,
    1.208650973866179e-3, -5.395239384953e-6,
  ];
  let sum = 1.000000000190015;
  for (let k = 0; k < c.length; k++) sum += c[k] / (x + 1 + k);
  const t = x + 5.5;
  return (x + 0.5) * Math.log(t) - t + Math.log((Math.sqrt(2 * Math.PI) * sum) / x);
}

/**
 * Radius (units of r_e) where the galaxy's surface brightness drops below `threshold` ADU per
 * pixel, using the total of the untruncated profile, 2 pi n e^b b^-2n Gamma(2n) I_e r_e^2
 * (Graham & Driver 2005, PASA 22, 118, eq. 4), clamped to [MIN_RE, the CUT_FRACTION cut].
 */
function cutRadius(galaxy: GalaxyInPixels, b: number, threshold: number): number {
  const n = galaxy.sersicN;
  const det = galaxy.ma * galaxy.mb - galaxy.mc * galaxy.mc;
  const lnNorm =
    Math.log(2 * Math.PI * n) + b - 2 * n * Math.log(b) + lnGamma(2 * n) - 0.5 * Math.log(det);
  const lnRatio = Math.min(
    Math.log(1 / CUT_FRACTION),
    Math.log(Math.abs(galaxy.flux) / threshold) - lnNorm,
  );
  return Math.min(MAX_RE, Math.max(MIN_RE, Math.pow(1 + Math.max(0, lnRatio) / b, n)));
}

/** Sub-sampling of a pixel by its elliptical radius (r_e units) and the size of r_e in pixels. */
function subsamples(r: number, rePx: number): number {
  const rPx = r * rePx;
  if (rPx < 1.5) return 7;
  if (rPx < 4 || r < 0.3) return 3;
  return 1;
}

/**
 * Adds the galaxy, convolved with `psf` (the Moffat at the galaxy centre), to `target`
 * (width x height, row-major), out to where its surface brightness falls below `threshold`
 * ADU per pixel (see cutRadius). The intrinsic profile is integrated over each pixel by sub-sampling
 * near the centre and sampled at the pixel centre elsewhere, then scaled to `flux`; the PSF kernel
 * is the Moffat sampled at pixel centres (normalised), so the pixel response enters once.
 */
export function addSersic(
  target: Float32Array,
  width: number,
  height: number,
  galaxy: GalaxyInPixels,
  psf: MoffatShape,
  psfHalf: number,
  threshold: number,
): void {
  const { sersicN: n, ma, mb, mc } = galaxy;
  const b = sersicB(n);
  const rCut = cutRadius(galaxy, b, threshold);
  // Extent in pixels along the worst axis: r^2 = x^T M x, smallest eigenvalue of M.
  const half = (ma + mb) / 2;
  const minEig = half - Math.sqrt(Math.max(0, ((ma - mb) / 2) ** 2 + mc * mc));
  const extent = Math.min(MAX_HALF, Math.ceil(rCut / Math.sqrt(Math.max(minEig, 1e-12))) + 1);
  const rePx = 1 / Math.sqrt(Math.max(ma, mb));
  const size = nextPow2(2 * (extent + psfHalf) + 2);
  const centre = size / 2;
  const cx = Math.round(galaxy.x);
  const cy = Math.round(galaxy.y);
  if (cx + centre < 0 || cx - centre >= width || cy + centre < 0 || cy - centre >= height) return;
  const fx = galaxy.x - cx;
  const fy = galaxy.y - cy;
  const stamp = new Float64Array(size * size);
  let total = 0;
  for (let j = -extent; j <= extent; j++) {
    for (let i = -extent; i <= extent; i++) {
      const dx = i - fx;
      const dy = j - fy;
      const r = Math.sqrt(ma * dx * dx + 2 * mc * dx * dy + mb * dy * dy);
      if (r > rCut + 1 / rePx) continue;
      const k = subsamples(r, rePx);
      let sum = 0;
      for (let sj = 0; sj < k; sj++) {
        const sy = dy + (sj + 0.5) / k - 0.5;
        for (let si = 0; si < k; si++) {
          const sx = dx + (si + 0.5) / k - 0.5;
          const rs = Math.sqrt(ma * sx * sx + 2 * mc * sx * sy + mb * sy * sy);
          if (rs <= rCut) sum += Math.exp(-b * (Math.pow(rs, 1 / n) - 1));
        }
      }
      const value = sum / (k * k);
      stamp[(j + centre) * size + (i + centre)] = value;
      total += value;
    }
  }
  if (!(total > 0)) return;
  const kernel = psfKernel(psf, psfHalf, size);
  const image = convolveCircular(stamp, kernel, size);
  const scale = galaxy.flux / total;
  const y0 = Math.max(0, cy - centre);
  const y1 = Math.min(height - 1, cy - centre + size - 1);
  const x0 = Math.max(0, cx - centre);
  const x1 = Math.min(width - 1, cx - centre + size - 1);
  for (let y = y0; y <= y1; y++) {
    const srow = (y - cy + centre) * size - cx + centre;
    const trow = y * width;
    for (let x = x0; x <= x1; x++) target[trow + x] += scale * image[srow + x];
  }
}

/** The Moffat sampled at pixel centres within psfHalf, normalised, centred at index (0, 0) with wrap-around. */
function psfKernel(psf: MoffatShape, psfHalf: number, size: number): Float64Array {
  const { alpha, beta, qa, qb, qc } = psf;
  const kernel = new Float64Array(size * size);
  let sum = 0;
  for (let dy = -psfHalf; dy <= psfHalf; dy++) {
    for (let dx = -psfHalf; dx <= psfHalf; dx++) {
      const t = (qa * dx * dx + 2 * qc * dx * dy + qb * dy * dy) / (alpha * alpha);
      const value = Math.pow(1 + t, -beta);
      kernel[((dy + size) % size) * size + ((dx + size) % size)] = value;
      sum += value;
    }
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}
