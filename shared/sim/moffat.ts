/**
 * Elliptical Moffat point-spread functions (Moffat 1969, A&A 3, 455): I(r) ~ (1 + r^2/alpha^2)^-beta,
 * with FWHM = 2 alpha sqrt(2^(1/beta) - 1), rendered pixel-integrated by sub-pixel sampling.
 *
 * One renderer (`addMoffat`) draws both the stars in the images and the stamps of the true PSF,
 * so a PSF stamp is exactly the pixel pattern of a star at that position.
 */
import type { Psf, PsfStamp } from '../psf/types.js';

/**
 * One elliptical Moffat: the quadratic form Q(dx, dy) = qa dx^2 + 2 qc dx dy + qb dy^2 has
 * determinant 1, so alpha is the geometric mean of the major and minor scale lengths, pixels.
 */
export interface MoffatShape {
  alpha: number;
  beta: number;
  qa: number;
  qb: number;
  qc: number;
}

/** Alpha of a Moffat with the given FWHM, pixels. */
export function moffatAlpha(fwhm: number, beta: number): number {
  return fwhm / (2 * Math.sqrt(Math.pow(2, 1 / beta) - 1));
}

/** FWHM (geometric mean of the major and minor axes) of a Moffat shape, pixels. */
export function moffatFwhm(shape: MoffatShape): number {
  return 2 * shape.alpha * Math.sqrt(Math.pow(2, 1 / shape.beta) - 1);
}

/**
 * A Moffat with the given FWHM, ellipticity e = 1 - b/a and major-axis angle theta
 * (radians, counter-clockwise from +x).
 */
export function moffatShape(
  fwhm: number,
  beta: number,
  ellipticity: number,
  theta: number,
): MoffatShape {
  const q = 1 - ellipticity;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  return {
    alpha: moffatAlpha(fwhm, beta),
    beta,
    qa: q * cos * cos + (sin * sin) / q,
    qb: q * sin * sin + (cos * cos) / q,
    qc: cos * sin * (q - 1 / q),
  };
}

/** Largest distance along the major axis at which Q/alpha^2 equals t. */
function majorExtent(shape: MoffatShape, t: number): number {
  // The smallest eigenvalue of the quadratic form is the squared axis ratio term q.
  const half = (shape.qa + shape.qb) / 2;
  const minEig = half - Math.sqrt(Math.max(0, half * half - 1));
  return shape.alpha * Math.sqrt(t / minEig);
}

/**
 * Radius (pixels) beyond which a Moffat of total `flux` adds less than `threshold` per pixel,
 * clamped to [2, maxRadius].
 */
export function moffatRadius(
  shape: MoffatShape,
  flux: number,
  threshold: number,
  maxRadius: number,
): number {
  const peak = (Math.abs(flux) * (shape.beta - 1)) / (Math.PI * shape.alpha * shape.alpha);
  if (peak <= threshold) return 2;
  const t = Math.pow(peak / threshold, 1 / shape.beta) - 1;
  return Math.min(maxRadius, Math.max(2, majorExtent(shape, t)));
}

/** The profile (1 + s^2)^-beta tabulated in s = r/alpha (linear interpolation, error < 1e-4 of the peak) out to TABLE_MAX. */
const TABLE_STEPS = 128;
const TABLE_MAX = 32;
const TABLE_LAST = TABLE_MAX * TABLE_STEPS;
const tables = new Map<number, Float64Array>();

function profileTable(beta: number): Float64Array {
  let table = tables.get(beta);
  if (!table) {
    table = new Float64Array(TABLE_LAST + 1);
    for (let k = 0; k <= TABLE_LAST; k++) table[k] = Math.pow(1 + (k / TABLE_STEPS) ** 2, -beta);
    if (tables.size > 64) tables.clear();
    tables.set(beta, table);
  }
  return table;
}

/** Sub-pixel offsets of an n x n grid centred on a pixel. */
const SUB_OFFSETS = [1, 2, 3].map((n) =>
  Float64Array.from({ length: n }, (_, i) => (i + 0.5) / n - 0.5),
);

/**
 * Adds a Moffat of total flux `flux` (normalised over the infinite plane) centred at (cx, cy)
 * to the pixels within `radius` of it, each pixel integrated by n x n sub-samples
 * (n = 3 inside Q < alpha^2, 2 inside Q < 4 alpha^2, 1 beyond), the profile read from a table.
 */
