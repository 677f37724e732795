/**
 * Fast 2-D correlation with a small kernel written as a short sum of separable
 * (outer-product) terms from its singular value decomposition (Treitel & Shanks 1971,
 * IEEE Trans. Geosci. Electron. 9, 10): K = sum_k u_k v_k^T, each term one horizontal
 * and one vertical 1-D pass.
 */
import type { Engine } from '../wasm/engine.js';
import { separableEngine, wasmSeparable } from './separable-wasm.js';

export interface SeparableTerm {
  /** Column (vertical, y) factor, length n. */
  u: Float64Array;
  /** Row (horizontal, x) factor, length n. */
  v: Float64Array;
}

/**
 * Decomposes the n x n kernel (row-major) into separable terms by power iteration with
 * deflation, keeping terms until the residual's squared norm is below `tolerance` of the
 * kernel's (or `maxTerms` are used).
 */
export function separableTerms(
  kernel: ArrayLike<number>,
  n: number,
  tolerance = 1e-5,
  maxTerms = 6,
): SeparableTerm[] {
  const residual = Float64Array.from(kernel);
  let total = 0;
  for (const k of residual) total += k * k;
  const terms: SeparableTerm[] = [];
  let remaining = total;
  while (terms.length < maxTerms && remaining > tolerance * total) {
    let v = new Float64Array(n).fill(1 / Math.sqrt(n));
    let u = new Float64Array(n);
    for (let iter = 0; iter < 200; iter++) {
      u = new Float64Array(n);
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) u[j] += residual[j * n + i] * v[i];
      const next = new Float64Array(n);
      for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) next[i] += residual[j * n + i] * u[j];
      const norm = Math.hypot(...next);
      if (norm === 0) break;
      for (let i = 0; i < n; i++) next[i] /= norm;
      let change = 0;
      for (let i = 0; i < n; i++) change += Math.abs(next[i] - v[i]);
      v = next;
      if (change < 1e-12) break;
    }
    u = new Float64Array(n);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) u[j] += residual[j * n + i] * v[i];
    terms.push({ u, v });
    remaining = 0;
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) {
        residual[j * n + i] -= u[j] * v[i];
        remaining += residual[j * n + i] ** 2;
      }
    }
  }
  return terms;
}

/** Terms with each factor made mirror-symmetric about its centre (f[i] = f[n-1-i]): the fast path below. */
export function symmetrizeTerms(terms: SeparableTerm[]): SeparableTerm[] {
  const sym = (f: Float64Array): Float64Array =>
    f.map((value, i) => (value + f[f.length - 1 - i]) / 2);
  return terms.map(({ u, v }) => ({ u: sym(u), v: sym(v) }));
}

/** The n x n kernel (row-major) the terms add up to. */
export function kernelOf(terms: SeparableTerm[], n: number): Float64Array {
  const k = new Float64Array(n * n);
  for (const { u, v } of terms)
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) k[j * n + i] += u[j] * v[i];
  return k;
}

function isSymmetric(f: Float32Array): boolean {
  for (let i = 0; i < f.length >> 1; i++) if (f[i] !== f[f.length - 1 - i]) return false;
  return true;
}

/**
 * out(x, y) = sum_{i,j} K[j][i] in(x + i - r, y + j - r) for the kernel given as separable
 * terms (r = (n-1)/2); pixels beyond the image count as 0. `input` and the result are
 * contiguous width*height planes; `out` (zero-filled) may be given, e.g. in shared memory.
 */
export function correlateSeparable(
  input: Float32Array,
  width: number,
  height: number,
  terms: SeparableTerm[],
  out: Float32Array = new Float32Array(width * height),
): Float32Array {
  return correlateSeparableRows(input, width, height, terms, out, 0, height);
}

/**
 * correlateSeparable for the output rows [y0, y1) only, the rest of `out` untouched: each row of
 * the result is computed exactly as by the whole-image call (same passes, same order), so bands
 * done on different threads assemble the identical image. A term with mirror-symmetric factors
 * runs in WebAssembly SIMD where it can (separable-wasm.ts, the same bits; `engine`, default
 * AP_DETECT_CORRELATION, else wasm when available).
 */
