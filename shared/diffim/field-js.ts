/**
 * The per-pixel arithmetic of the kernel field's convolution (convolve-field.ts) in JavaScript: the
 * spectral products, the eta weights of the column passes, and each output row's combination with
 * the polynomial weights and its difference. field-wasm.ts does the same in WebAssembly SIMD, bit for
 * bit; `FieldArithmetic` is what convolve-field.ts asks of either.
 */
import type { Plane } from '../image/plane.js';
import { RealFft2 } from '../util/fft-real.js';

/** The passes of RealFft2 the tiles of the kernel field and of its decorrelation take. */
export type TileTransforms = Pick<
  RealFft2,
  'columns' | 'forward' | 'inverseConjugateColumn' | 'inverseRows' | 'filterColumns'
>;

/**
 * A tile's decorrelation filter (decorrelate.ts): phi = sqrt(top / (u uy[ky] + c cy[ky] |K|^2)) on
 * column kx, K = sum_m weights[m] K_m there; u and c already carry the noise shapes' kx factors.
 */
export interface DecorrelationColumn {
  kx: number;
  weights: Float64Array;
  top: number;
  u: number;
  c: number;
  uy: Float64Array;
  cy: Float64Array;
}

/** Where the difference is written from the convolved row (convolve-field.ts FieldDifference). */
export interface RowDifference {
  target: Float32Array;
  /** null: target - convolved; else (convolved - target) / divisor. */
  divisor: number | null;
  garbage?: { mask: Plane<Int32Array>; bits: number };
}

/** A row of the output: pixels [x0, x1) of `row` (image row y) from the row-pass planes at `base + x`. */
export interface OutputRow {
  row: Float32Array;
  y: number;
  x0: number;
  x1: number;
  base: number;
}

export interface FieldArithmetic {
  /**
   * Float64 buffers of these lengths, zeroed, back to back in this order (combineRow's `rows` are
   * consecutive ones of equal length), for tiles of n-point FFTs (output rows up to n wide); valid
   * until the next call on this thread.
   */
  buffers(lengths: number[], n: number): Float64Array[];
  /** The tiles' n-point transforms on the last `buffers` (RealFft2's, or the same passes in place on their memory). */
  transforms(n: number): TileTransforms;
  /** The term spectra K_m (half spectra) into `out` (terms times a half spectrum), laid out for decorrelateColumn. */
  interleaveTerms(spectra: Float64Array[], out: Float64Array): void;
  /** Column `f.kx` (n complex values) times the decorrelation filter of the terms `interleaveTerms` laid out. */
  decorrelateColumn(column: Float64Array, terms: Float64Array, f: DecorrelationColumn): void;
  /** out = the conjugate of column `from` of the half spectra a and b multiplied (2 n values: a column's length). */
  multiplyColumn(a: Float64Array, b: Float64Array, from: number, out: Float64Array): void;
  /** Rows [r0, r1) of `column` times weight[y], written (`set`) or added into the half spectrum g's column at `from`. */
  weightRows(
    column: Float64Array,
    weight: Float64Array,
    g: Float64Array,
    from: number,
    r0: number,
    r1: number,
    set: boolean,
  ): void;
  /**
   * Per pixel from v = 0 and b = 0, Horner in xi over `rows` (the row-pass output of each power of xi, from
   * `buffers`) and over the background's coefficients `bgXi`, b + v written (float32); with `difference`, the
   * difference made from that written value.
   */
  combineRow(
    out: OutputRow,
    rows: Float64Array[],
    xi: Float64Array,
    bgXi: Float64Array,
    difference?: RowDifference,
  ): void;
}

/** Row y's convolved pixels [x0, x1) (as written, float32) replaced by the difference. */
function subtractRow(d: RowDifference, y: number, row: Float32Array, x0: number, x1: number): void {
  const t = d.target;
  const divisor = d.divisor;
  if (divisor === null) for (let x = x0; x < x1; x++) row[x] = t[x] - row[x];
  else for (let x = x0; x < x1; x++) row[x] = -(t[x] - row[x]) / divisor;
  if (!d.garbage) return;
  const m = d.garbage.mask.row(y),
    bits = d.garbage.bits;
  for (let x = x0; x < x1; x++) if (m[x] & bits) row[x] = 0;
}

export const jsFieldArithmetic: FieldArithmetic = {
  buffers: (lengths) => lengths.map((length) => new Float64Array(length)),

  transforms: (n) => new RealFft2(n),

  // Value by value (value i of term m at i * terms + m): each frequency's kernel is summed in one pass.
  interleaveTerms(spectra, out) {
    const terms = spectra.length;
    spectra.forEach((s, m) => {
      for (let i = 0; i < s.length; i++) out[i * terms + m] = s[i];
    });
  },

  decorrelateColumn(column, interleaved, { kx, weights, top, u, c, uy, cy }) {
    const n = column.length / 2,
      terms = weights.length;
    for (let ky = 0, i = 0, o = 2 * kx * n * terms; ky < n; ky++, i += 2, o += 2 * terms) {
      let kr = weights[0] * interleaved[o],
        ki = weights[0] * interleaved[o + terms];
      for (let m = 1; m < terms; m++) {
        kr += weights[m] * interleaved[o + m];
        ki += weights[m] * interleaved[o + terms + m];
      }
      const phi = Math.sqrt(top / (u * uy[ky] + c * cy[ky] * (kr * kr + ki * ki)));
      column[i] *= phi;
      column[i + 1] *= phi;
    }
  },

  multiplyColumn(a, b, from, out) {
    for (let i = 0; i < out.length; i += 2) {
      const ar = a[from + i],
        ai = a[from + i + 1],
        br = b[from + i],
        bi = b[from + i + 1];
      out[i] = ar * br - ai * bi;
      out[i + 1] = -(ar * bi + ai * br);
    }
  },

  weightRows(column, weight, g, from, r0, r1, set) {
    if (set)
      for (let y = r0, i = 2 * r0; y < r1; y++, i += 2) {
        g[from + i] = weight[y] * column[i];
        g[from + i + 1] = weight[y] * column[i + 1];
      }
    else
      for (let y = r0, i = 2 * r0; y < r1; y++, i += 2) {
        g[from + i] += weight[y] * column[i];
        g[from + i + 1] += weight[y] * column[i + 1];
      }
  },

  combineRow({ row, y, x0, x1, base }, rows, xi, bgXi, difference) {
    for (let x = x0; x < x1; x++) {
      const s = xi[x];
      let v = 0,
        b = 0;
      for (let a = rows.length - 1; a >= 0; a--) v = v * s + rows[a][base + x];
      for (let a = bgXi.length - 1; a >= 0; a--) b = b * s + bgXi[a];
      row[x] = b + v;
    }
    if (difference) subtractRow(difference, y, row, x0, x1);
  },
};
