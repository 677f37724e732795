/**
 * Fits a PixelPsf to stars, as PSFEx does (Bertin 2011, ASP Conf. Ser. 442, 435): each star is
 * recentred on its sub-pixel centroid by a Lanczos-3 shift and divided by its flux; each model
 * pixel is then a weighted least-squares polynomial in detector position. Fluxes are refitted
 * with the model, pixels deviating by more than pixelClipSigma and stars whose chi^2/dof is an
 * outlier are rejected, and the fit repeats.
 *
 * Foreign light (undetected or unmasked neighbours, galaxies' outskirts, an error of the sky
 * level) does not scale with the PSF star's flux f: in a star's normalised stamp it adds b / f.
 * Beyond foreignLightFwhm of the centre, each model pixel is fitted jointly with such a term b_k
 * (ADU, common to all stars), so that the model is the limit f -> infinity of the stack. DAOPHOT
 * removes the same light star by star, with a local sky and neighbour subtraction (Stetson 1987,
 * PASP 99, 191); the flux lever arm also takes what no detection finds.
 */
import { LANCZOS_A, resampleLinear, shiftImage } from './lanczos.js';
import { PixelPsf, polyTerms, polyValues } from './pixel-psf.js';
import { median } from '../util/stats.js';
import { MAD_TO_SIGMA } from '../util/numeric.js';
import { solveSymmetric } from '../util/linalg.js';
import type { Helper } from '../util/shared-bands.js';
import {
  CHI2,
  DOF,
  FIT,
  FLUX,
  FLUX_ERR,
  POS,
  USED,
  newStarStore,
  recentreStars,
  refitStars,
  solveBasis,
  type StarStore,
} from './fit-bands.js';

export interface PsfFitConfig {
  /** Odd model stamp side, px (default 0: 2 * ceil(2.5 FWHM) + 1, clamped to [15, 45]). */
  stampSize: number;
  /** Polynomial degree of the spatial variation (default 2). */
  degree: number;
  /** Fit iterations, each refitting fluxes and rejecting outliers (default 4). */
  iterations: number;
  /** A star pixel deviating by more than this many sigma from the model is dropped (default 5). */
  pixelClipSigma: number;
  /** A star is rejected when chi^2/dof exceeds median + this many robust sigma of all stars' (default 5). */
  starClipSigma: number;
  /** Pixels within this many FWHM of another detected source are dropped from a star (default 1.5). */
  neighborMaskFwhm: number;
  /** Relative error floor of a star pixel in the fit (PSFEx's PSF_ACCURACY, default 0.01). */
  accuracy: number;
  /**
   * With fewer stars than this (default 200), the spatial variation is restricted to smooth changes
   * of the mean PSF: each polynomial term's image is projected on the mean PSF's scale, dilation,
   * two shears and two shifts. With tens of stars a free per-pixel variation is mostly noise; this
   * keeps six numbers a term. 0 never restricts.
   */
  freeVariationMinStars: number;
  /** Stars whose PSF-fit SNR falls below this are dropped (default 10). */
  minFitSnr: number;
  /**
   * Model pixels at least this many FWHM from the centre are fitted jointly with foreign light
   * (ADU, not scaling with the star's flux; see above). Default 1: the core is left to the stack,
   * where a flux-dependent shape (brighter-fatter) would otherwise be extrapolated. Infinity disables.
   */
  foreignLightFwhm: number;
  /** Fewer stars than this (default 30) leave foreign light unfitted: a per-pixel slope in 1 / f from a handful of stars is noise. */
  foreignLightMinStars: number;
}

export const DEFAULT_PSF_FIT_CONFIG: PsfFitConfig = {
  stampSize: 0,
  degree: 2,
  iterations: 4,
  pixelClipSigma: 5,
  starClipSigma: 5,
  neighborMaskFwhm: 1.5,
  accuracy: 0.01,
  freeVariationMinStars: 200,
  minFitSnr: 10,
  foreignLightFwhm: 1,
  foreignLightMinStars: 30,
};