export function correlateSeparableRows(
  input: Float32Array,
  width: number,
  height: number,
  terms: SeparableTerm[],
  out: Float32Array,
  y0: number,
  y1: number,
  engine: Engine = separableEngine(),
): Float32Array {
  const wasm = engine === 'wasm' ? wasmSeparable() : null;
  const r = Math.max(0, ...terms.map((t) => (t.u.length - 1) >> 1));
  // The row pass over the band and its halo of r rows each side, kept in a band-sized buffer.
  const lo = Math.max(0, y0 - r);
  const hi = Math.min(height, y1 + r);
  const band = input.subarray(lo * width, hi * width);
  let tmp: Float32Array | null = null;
  const outBand = out.subarray(lo * width, hi * width);
  for (const { u, v } of terms) {
    const kx = Float32Array.from(v);
    const ky = Float32Array.from(u);
    if (wasm && kx.length === ky.length && isSymmetric(kx) && isSymmetric(ky)) {
      wasm.correlateTerm(input, width, height, kx, ky, out, y0, y1);
      continue;
    }
    tmp ??= new Float32Array((hi - lo) * width);
    if (isSymmetric(kx)) rowPassSymmetric(band, tmp, width, hi - lo, kx);
    else rowPass(band, tmp, width, hi - lo, kx);
    if (isSymmetric(ky)) columnPassAddSymmetric(tmp, outBand, width, hi - lo, ky, y0 - lo, y1 - lo);
    else columnPassAdd(tmp, outBand, width, hi - lo, ky, y0 - lo, y1 - lo);
  }
  return out;
}

function rowPass(
  input: Float32Array,
  out: Float32Array,
  width: number,
  height: number,
  k: Float32Array,
): void {
  const n = k.length;
  const r = (n - 1) >> 1;
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < width; x++) {
      const interior = x >= r && x < width - r;
      const lo = interior ? 0 : Math.max(0, r - x);
      const hi = interior ? n : Math.min(n, width + r - x);
      let acc = 0;
      const start = base + x - r;
      for (let i = lo; i < hi; i++) acc += k[i] * input[start + i];
      out[base + x] = acc;
    }
  }
}

function columnPassAdd(
  input: Float32Array,
  out: Float32Array,
  width: number,
  height: number,
  k: Float32Array,
  y0: number,
  y1: number,
): void {
  const n = k.length;
  const r = (n - 1) >> 1;
  for (let y = y0; y < y1; y++) {
    const base = y * width;
    for (let j = 0; j < n; j++) {
      const sy = y + j - r;
      if (sy < 0 || sy >= height) continue;
      const kj = k[j];
      const src = sy * width;
      for (let x = 0; x < width; x++) out[base + x] += kj * input[src + x];
    }
  }
}

/** rowPass for a mirror-symmetric kernel: pairs of taps share one multiply (about 2x faster). */
function rowPassSymmetric(
  input: Float32Array,
  out: Float32Array,
  width: number,
  height: number,
  k: Float32Array,
): void {
  const r = (k.length - 1) >> 1;
  const h = k.subarray(r);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    for (let x = 0; x < width; x++) {
      const c = base + x;
      let acc = h[0] * input[c];
      if (x >= r && x < width - r) {
        for (let j = 1; j <= r; j++) acc += h[j] * (input[c - j] + input[c + j]);
      } else {
        for (let j = 1; j <= r; j++) {
          if (x - j >= 0) acc += h[j] * input[c - j];
          if (x + j < width) acc += h[j] * input[c + j];
        }
      }
      out[c] = acc;
    }
  }
}

/** columnPassAdd for a mirror-symmetric kernel. */
function columnPassAddSymmetric(
  input: Float32Array,
  out: Float32Array,
  width: number,
  height: number,
  k: Float32Array,
  y0: number,
  y1: number,
): void {
  const r = (k.length - 1) >> 1;
  const h = k.subarray(r);
  for (let y = y0; y < y1; y++) {
    const base = y * width;
    const h0 = h[0];
    for (let x = 0; x < width; x++) out[base + x] += h0 * input[base + x];
    for (let j = 1; j <= r; j++) {
      const hj = h[j];
      const a = y - j;
      const b = y + j;
      if (a >= 0 && b < height) {
        const sa = a * width;
        const sb = b * width;
        for (let x = 0; x < width; x++) out[base + x] += hj * (input[sa + x] + input[sb + x]);
      } else {
        for (const row of [a, b]) {
          if (row < 0 || row >= height) continue;
          const src = row * width;
          for (let x = 0; x < width; x++) out[base + x] += hj * input[src + x];
        }
      }
    }
  }
}
