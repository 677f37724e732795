/**
 * Trailed-source fit: a moving object's image is its PSF convolved with the line segment it
 * crosses during the exposure (Veres et al. 2012, PASP 124, 1197, the model of Rubin's
 * TrailedSourceMeasurement), fitted to the difference image for centre, length, angle and flux.
 *
 * The segment is sampled at TRAIL_STEPS_PER_PIXEL points, each one the image's own PSF model with
 * its sub-pixel phase (quantised to 1/PHASE_STEPS px, stamps cached): exact for any PSF shape, so
 * the flux is not biased by a Gaussian stand-in. The four shape parameters (centre, and the
 * trail's half-vector in pixels) are fitted by Levenberg-Marquardt on the chi-square with the flux
 * profiled out (linear least squares at each step); errors come from the Fisher matrix of all
 * five at the minimum (Cramer-Rao), as the PSF fit's do.
 */
import type { ImageF, MaskI } from '../image/plane.js';
import { UNUSABLE } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { invertOrNull, SingularMatrixError, solveGeneral } from '../util/linalg.js';

/** Samples of the PSF per pixel of trail length. */
const TRAIL_STEPS_PER_PIXEL = 4;
/** Sub-pixel phases per pixel of the cached PSF stamps (position error <= 1/32 px). */
const PHASE_STEPS = 16;
/** Finite-difference step of the shape parameters, pixels (several phase steps: the model is smooth on it). */
const DIFF_STEP = 0.25;
const MAX_ITERATIONS = 40;
/** Largest ratio of a parameter's variance to its unmarginalised one before the fit counts as degenerate. */
const MAX_VARIANCE_INFLATION = 1e4;

/** Where the fit starts: centre (pixels) and the trail as a vector (pixels, full length). */
export interface TrailStart {
  x: number;
  y: number;
  dx: number;
  dy: number;
  /**
   * Other sources near the trail (centre in pixels, PSF flux in image units), whose PSF models are
   * subtracted from the fit box first, as DAOPHOT fits a star with its neighbours removed: else a
   * brighter neighbour's light draws the trail out to it.
   */
  neighbours?: ReadonlyArray<{ x: number; y: number; flux: number }>;
}

export interface TrailFit {
  x: number;
  y: number;
  xErr: number;
  yErr: number;
  /** Full length, pixels, and its angle counter-clockwise from +x in [0, 180) degrees. */
  lengthPx: number;
  lengthErrPx: number;
  angleDeg: number;
  angleErrDeg: number;
  /** Total flux of the trail, image units. */
  flux: number;
  fluxErr: number;
  chi2: number;
  ndata: number;
  /** The fitted trail (grown by the fit box's margin) reaches the image edge or unusable pixels there. */
  edge: boolean;
  /** Covariance of (x, y, dx, dy) in pixels^2, row-major 4x4. */
  shapeCov: Float64Array;
}

export interface TrailFitOptions {
  /** Margin of the fit box around the trail, in PSF FWHMs. Default 2. */
  marginFwhm: number;
  /** Longest trail fitted, pixels (the fit box grows with it). Default 200. */
  maxLengthPx: number;
}

export const DEFAULT_TRAIL_FIT_OPTIONS: TrailFitOptions = { marginFwhm: 2, maxLengthPx: 200 };

/** The model's pixels: a box of the image with the data, inverse variances and usable flags. */
interface FitBox {
  x0: number;
  y0: number;
  w: number;
  h: number;
  data: Float64Array;
  weight: Float64Array;
}

/** The PSF sampled along a segment, drawn into the fit box (unit total flux when the box holds it all). */
class TrailModel {
  private readonly stamps = new Map<number, Float32Array>();
  private readonly cx: number;
  private readonly cy: number;
  private readonly half: number;
  private readonly size: number;

  constructor(
    private readonly psf: Psf,
    private readonly box: FitBox,
    x: number,
    y: number,
  ) {
    this.cx = Math.round(x);
    this.cy = Math.round(y);
    this.size = psf.stampAt(this.cx, this.cy).size;
    this.half = (this.size - 1) / 2;
  }

