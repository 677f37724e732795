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

interface StarData {
  input: PsfStarInput;
  /** Stamp origin (lower-left pixel of the padded stamp) in the image. */
  x0: number;
  y0: number;
  /** Sub-pixel offset of the centroid from the stamp centre. */
  dx: number;
  dy: number;
  data: Float64Array;
  variance: Float64Array;
  bad: Uint8Array;
  fit: PsfStarFit;
  /** The last model drawn at this star, and of which PSF (refitStar draws the one the next fitBasis starts from). */
  model: { psf: PixelPsf; values: Float64Array } | null;
}

/**
 * @param others positions of all detected sources, to mask neighbours (the stars themselves may be included)
 * @param fwhm a first FWHM estimate, px (sets the stamp and neighbour mask sizes)
 */
export function fitPixelPsf(
  image: PsfFitImage,
  stars: PsfStarInput[],
  others: Array<{ x: number; y: number }>,
  fwhm: number,
  config: Partial<PsfFitConfig> = {},
): PsfFitResult {
  const cfg = { ...DEFAULT_PSF_FIT_CONFIG, ...config };
  const size = cfg.stampSize > 0 ? cfg.stampSize | 1 : stampSizeFor(fwhm);
  const padded = size + 2 * LANCZOS_A;
  const near = pointGrid(others, NEIGHBOUR_CELL_PX);
  const data = stars
    .map((s) => extractStar(image, s, padded, near, cfg.neighborMaskFwhm * fwhm))
    .filter((s): s is StarData => s !== null);
  const terms = polyTerms(cfg.degree);
  const affine = data.length < cfg.freeVariationMinStars;
  const foreignRadius =
    data.length >= cfg.foreignLightMinStars ? cfg.foreignLightFwhm * fwhm : Infinity;
  let psf: PixelPsf | null = null;
  for (let it = 0; it < cfg.iterations; it++) {
    psf = fitBasis(
      data,
      size,
      padded,
      terms,
      cfg.degree,
      image,
      psf,
      cfg.accuracy,
      affine,
      foreignRadius,
    );
    for (const star of data)
      refitStar(star, psf, size, padded, it === 0 ? Infinity : cfg.pixelClipSigma, cfg.minFitSnr);
    rejectStars(data, cfg.starClipSigma);
  }
  const final =
    psf ??
    fitBasis(
      data,
      size,
      padded,
      terms,
      cfg.degree,
      image,
      null,
      cfg.accuracy,
      affine,
      foreignRadius,
    );
  return { psf: final, stars: data.map((s) => s.fit), affineVariation: affine && terms.length > 1 };
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

function extractStar(
  image: PsfFitImage,
  s: PsfStarInput,
  padded: number,
  near: PointQuery,
  maskRadius: number,
): StarData | null {
  const cx = Math.round(s.x);
  const cy = Math.round(s.y);
  const half = (padded - 1) / 2;
  const x0 = cx - half;
  const y0 = cy - half;
  if (x0 < 0 || y0 < 0 || x0 + padded > image.width || y0 + padded > image.height) return null;
  const n = padded * padded;
  const data = new Float64Array(n);
  const variance = new Float64Array(n);
  const bad = new Uint8Array(n);
  for (let j = 0; j < padded; j++) {
    for (let i = 0; i < padded; i++) {
      const k = (y0 + j) * image.width + x0 + i;
      data[j * padded + i] = image.residual[k];
      variance[j * padded + i] = image.variance[k];
      bad[j * padded + i] =
        image.bad[k] || !(image.variance[k] > 0) || !Number.isFinite(image.residual[k]) ? 1 : 0;
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
  return {
    input: s,
    x0,
    y0,
    dx: s.x - cx,
    dy: s.y - cy,
    data,
    variance,
    bad,
    fit: {
      x: s.x,
      y: s.y,
      flux: s.flux,
      fluxErr: Number.NaN,
      chi2: Number.NaN,
      dof: 0,
      used: true,
    },
    model: null,
  };
}

/** The model at a star, shifted to its phase, normalised, on the padded stamp. */
function modelAtStar(psf: PixelPsf, star: StarData, padded: number): Float64Array {
  if (star.model?.psf === psf) return star.model.values;
  const stamp = psf.stampAt(star.input.x, star.input.y);
  const out = new Float64Array(padded * padded);
  const off = (padded - psf.stampSize) / 2;
  for (let j = 0; j < psf.stampSize; j++) {
    for (let i = 0; i < psf.stampSize; i++)
      out[(j + off) * padded + i + off] = stamp.data[j * psf.stampSize + i];
  }
  star.model = { psf, values: out };
  return out;
}

/**
 * The foreign-light term is solved only where the flux lever arm separates it from the PSF: its
 * column (1 / f) must keep at least this fraction of its weighted norm once projected off the
 * constant (0.3-0.6 with the spread of star fluxes of simulated fields; 0 when all fluxes are equal).
 */
const MIN_FOREIGN_LEVER = 0.1;

/**
 * One weighted least-squares polynomial per model pixel. Beyond foreignRadius (px; Infinity: nowhere)
 * the foreign light b is fitted per pixel against the mean PSF, and the constant term loses the
 * stars' weighted mean of b / f: the spatial terms are left alone, as a slope in 1 / f across the
 * detector would be noise.
 */
function fitBasis(
  stars: StarData[],
  size: number,
  padded: number,
  terms: Array<[number, number]>,
  degree: number,
  image: PsfFitImage,
  previous: PixelPsf | null,
  accuracy: number,
  affine: boolean,
  foreignRadius: number,
): PixelPsf {
  const nT = terms.length;
  const n = size * size;
  const ata = new Float64Array(n * nT * nT);
  const atb = new Float64Array(n * nT);
  // Per pixel, the weighted sums of 1 / f, 1 / f^2 and d / f (the weight and d sums are ata's and atb's constant term).
  const sz = new Float64Array(n);
  const szz = new Float64Array(n);
  const szd = new Float64Array(n);
  const frame = { width: image.width, height: image.height };
  const norm = new PixelPsf(size, 0, new Float64Array(n), frame);
  const off = LANCZOS_A;
  const filled = new Float64Array(padded * padded);
  const guard = new Uint8Array(padded * padded);
  for (const star of stars) {
    if (!star.fit.used || !(star.fit.flux > 0)) continue;
    const f = star.fit.flux;
    // Unusable pixels take the current model's value before the shift (zero on the first pass, with a 1-px guard).
    const model = previous ? modelAtStar(previous, star, padded) : null;
    filled.set(star.data);
    guard.set(star.bad);
    for (let k = 0; k < filled.length; k++) if (star.bad[k]) filled[k] = model ? f * model[k] : 0;
    if (!model) growBad(guard, padded);
    const centered = shiftImage(filled, padded, -star.dx, -star.dy);
    const [u, v] = norm.normalize(star.input.x, star.input.y);
    const p = polyValues(terms, u, v);
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++) {
        const k = (j + off) * padded + i + off;
        if (guard[k]) continue;
        // PSFEx's PSF_ACCURACY: a floor on each pixel's relative error, so that a few bright stars
        // do not carry the spatial fit alone.
        const floor = accuracy * Math.max(0, centered[k]);
        const wgt = (f * f) / (star.variance[k] + floor * floor);
        const d = centered[k] / f;
        const pix = j * size + i;
        const base = pix * nT * nT;
        for (let a = 0; a < nT; a++) {
          const wa = wgt * p[a];
          atb[pix * nT + a] += wa * d;
          for (let b = a; b < nT; b++) ata[base + a * nT + b] += wa * p[b];
        }
        sz[pix] += wgt / f;
        szz[pix] += wgt / (f * f);
        szd[pix] += (wgt * d) / f;
      }
    }
  }
  let basis: Float64Array = new Float64Array(nT * n);
  const a = new Float64Array(nT * nT);
  const b = new Float64Array(nT);
  const half = (size - 1) / 2;
  for (let pix = 0; pix < n; pix++) {
    for (let r = 0; r < nT; r++) {
      for (let c = r; c < nT; c++) a[r * nT + c] = a[c * nT + r] = ata[pix * nT * nT + r * nT + c];
      b[r] = atb[pix * nT + r];
    }
    const x = solveSymmetric(a, b);
    if (Math.hypot((pix % size) - half, Math.floor(pix / size) - half) >= foreignRadius) {
      // d / f = psf + b / f over the stars: b's least-squares slope, then the stack loses its weighted mean of b / f.
      const sw = ata[pix * nT * nT];
      const meanZ = sz[pix] / sw;
      const lever = szz[pix] - sz[pix] * meanZ;
      if (lever > MIN_FOREIGN_LEVER * szz[pix])
        x[0] -= ((szd[pix] - atb[pix * nT] * meanZ) / lever) * meanZ;
    }
    for (let t = 0; t < nT; t++) basis[t * n + pix] = x[t];
  }
  if (affine && nT > 1) basis = projectVariation(basis, size, nT);
  return new PixelPsf(size, degree, basis, frame);
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

function growBad(bad: Uint8Array, size: number): void {
  const src = bad.slice();
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      if (!src[j * size + i]) continue;
      for (let dj = -1; dj <= 1; dj++) {
        for (let di = -1; di <= 1; di++) {
          const jj = j + dj;
          const ii = i + di;
          if (jj >= 0 && ii >= 0 && jj < size && ii < size) bad[jj * size + ii] = 1;
        }
      }
    }
  }
}