export interface PsfFitImage {
  /** Image minus background, contiguous width*height, ADU. */
  residual: Float32Array;
  /** Variance, ADU^2. */
  variance: Float32Array;
  /** Non-zero on pixels unusable for fitting. */
  bad: Uint8Array;
  width: number;
  height: number;
}

export interface PsfStarInput {
  /** Centroid, 0-based px. */
  x: number;
  y: number;
  /** First flux estimate, ADU. */
  flux: number;
}

export interface PsfStarFit {
  x: number;
  y: number;
  /** PSF-fit flux within the stamp, ADU, and its error. */
  flux: number;
  fluxErr: number;
  /** chi^2 of the star minus the scaled model over its good stamp pixels, and degrees of freedom. */
  chi2: number;
  dof: number;
  /** False when rejected as an outlier (or its stamp did not fit on the image). */
  used: boolean;
}

export interface PsfFitResult {
  psf: PixelPsf;
  stars: PsfStarFit[];
  /** True when the spatial variation was restricted to affine changes of the mean PSF (few stars). */
  affineVariation: boolean;
}

/** Default stamp side for a FWHM (px): about 5 FWHM, odd, in [15, 45]. */
export function stampSizeFor(fwhm: number): number {
  return Math.min(45, Math.max(15, 2 * Math.ceil(2.5 * fwhm) + 1));
}

/** A detected peak this close to a star's centroid is the star itself, px. */
const SELF_RADIUS_PX = 2.5;

/**
 * @param others positions of all detected sources, to mask neighbours (the stars themselves may be included)
 * @param fwhm a first FWHM estimate, px (sets the stamp and neighbour mask sizes)
 * @param helper a thread the per-star and per-pixel work is shared with when it is free (fit-bands.ts)
 */
export function fitPixelPsf(
  image: PsfFitImage,
  stars: PsfStarInput[],
  others: Array<{ x: number; y: number }>,
  fwhm: number,
  config: Partial<PsfFitConfig> = {},
  helper: Helper | null = null,
): PsfFitResult {
  const cfg = { ...DEFAULT_PSF_FIT_CONFIG, ...config };
  const size = cfg.stampSize > 0 ? cfg.stampSize | 1 : stampSizeFor(fwhm);
  const padded = size + 2 * LANCZOS_A;
  const near = pointGrid(others, NEIGHBOUR_CELL_PX);
  const inside = stars.filter((s) => stampOrigin(image, s, padded) !== null);
  const store = newStarStore(inside.length, padded);
  inside.forEach((s, k) => extractStar(image, s, store, k, near, cfg.neighborMaskFwhm * fwhm));
  const polyTermsOf = polyTerms(cfg.degree);
  const nT = polyTermsOf.length;
  const frame = { width: image.width, height: image.height };
  const norm = new PixelPsf(size, 0, new Float64Array(size * size), frame);
  const terms = new Float64Array(new SharedArrayBuffer(8 * nT * inside.length));
  inside.forEach((s, k) => terms.set(polyValues(polyTermsOf, ...norm.normalize(s.x, s.y)), nT * k));
  const affine = inside.length < cfg.freeVariationMinStars;
  const foreignRadius =
    inside.length >= cfg.foreignLightMinStars ? cfg.foreignLightFwhm * fwhm : Infinity;
  const fitBasis = (withModel: boolean): PixelPsf => {
    recentreStars(store, withModel, helper);
    let basis = solveBasis(store, size, nT, terms, cfg.accuracy, foreignRadius, helper);
    if (affine && nT > 1) basis = projectVariation(basis, size, nT);
    return new PixelPsf(size, cfg.degree, basis, frame);
  };
  let psf: PixelPsf | null = null;
  for (let it = 0; it < cfg.iterations; it++) {
    // Unusable pixels take the last model's value (drawn by refitStars), zero on the first pass.
    psf = fitBasis(psf !== null);
    refitStars(store, psf, it === 0 ? Infinity : cfg.pixelClipSigma, cfg.minFitSnr, helper);
    rejectStars(store.fit, cfg.starClipSigma);
  }
  const final = psf ?? fitBasis(false);
  const fits = inside.map((s, k): PsfStarFit => {
    const f = store.fit.subarray(FIT * k, FIT * k + FIT);
    return {
      x: s.x,
      y: s.y,
      flux: f[FLUX],
      fluxErr: f[FLUX_ERR],
      chi2: f[CHI2],
      dof: f[DOF],
      used: f[USED] === 1,
    };
  });
  return { psf: final, stars: fits, affineVariation: affine && nT > 1 };
}