  /** The PSF stamp of sub-pixel phase (qx, qy) / PHASE_STEPS, centre pixel (cx, cy). */
  private stamp(qx: number, qy: number): Float32Array {
    const key = qx * 1000 + qy;
    let s = this.stamps.get(key);
    if (!s) {
      s = this.psf.stampAt(this.cx + qx / PHASE_STEPS, this.cy + qy / PHASE_STEPS).data;
      this.stamps.set(key, s);
    }
    return s;
  }

  /** The model with centre (x, y) and full trail vector (dx, dy), drawn into `out` (box size). */
  draw(p: ArrayLike<number>, steps: number, out: Float64Array): void {
    out.fill(0);
    const { box, half, size } = this;
    const w = 1 / steps;
    for (let k = 0; k < steps; k++) {
      const t = steps === 1 ? 0 : (k + 0.5) / steps - 0.5;
      const nx = Math.round((p[0] + t * p[2]) * PHASE_STEPS);
      const ny = Math.round((p[1] + t * p[3]) * PHASE_STEPS);
      // Integer pixel and phase in [-1/2, 1/2) so that round() of the stamp's centre is the pixel itself.
      const ix = Math.floor((nx + PHASE_STEPS / 2) / PHASE_STEPS);
      const iy = Math.floor((ny + PHASE_STEPS / 2) / PHASE_STEPS);
      const stamp = this.stamp(nx - ix * PHASE_STEPS, ny - iy * PHASE_STEPS);
      for (let b = 0; b < size; b++) {
        const row = iy - half + b - box.y0;
        if (row < 0 || row >= box.h) continue;
        for (let a = 0; a < size; a++) {
          const col = ix - half + a - box.x0;
          if (col < 0 || col >= box.w) continue;
          out[row * box.w + col] += w * stamp[b * size + a];
        }
      }
    }
  }
}

/** Subtracts `flux` times the PSF at (x, y) from the box's data (where it overlaps). */
function subtractPsf(box: FitBox, psf: Psf, n: { x: number; y: number; flux: number }): void {
  const stamp = psf.stampAt(n.x, n.y);
  const half = (stamp.size - 1) / 2;
  const sx = Math.round(n.x) - half - box.x0;
  const sy = Math.round(n.y) - half - box.y0;
  for (let b = 0; b < stamp.size; b++) {
    const row = sy + b;
    if (row < 0 || row >= box.h) continue;
    for (let a = 0; a < stamp.size; a++) {
      const col = sx + a;
      if (col >= 0 && col < box.w)
        box.data[row * box.w + col] -= n.flux * stamp.data[b * stamp.size + a];
    }
  }
}

function stepsFor(lengthPx: number): number {
  return Math.max(1, Math.ceil(lengthPx * TRAIL_STEPS_PER_PIXEL));
}

/** Flux and chi-square of the model m against the box with the flux fitted linearly. */
function profile(box: FitBox, m: Float64Array): { flux: number; chi2: number } {
  let smd = 0;
  let smm = 0;
  for (let i = 0; i < m.length; i++) {
    smd += box.weight[i] * m[i] * box.data[i];
    smm += box.weight[i] * m[i] * m[i];
  }
  const flux = smm > 0 ? smd / smm : 0;
  let chi2 = 0;
  for (let i = 0; i < m.length; i++) {
    const r = box.data[i] - flux * m[i];
    chi2 += box.weight[i] * r * r;
  }
  return { flux, chi2 };
}

/**
 * Fits a trailed PSF to the image around `start`; null when the box holds no usable pixel or the
 * normal equations are singular at the start.
 */
