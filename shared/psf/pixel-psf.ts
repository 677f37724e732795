/**
 * An empirical PSF on a pixel basis whose every pixel varies as a polynomial in the detector
 * position, as PSFEx models it (Bertin 2011, ASP Conf. Ser. 442, 435), at oversampling 1.
 * Evaluation shifts the model to the requested sub-pixel phase with Lanczos-3 and renormalises.
 */
import type { Psf, PsfStamp } from './types.js';
import { shiftImage } from './lanczos.js';
import { measureStamp, type StampShape } from './shape.js';

/** Nodes per side of the lattice on which shapes are measured. */
const GRID = 9;

/** Monomials u^a v^b with a + b <= degree, in a fixed order: 1, u, v, u^2, uv, v^2, ... */
export function polyTerms(degree: number): Array<[number, number]> {
  const terms: Array<[number, number]> = [];
  for (let d = 0; d <= degree; d++) for (let b = 0; b <= d; b++) terms.push([d - b, b]);
  return terms;
}

/** Values of the monomials at normalised coordinates (u, v). */
export function polyValues(terms: Array<[number, number]>, u: number, v: number): Float64Array {
  const out = new Float64Array(terms.length);
  for (let t = 0; t < terms.length; t++) out[t] = u ** terms[t][0] * v ** terms[t][1];
  return out;
}

export interface PixelPsfFrame {
  /** Image size the polynomial's coordinates are normalised on, px. */
  width: number;
  height: number;
}

export class PixelPsf implements Psf {
  readonly terms: Array<[number, number]>;
  private readonly shapeCache = new Map<number, StampShape>();

  /**
   * @param stampSize odd side of the basis images, px
   * @param degree polynomial degree in position
   * @param basis one stampSize^2 image per monomial (polyTerms order), concatenated
   * @param frame image the positions refer to
   */
  constructor(
    readonly stampSize: number,
    readonly degree: number,
    readonly basis: Float64Array,
    readonly frame: PixelPsfFrame,
  ) {
    this.terms = polyTerms(degree);
    if (basis.length !== this.terms.length * stampSize * stampSize)
      throw new RangeError('PixelPsf: basis size does not match degree and stamp size');
  }

  /** Normalised detector coordinates in [-1, 1]. */
  normalize(x: number, y: number): [number, number] {
    return [
      (2 * x) / Math.max(1, this.frame.width - 1) - 1,
      (2 * y) / Math.max(1, this.frame.height - 1) - 1,
    ];
  }

  /** The model centred on the central pixel, unnormalised. */
  centeredModel(x: number, y: number): Float64Array {
    const n = this.stampSize * this.stampSize;
    const [u, v] = this.normalize(x, y);
    const p = polyValues(this.terms, u, v);
    const out = new Float64Array(n);
    for (let t = 0; t < p.length; t++) {
      const c = p[t];
      const off = t * n;
      for (let k = 0; k < n; k++) out[k] += c * this.basis[off + k];
    }
    return out;
  }

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const size = this.stampSize;
    let model = this.centeredModel(x, y);
    if (!centered) {
      const dx = x - Math.round(x);
      const dy = y - Math.round(y);
      if (dx !== 0 || dy !== 0) model = shiftImage(model, size, dx, dy);
    }
    let sum = 0;
    for (let k = 0; k < model.length; k++) sum += model[k];
    const data = new Float32Array(model.length);
    for (let k = 0; k < model.length; k++) data[k] = model[k] / sum;
    return { size, data };
  }

  /**
   * Shape at (x, y): measured on the nodes of a GRID x GRID lattice over the image (lazily, cached)
   * and interpolated bilinearly, since the polynomial varies slowly.
   */
  shapeAt(x: number, y: number): StampShape {
    const gx = Math.min(
      GRID - 1,
      Math.max(0, (x / Math.max(1, this.frame.width - 1)) * (GRID - 1)),
    );
    const gy = Math.min(
      GRID - 1,
      Math.max(0, (y / Math.max(1, this.frame.height - 1)) * (GRID - 1)),
    );
    const ix = Math.min(GRID - 2, Math.floor(gx));
    const iy = Math.min(GRID - 2, Math.floor(gy));
    const fx = gx - ix;
    const fy = gy - iy;
    const weights = [(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy];
    const corners = [
      [ix, iy],
      [ix + 1, iy],
      [ix, iy + 1],
      [ix + 1, iy + 1],
    ].map(([i, j], k) => (weights[k] > 0 ? this.node(i, j) : null));
    const mix = (key: keyof StampShape): number =>
      corners.reduce((s, c, k) => s + (c ? weights[k] * c[key] : 0), 0);
    return {
      fwhm: mix('fwhm'),
      fwhmGauss: mix('fwhmGauss'),
      sigma: mix('sigma'),
      ellipticity: mix('ellipticity'),
      ixx: mix('ixx'),
      iyy: mix('iyy'),
      ixy: mix('ixy'),
    };
  }

  private node(i: number, j: number): StampShape {
    const key = j * GRID + i;
    let shape = this.shapeCache.get(key);
    if (!shape) {
      const x = (i / (GRID - 1)) * (this.frame.width - 1);
      const y = (j / (GRID - 1)) * (this.frame.height - 1);
      shape = measureStamp(this.stampAt(x, y, true).data, this.stampSize);
      this.shapeCache.set(key, shape);
    }
    return shape;
  }

  fwhmAt(x: number, y: number): number {
    return this.shapeAt(x, y).fwhm;
  }

  sigmaAt(x: number, y: number): number {
    return this.shapeAt(x, y).sigma;
  }
}