/**
 * Linear flux fit to the model, then chi^2 and pixel clipping over the unpadded stamp; the clip
 * allows a 5% model error so that bright cores are not cut while the model is still rough.
 */
function refitStar(
  star: StarData,
  psf: PixelPsf,
  size: number,
  padded: number,
  clip: number,
  minSnr: number,
): void {
  const model = modelAtStar(psf, star, padded);
  const off = LANCZOS_A;
  let smm = 0;
  let sdm = 0;
  for (let j = off; j < off + size; j++) {
    for (let i = off; i < off + size; i++) {
      const k = j * padded + i;
      if (star.bad[k]) continue;
      smm += (model[k] * model[k]) / star.variance[k];
      sdm += (star.data[k] * model[k]) / star.variance[k];
    }
  }
  const flux = sdm / smm;
  let chi2 = 0;
  let ngood = 0;
  for (let j = off; j < off + size; j++) {
    for (let i = off; i < off + size; i++) {
      const k = j * padded + i;
      if (star.bad[k]) continue;
      const d = star.data[k] - flux * model[k];
      const d2 = d * d;
      const r2 = d2 / star.variance[k];
      const floor = 0.05 * flux * model[k];
      if (d2 > clip * clip * (star.variance[k] + floor * floor)) {
        star.bad[k] = 1;
        continue;
      }
      chi2 += r2;
      ngood++;
    }
  }
  star.fit.flux = flux;
  star.fit.fluxErr = 1 / Math.sqrt(smm);
  star.fit.chi2 = chi2;
  star.fit.dof = Math.max(1, ngood - 1);
  if (!(flux * Math.sqrt(smm) >= minSnr)) star.fit.used = false;
}

function rejectStars(stars: StarData[], clip: number): void {
  const used = stars.filter((s) => s.fit.used);
  if (used.length < 4) return;
  const q = used.map((s) => s.fit.chi2 / s.fit.dof);
  const med = median(q);
  const mad = MAD_TO_SIGMA * median(q.map((v) => Math.abs(v - med)));
  const limit = med + clip * Math.max(mad, 0.05 * med);
  for (const s of used) if (s.fit.chi2 / s.fit.dof > limit) s.fit.used = false;
}