export function addMoffat(
  target: Float32Array | Float64Array,
  width: number,
  height: number,
  cx: number,
  cy: number,
  shape: MoffatShape,
  flux: number,
  radius: number,
): void {
  const { alpha, beta, qa, qb, qc } = shape;
  const table = profileTable(beta);
  const invA2 = 1 / (alpha * alpha);
  const amp = (flux * (beta - 1)) / (Math.PI * alpha * alpha);
  const x0 = Math.max(0, Math.ceil(cx - radius));
  const x1 = Math.min(width - 1, Math.floor(cx + radius));
  const y0 = Math.max(0, Math.ceil(cy - radius));
  const y1 = Math.min(height - 1, Math.floor(cy + radius));
  const r2max = radius * radius;
  for (let y = y0; y <= y1; y++) {
    const dy = y - cy;
    const row = y * width;
    for (let x = x0; x <= x1; x++) {
      const dx = x - cx;
      if (dx * dx + dy * dy > r2max) continue;
      const t = (qa * dx * dx + 2 * qc * dx * dy + qb * dy * dy) * invA2;
      const offsets = SUB_OFFSETS[t < 1 ? 2 : t < 4 ? 1 : 0];
      const n = offsets.length;
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const sy = dy + offsets[j];
        for (let i = 0; i < n; i++) {
          const sx = dx + offsets[i];
          const ts = (qa * sx * sx + 2 * qc * sx * sy + qb * sy * sy) * invA2;
          const u = Math.sqrt(ts) * TABLE_STEPS;
          if (u < TABLE_LAST) {
            const k = u | 0;
            sum += table[k] + (u - k) * (table[k + 1] - table[k]);
          } else {
            sum += Math.pow(1 + ts, -beta);
          }
        }
      }
      target[row + x] += (amp * sum) / (n * n);
    }
  }
}

/** How a Moffat PSF's FWHM and ellipticity vary over a detector (coordinates u, v in [-1, 1]). */
export interface MoffatField {
  /** Detector side, pixels. */
  size: number;
  /** FWHM at the centre, pixels. */
  fwhm: number;
  beta: number;
  /** FWHM(u, v) = fwhm (1 + gradU u + gradV v + curvature (u^2 + v^2)). */
  gradU: number;
  gradV: number;
  curvature: number;
  /** Ellipticity components e1 = e1c + astig (u^2 - v^2) / 2, e2 = e2c + astig u v. */
  e1c: number;
  e2c: number;
  astig: number;
}

/** The true PSF of a simulated image: an elliptical Moffat whose FWHM and shape vary smoothly. */
export class MoffatPsf implements Psf {
  readonly stampSize: number;

  /** The same Moffat over the whole field (no gradients, curvature or astigmatism): tests' stars. */
  static uniform(size: number, fwhm: number, beta: number, e1c = 0, e2c = 0): MoffatPsf {
    return new MoffatPsf({
      size,
      fwhm,
      beta,
      gradU: 0,
      gradV: 0,
      curvature: 0,
      e1c,
      e2c,
      astig: 0,
    });
  }

  constructor(readonly field: MoffatField) {
    const f = field;
    const worst =
      f.fwhm * (1 + Math.abs(f.gradU) + Math.abs(f.gradV) + Math.max(0, 2 * f.curvature));
    this.stampSize = 2 * Math.ceil(4 * worst) + 1;
  }

  /** The Moffat at image position (x, y), 0-based pixels. */
  shapeAt(x: number, y: number): MoffatShape {
    const f = this.field;
    const half = (f.size - 1) / 2;
    const u = (x - half) / half;
    const v = (y - half) / half;
    const fwhm = f.fwhm * (1 + f.gradU * u + f.gradV * v + f.curvature * (u * u + v * v));
    const e1 = f.e1c + (f.astig * (u * u - v * v)) / 2;
    const e2 = f.e2c + f.astig * u * v;
    return moffatShape(fwhm, f.beta, Math.min(0.5, Math.hypot(e1, e2)), 0.5 * Math.atan2(e2, e1));
  }

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const size = this.stampSize;
    const half = (size - 1) / 2;
    const px = centered ? 0 : x - Math.round(x);
    const py = centered ? 0 : y - Math.round(y);
    const buffer = new Float64Array(size * size);
    addMoffat(buffer, size, size, half + px, half + py, this.shapeAt(x, y), 1, size);
    let sum = 0;
    for (const value of buffer) sum += value;
    const data = new Float32Array(size * size);
    for (let i = 0; i < data.length; i++) data[i] = buffer[i] / sum;
    return { size, data };
  }

  fwhmAt(x: number, y: number): number {
    return moffatFwhm(this.shapeAt(x, y));
  }

  /** From the second moments of the centred stamp, so it is what a moments measurement sees. */
  sigmaAt(x: number, y: number): number {
    const { size, data } = this.stampAt(x, y, true);
    const half = (size - 1) / 2;
    let m2 = 0;
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++) m2 += data[j * size + i] * ((i - half) ** 2 + (j - half) ** 2);
    }
    return Math.sqrt(m2 / 2);
  }
}
