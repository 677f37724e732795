/**
 * A spatially varying PSF-matching kernel and differential background, as fitted:
 * K(u, v; x, y) = a0 * B0(u, v) + sum_{j>=1} sum_m c[j][m] p_m(x, y) B_j(u, v),
 * bg(x, y) = sum_m b[m] p_m(x, y), with the kernel sum a0 constant over the image.
 * Its low-rank form is K = sum_m p_m(x, y) K_m(u, v): one dense kernel image per
 * polynomial term, which is how whole images are convolved (see convolve-field.ts).
 */
import { basisImage, type KernelBasis } from './basis.js';
import { polyCount, SpatialFrame } from './spatial.js';

/** A KernelSolution as plain data (structured-cloneable, for worker threads). */
export interface KernelSolutionData {
  basis: KernelBasis;
  spatialOrder: number;
  backgroundOrder: number;
  kernelSum: number;
  coefficients: Float64Array[];
  background: Float64Array;
  width: number;
  height: number;
}

export class KernelSolution {
  readonly frame: SpatialFrame;
  /** Dense kernel image of each spatial term (size*size), computed once. */
  readonly termKernels: Float64Array[];

  constructor(
    readonly basis: KernelBasis,
    readonly spatialOrder: number,
    readonly backgroundOrder: number,
    /** Kernel sum a0 (photometric scale of convolved -> target). */
    readonly kernelSum: number,
    /** coefficients[j - 1][m] for basis j >= 1 and spatial term m. */
    readonly coefficients: Float64Array[],
    /** Background polynomial coefficients. */
    readonly background: Float64Array,
    width: number,
    height: number,
  ) {
    this.frame = new SpatialFrame(width, height);
    const m = polyCount(spatialOrder);
    const size2 = basis.size * basis.size;
    const images = basis.terms.map((_t, j) => basisImage(basis, j));
    this.termKernels = [];
    for (let t = 0; t < m; t++) {
      const k = new Float64Array(size2);
      if (t === 0) for (let i = 0; i < size2; i++) k[i] = kernelSum * images[0][i];
      for (let j = 1; j < images.length; j++) {
        const c = coefficients[j - 1][t];
        if (c !== 0) for (let i = 0; i < size2; i++) k[i] += c * images[j][i];
      }
      this.termKernels.push(k);
    }
  }

  static fromData(d: KernelSolutionData): KernelSolution {
    return new KernelSolution(
      d.basis,
      d.spatialOrder,
      d.backgroundOrder,
      d.kernelSum,
      d.coefficients,
      d.background,
      d.width,
      d.height,
    );
  }

  toData(): KernelSolutionData {
    const { basis, spatialOrder, backgroundOrder, kernelSum, coefficients, background } = this;
    return {
      basis,
      spatialOrder,
      backgroundOrder,
      kernelSum,
      coefficients,
      background,
      width: this.frame.width,
      height: this.frame.height,
    };
  }

  get size(): number {
    return this.basis.size;
  }

  /** The kernel at image pixel (x, y), size*size. */
  kernelAt(x: number, y: number): Float64Array {
    const p = this.frame.terms(this.spatialOrder, x, y);
    const out = new Float64Array(this.size * this.size);
    this.termKernels.forEach((k, t) => {
      for (let i = 0; i < out.length; i++) out[i] += p[t] * k[i];
    });
    return out;
  }

  /** Adds sign * background to every pixel of `plane` (same grid as the fit). */
  addBackground(
    plane: { width: number; height: number; row(y: number): Float32Array },
    sign: number,
  ): void {
    const rows = Array.from(this.background, () => new Float64Array(plane.width));
    for (let y = 0; y < plane.height; y++) {
      this.frame.rowTerms(this.backgroundOrder, y, 0, plane.width, rows);
      const row = plane.row(y);
      for (let x = 0; x < plane.width; x++) {
        let s = 0;
        for (let t = 0; t < rows.length; t++) s += rows[t][x] * this.background[t];
        row[x] += sign * s;
      }
    }
  }

  backgroundAt(x: number, y: number): number {
    const p = this.frame.terms(this.backgroundOrder, x, y);
    let s = 0;
    for (let t = 0; t < p.length; t++) s += p[t] * this.background[t];
    return s;
  }
}