export function fitTrail(
  image: ImageF,
  variance: ImageF,
  mask: MaskI,
  psf: Psf,
  start: TrailStart,
  options: TrailFitOptions = DEFAULT_TRAIL_FIT_OPTIONS,
): TrailFit | null {
  const startLength = Math.min(options.maxLengthPx, Math.hypot(start.dx, start.dy));
  const margin = Math.ceil(options.marginFwhm * psf.fwhmAt(start.x, start.y));
  const reach = Math.ceil(startLength / 2) + margin;
  const bx0 = Math.round(start.x) - reach;
  const by0 = Math.round(start.y) - reach;
  const x0 = Math.max(0, bx0);
  const y0 = Math.max(0, by0);
  const x1 = Math.min(image.width - 1, Math.round(start.x) + reach);
  const y1 = Math.min(image.height - 1, Math.round(start.y) + reach);
  if (x1 < x0 || y1 < y0) return null;
  const box: FitBox = {
    x0,
    y0,
    w: x1 - x0 + 1,
    h: y1 - y0 + 1,
    data: new Float64Array((x1 - x0 + 1) * (y1 - y0 + 1)),
    weight: new Float64Array((x1 - x0 + 1) * (y1 - y0 + 1)),
  };
  let ndata = 0;
  let edge = x0 !== bx0 || y0 !== by0 || x1 - x0 !== 2 * reach || y1 - y0 !== 2 * reach;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = (y - y0) * box.w + (x - x0);
      const v = variance.get(x, y);
      const d = image.get(x, y);
      if ((mask.get(x, y) & UNUSABLE) !== 0 || !(v > 0) || !Number.isFinite(d)) {
        edge = true;
        continue;
      }
      box.data[i] = d;
      box.weight[i] = 1 / v;
      ndata++;
    }
  }
  if (ndata === 0) return null;
  for (const n of start.neighbours ?? []) subtractPsf(box, psf, n);

  const model = new TrailModel(psf, box, start.x, start.y);
  const m = new Float64Array(box.data.length);
  const evaluate = (p: Float64Array, steps: number) => {
    model.draw(p, steps, m);
    return profile(box, m);
  };
  let p = Float64Array.of(start.x, start.y, start.dx, start.dy);
  let steps = stepsFor(startLength);
  let best = evaluate(p, steps);
  let lambda = 1e-3;
  const residuals = (q: Float64Array, s: number): Float64Array => {
    model.draw(q, s, m);
    const { flux } = profile(box, m);
    return m.map((v, i) => Math.sqrt(box.weight[i]) * (box.data[i] - flux * v));
  };
  for (let iter = 0; iter < MAX_ITERATIONS; iter++) {
    // Jacobian of the flux-profiled residuals by central differences (variable projection).
    const cols = [0, 1, 2, 3].map((j) => centralDifference(p, j, (q) => residuals(q, steps)));
    const r0 = residuals(p, steps);
    const jtj = new Float64Array(16);
    const jtr = new Float64Array(4);
    for (let a = 0; a < 4; a++) {
      for (let i = 0; i < r0.length; i++) jtr[a] -= cols[a][i] * r0[i];
      for (let b = a; b < 4; b++) {
        let s = 0;
        for (let i = 0; i < r0.length; i++) s += cols[a][i] * cols[b][i];
        jtj[a * 4 + b] = jtj[b * 4 + a] = s;
      }
    }
    let improved = false;
    for (let tries = 0; tries < 8 && !improved; tries++) {
      const damped = Float64Array.from(jtj);
      for (let a = 0; a < 4; a++) damped[a * 5] *= 1 + lambda;
      let delta: Float64Array;
      try {
        delta = solveGeneral(damped, jtr);
      } catch (err) {
        if (!(err instanceof SingularMatrixError)) throw err;
        lambda *= 10;
        continue;
      }
      const next = p.map((v, j) => v + delta[j]);
      if (Math.hypot(next[2], next[3]) > options.maxLengthPx) {
        lambda *= 10;
        continue;
      }
      const nextSteps = stepsFor(Math.hypot(next[2], next[3]));
      const trial = evaluate(next, nextSteps);
      if (trial.chi2 < best.chi2) {
        const gain = best.chi2 - trial.chi2;
        p = next;
        steps = nextSteps;
        best = trial;
        lambda = Math.max(1e-6, lambda / 10);
        improved = true;
        if (gain < 1e-6 * Math.max(1, best.chi2)) iter = MAX_ITERATIONS;
      } else lambda *= 10;
    }
    if (!improved) break;
  }

  // Fisher matrix of (x, y, dx, dy, flux) at the minimum.
  model.draw(p, steps, m);
  const { flux, chi2 } = profile(box, m);
  const mAt = Float64Array.from(m);
  const scaled = (q: Float64Array): Float64Array => {
    model.draw(q, steps, m);
    return m.map((v) => flux * v);
  };
  const grads = [0, 1, 2, 3].map((j) => centralDifference(p, j, scaled));
  grads.push(mAt);
  const fisher = new Float64Array(25);
  for (let a = 0; a < 5; a++)
    for (let b = a; b < 5; b++) {
      let s = 0;
      for (let i = 0; i < mAt.length; i++) s += box.weight[i] * grads[a][i] * grads[b][i];
      fisher[a * 5 + b] = fisher[b * 5 + a] = s;
    }
  const cov = covarianceOf(fisher);
  const [x, y, dx, dy] = p;
  const length = Math.hypot(dx, dy);
  const [vxx, vxy, vyy] = [cov[2 * 5 + 2], cov[2 * 5 + 3], cov[3 * 5 + 3]];
  const lengthVar =
    length > 0 ? (dx * dx * vxx + 2 * dx * dy * vxy + dy * dy * vyy) / length ** 2 : NaN;
  const angleVar =
    length > 0 ? (dy * dy * vxx - 2 * dx * dy * vxy + dx * dx * vyy) / length ** 4 : NaN;
  const angle = ((((Math.atan2(dy, dx) * 180) / Math.PI) % 180) + 180) % 180;
  const shapeCov = new Float64Array(16);
  for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) shapeCov[a * 4 + b] = cov[a * 5 + b];
  return {
    x,
    y,
    xErr: Math.sqrt(cov[0]),
    yErr: Math.sqrt(cov[6]),
    lengthPx: length,
    lengthErrPx: Math.sqrt(lengthVar),
    angleDeg: angle,
    angleErrDeg: (Math.sqrt(angleVar) * 180) / Math.PI,
    flux,
    fluxErr: Math.sqrt(cov[24]),
    chi2,
    ndata,
    edge,
    shapeCov,
  };
}