/** Side of the cells detected sources are binned in to find a star's neighbours, px. */
const NEIGHBOUR_CELL_PX = 64;

/** The points in the cells that meet a box [x0, x1] x [y0, y1]: a superset of those inside it. */
type PointQuery = (
  x0: number,
  x1: number,
  y0: number,
  y1: number,
) => Array<{ x: number; y: number }>;

function pointGrid(points: Array<{ x: number; y: number }>, cell: number): PointQuery {
  // Numeric cell keys (cells beyond 2^16 a side never arise: images are far smaller than 2^22 px).
  const key = (cx: number, cy: number): number => cy * 65536 + cx;
  const cells = new Map<number, Array<{ x: number; y: number }>>();
  for (const p of points) {
    const k = key(Math.floor(p.x / cell), Math.floor(p.y / cell));
    const list = cells.get(k);
    if (list) list.push(p);
    else cells.set(k, [p]);
  }
  return (x0, x1, y0, y1) => {
    const out: Array<{ x: number; y: number }> = [];
    for (let cy = Math.floor(y0 / cell); cy <= Math.floor(y1 / cell); cy++) {
      for (let cx = Math.floor(x0 / cell); cx <= Math.floor(x1 / cell); cx++) {
        const list = cells.get(key(cx, cy));
        if (list) for (const p of list) out.push(p);
      }
    }
    return out;
  };
}

/** The lower-left pixel of a star's padded stamp, or null when the stamp does not fit on the image. */
function stampOrigin(
  image: PsfFitImage,
  s: PsfStarInput,
  padded: number,
): { x0: number; y0: number } | null {
  const half = (padded - 1) / 2;
  const x0 = Math.round(s.x) - half;
  const y0 = Math.round(s.y) - half;
  if (x0 < 0 || y0 < 0 || x0 + padded > image.width || y0 + padded > image.height) return null;
  return { x0, y0 };
}

/** Star `k` of the store: its stamp, unusable pixels and neighbours masked, its first flux and position. */
function extractStar(
  image: PsfFitImage,
  s: PsfStarInput,
  store: StarStore,
  k: number,
  near: PointQuery,
  maskRadius: number,
): void {
  const { x0, y0 } = stampOrigin(image, s, store.padded) as { x0: number; y0: number };
  const padded = store.padded;
  const n = padded * padded;
  const data = store.data.subarray(k * n, (k + 1) * n);
  const variance = store.variance.subarray(k * n, (k + 1) * n);
  const bad = store.bad.subarray(k * n, (k + 1) * n);
  for (let j = 0; j < padded; j++) {
    for (let i = 0; i < padded; i++) {
      const q = (y0 + j) * image.width + x0 + i;
      data[j * padded + i] = image.residual[q];
      variance[j * padded + i] = image.variance[q];
      bad[j * padded + i] =
        image.bad[q] || !(image.variance[q] > 0) || !Number.isFinite(image.residual[q]) ? 1 : 0;
    }
  }
  const r2 = maskRadius * maskRadius;
  for (const o of near(
    x0 - maskRadius,
    x0 + padded + maskRadius,
    y0 - maskRadius,
    y0 + padded + maskRadius,
  )) {
    // The star's own detection peak (binned detection places it up to ~1.5 px from the centroid).
    if ((o.x - s.x) ** 2 + (o.y - s.y) ** 2 < SELF_RADIUS_PX ** 2) continue;
    if (
      o.x < x0 - maskRadius ||
      o.x > x0 + padded + maskRadius ||
      o.y < y0 - maskRadius ||
      o.y > y0 + padded + maskRadius
    )
      continue;
    // Products, not `** 2` (a pow call in V8; the same values): these loops are per stamp pixel.
    for (let j = 0; j < padded; j++) {
      const dy = y0 + j - o.y;
      for (let i = 0; i < padded; i++) {
        const dx = x0 + i - o.x;
        if (dx * dx + dy * dy < r2) bad[j * padded + i] = 1;
      }
    }
  }
  store.pos.set([s.x, s.y, s.x - Math.round(s.x), s.y - Math.round(s.y)], POS * k);
  // The first flux, no error nor chi^2 yet, used.
  store.fit.set([s.flux, Number.NaN, Number.NaN, 0, 1], FIT * k);
}