/** d f / d p_j by a central difference of step DIFF_STEP (f returns a fresh array). */
function centralDifference(
  p: Float64Array,
  j: number,
  f: (q: Float64Array) => Float64Array,
): Float64Array {
  const hi = Float64Array.from(p);
  const lo = Float64Array.from(p);
  hi[j] += DIFF_STEP;
  lo[j] -= DIFF_STEP;
  const fh = f(hi);
  const fl = f(lo);
  return fh.map((v, i) => (v - fl[i]) / (2 * DIFF_STEP));
}

/**
 * The inverse of the 5x5 Fisher matrix of (x, y, dx, dy, flux). A trail much shorter than the PSF
 * leaves the model flat in (dx, dy) (it depends on them only at second order): then the shape's
 * variances are unknown (NaN) and the centre and flux take those of a PSF fit, the (x, y, flux)
 * block alone.
 */
function covarianceOf(fisher: Float64Array): Float64Array {
  const full = invertOrNull(fisher);
  // Each variance is at least 1 / its Fisher diagonal; MAX_VARIANCE_INFLATION times that means degenerate.
  const sound = (k: number): boolean =>
    full !== null && full[k] > 0 && full[k] * fisher[k] < MAX_VARIANCE_INFLATION;
  if (full && [0, 6, 12, 18, 24].every(sound)) return full;
  const keep = [0, 1, 4];
  const sub = new Float64Array(9);
  keep.forEach((a, i) => keep.forEach((b, j) => (sub[i * 3 + j] = fisher[a * 5 + b])));
  const inv = invertOrNull(sub);
  const out = new Float64Array(25).fill(Number.NaN);
  if (inv) keep.forEach((a, i) => keep.forEach((b, j) => (out[a * 5 + b] = inv[i * 3 + j])));
  return out;
}