/** Small step of the finite-difference generators. */
const EPS = 0.05;

/**
 * Projects every non-constant term image on the span of the mean PSF B0 and its affine
 * generators (dilation, two shears, two shifts), by unweighted least squares.
 */
function projectVariation(basis: Float64Array, size: number, nT: number): Float64Array {
  const n = size * size;
  const b0 = basis.slice(0, n);
  const diff = (p: Float64Array, q: Float64Array): Float64Array =>
    p.map((v, k) => (v - q[k]) / (2 * EPS));
  const warp = (m00: number, m01: number, m10: number, m11: number): Float64Array =>
    resampleLinear(b0, size, m00, m01, m10, m11);
  const modes = [
    b0,
    diff(warp(1 - EPS, 0, 0, 1 - EPS), warp(1 + EPS, 0, 0, 1 + EPS)),
    diff(warp(1 - EPS, 0, 0, 1 + EPS), warp(1 + EPS, 0, 0, 1 - EPS)),
    diff(warp(1, -EPS, -EPS, 1), warp(1, EPS, EPS, 1)),
    diff(shiftImage(b0, size, EPS, 0), shiftImage(b0, size, -EPS, 0)),
    diff(shiftImage(b0, size, 0, EPS), shiftImage(b0, size, 0, -EPS)),
  ];
  const m = modes.length;
  const gram = new Float64Array(m * m);
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) gram[a * m + b] = dot(modes[a], modes[b]);
  const out = basis.slice();
  for (let t = 1; t < nT; t++) {
    const term = basis.subarray(t * n, (t + 1) * n);
    const rhs = Float64Array.from(modes, (mode) => dot(mode, term));
    const c = solveSymmetric(gram, rhs);
    for (let k = 0; k < n; k++) {
      let v = 0;
      for (let a = 0; a < m; a++) v += c[a] * modes[a][k];
      out[t * n + k] = v;
    }
  }
  return out;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k] * b[k];
  return s;
}

/** Stars whose chi^2/dof is an outlier among the used stars' are no longer used. */
function rejectStars(fit: Float64Array, clip: number): void {
  const used: number[] = [];
  for (let k = 0; k < fit.length / FIT; k++) if (fit[FIT * k + USED] === 1) used.push(k);
  if (used.length < 4) return;
  const q = used.map((k) => fit[FIT * k + CHI2] / fit[FIT * k + DOF]);
  const med = median(q);
  const mad = MAD_TO_SIGMA * median(q.map((v) => Math.abs(v - med)));
  const limit = med + clip * Math.max(mad, 0.05 * med);
  for (const k of used)
    if (fit[FIT * k + CHI2] / fit[FIT * k + DOF] > limit) fit[FIT * k + USED] = 0;
}
