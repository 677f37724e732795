// AssemblyScript (https://www.assemblyscript.org): fft.js's radix-4 complex FFT (node_modules/fft.js/lib/fft.js,
// _transform4 with _singleTransform2 / _singleTransform4) and RealFft2's passes (shared/util/fft-real.ts) in
// WebAssembly SIMD, the same operations on the same values, so the same bits.
// One complex value (re, im) sits in one f64x2. A twiddle product B * (tr + i ti) is B * (tr, tr) + swap(B) * (-ti, ti):
// lane 0 is Br tr + Bi (-ti) = Br tr - Bi ti, lane 1 is Bi tr + Br ti = Br ti + Bi tr, exactly fft.js's (negation is
// exact, addition commutes, and WebAssembly never fuses a multiply-add). Butterflies of one stage are independent, so
// their order does not change any value.
// Memory is laid out by the caller (shared/util/fft-wasm.ts); every pointer is a byte offset, every length counts f64.
// Build: see README.md (asc 0.28.20, -O3 --noAssert --runtime stub --enable simd --importMemory).

/** Complex points of the current size. */
let N: i32 = 0;
/** fft.js's _width: log2 of the first step's stride. */
let width: i32 = 0;
/**
 * Per complex index j of fft.js's table: (tr, tr) then (-ti, ti), 32 bytes; then the same for the inverse, whose ti is
 * negated: (tr, tr), (ti, -ti).
 */
let twiddles: usize = 0;
/** fft.js's _bitrev, i32. */
let bitrev: usize = 0;

/** Sign bits of lane 1, of lane 0: an xor negates that lane exactly. */
const NEG_1 = i64x2(0, 0x8000000000000000);
const NEG_0 = i64x2(0x8000000000000000, 0);

/**
 * Takes size n: fft.js's `table` (2n f64 at `table`, read once) is expanded into `twiddles_` (8n f64), and its
 * `_bitrev` (i32) must sit at `bitrev_`.
 */
export function setSize(n: i32, width_: i32, table: usize, twiddles_: usize, bitrev_: usize): void {
  N = n;
  width = width_;
  twiddles = twiddles_;
  bitrev = bitrev_;
  for (let j = 0; j < n; j++) {
    const tr = load<f64>(table + (<usize>j << 4));
    const ti = load<f64>(table + (<usize>j << 4), 8);
    const p = twiddles + (<usize>j << 5);
    const q = p + (<usize>n << 5);
    v128.store(p, f64x2.splat(tr));
    v128.store(p, f64x2.replace_lane(f64x2.splat(ti), 0, -ti), 16);
    v128.store(q, f64x2.splat(tr));
    v128.store(q, f64x2.replace_lane(f64x2.splat(-ti), 0, ti), 16);
  }
}

/** fft.js's transform (inv 0) or its inverse before the division by n (inv 1): 2N f64 at `data` into `out`. */
export function transform(out: usize, data: usize, inv: i32): void {
  const size = N << 1;
  let step = 1 << width;
  const len = (size / step) << 1;
  const s8 = <usize>step << 3;
  // T3 = inv (B - D); fft.js's (T3i, -T3r) is swap(B - D) with lane 1 negated, or lane 0 when inv.
  const flip = inv ? NEG_0 : NEG_1;
  const table = inv ? twiddles + (<usize>N << 5) : twiddles;
  if (len == 4) {
    for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
      const e = data + (<usize>load<i32>(bitrev + (<usize>t << 2)) << 3);
      const even = v128.load(e);
      const odd = v128.load(e + s8);
      const o = out + (<usize>outOff << 3);
      v128.store(o, f64x2.add(even, odd));
      v128.store(o, f64x2.sub(even, odd), 16);
    }
  } else {
    for (let outOff = 0, t = 0; outOff < size; outOff += len, t++) {
      const e = data + (<usize>load<i32>(bitrev + (<usize>t << 2)) << 3);
      const A = v128.load(e);
      const B = v128.load(e + s8);
      const C = v128.load(e + 2 * s8);
      const D = v128.load(e + 3 * s8);
      const T0 = f64x2.add(A, C);
      const T1 = f64x2.sub(A, C);
      const T2 = f64x2.add(B, D);
      const S = v128.xor(v128.shuffle<f64>(f64x2.sub(B, D), f64x2.sub(B, D), 1, 0), flip);
      const o = out + (<usize>outOff << 3);
      v128.store(o, f64x2.add(T0, T2));
      v128.store(o, f64x2.add(T1, S), 16);
      v128.store(o, f64x2.sub(T0, T2), 32);
      v128.store(o, f64x2.sub(T1, S), 48);
    }
  }
  for (step >>= 2; step >= 2; step >>= 2) {
    const blockLen = (size / step) << 1;
    const q8 = <usize>(blockLen >>> 2) << 3;
    const tStep = <usize>step << 4;
    for (let outOff = 0; outOff < size; outOff += blockLen) {
      let a = out + (<usize>outOff << 3);
      const end = a + q8;
      let tb = table;
      let tc = table;
      let td = table;
      for (; a < end; a += 16) {
        const A = v128.load(a);
        const B = v128.load(a + q8);
        const C = v128.load(a + 2 * q8);
        const D = v128.load(a + 3 * q8);
        const MB = f64x2.add(
          f64x2.mul(B, v128.load(tb)),
          f64x2.mul(v128.shuffle<f64>(B, B, 1, 0), v128.load(tb, 16)),
        );
        const MC = f64x2.add(
          f64x2.mul(C, v128.load(tc)),
          f64x2.mul(v128.shuffle<f64>(C, C, 1, 0), v128.load(tc, 16)),
        );
        const MD = f64x2.add(
          f64x2.mul(D, v128.load(td)),
          f64x2.mul(v128.shuffle<f64>(D, D, 1, 0), v128.load(td, 16)),
        );
        const T0 = f64x2.add(A, MC);
        const T1 = f64x2.sub(A, MC);
        const T2 = f64x2.add(MB, MD);
        const BD = f64x2.sub(MB, MD);
        const S = v128.xor(v128.shuffle<f64>(BD, BD, 1, 0), flip);
        v128.store(a, f64x2.add(T0, T2));
        v128.store(a + q8, f64x2.add(T1, S));
        v128.store(a + 2 * q8, f64x2.sub(T0, T2));
        v128.store(a + 3 * q8, f64x2.sub(T1, S));
        tb += tStep;
        tc += 2 * tStep;
        td += 3 * tStep;
      }
    }
  }
}

/** fft.js's inverseTransform: the inverse transform, each output divided by n. */
export function inverseTransform(out: usize, data: usize): void {
  transform(out, data, 1);
  const n = f64x2.splat(<f64>N);
  const end = out + (<usize>N << 4);
  for (let p = out; p < end; p += 16) v128.store(p, f64x2.div(v128.load(p), n));
}

/** `count` transforms of lines 2N f64 long, `stride` bytes apart, from `data` into `out`. */
export function transformLines(out: usize, data: usize, count: i32, stride: i32): void {
  for (let k = 0; k < count; k++) {
    const o = <usize>k * <usize>stride;
    transform(out + o, data + o, 0);
  }
}

/** Negates the imaginary parts of 2N f64 at `from` into `to` (may be the same). */
export function conjugate(to: usize, from: usize): void {
  const end = <usize>N << 4;
  for (let i: usize = 0; i < end; i += 16) v128.store(to + i, v128.xor(v128.load(from + i), NEG_1));
}

/** RealFft2.inverseColumns: each of `count` columns (2N f64, `stride` bytes apart) conjugated into `line`, transformed into `out`. */
export function inverseColumns(out: usize, spectrum: usize, count: i32, stride: i32, line: usize): void {
  for (let k = 0; k < count; k++) {
    const o = <usize>k * <usize>stride;
    conjugate(line, spectrum + o);
    transform(out + o, line, 0);
  }
}

/**
 * RealFft2's forward row pass: rows y, y + 1 of the N x N image at `input` as one complex row a + i b,
 * transformed, split into the half spectra A, B (columns 0 .. N/2 of `work`, column k at k * 2N); rows
 * outside [y0, y1) (wrapped when y0 > y1) are zero and not read.
 */
export function forwardRows(input: usize, y0: i32, y1: i32, work: usize, line: usize, lineOut: usize): void {
  const n = N;
  const columns = (n >> 1) + 1;
  const col8 = <usize>n << 4;
  const half = f64x2.splat(0.5);
  for (let y = 0; y < n; y += 2) {
    const ua = used(y, y0, y1);
    const ub = used(y + 1, y0, y1);
    const w = work + (<usize>y << 4);
    if (!ua && !ub) {
      for (let k = 0; k < columns; k++) {
        const o = w + <usize>k * col8;
        v128.store(o, f64x2.splat(0));
        v128.store(o, f64x2.splat(0), 16);
      }
      continue;
    }
    const a = input + (<usize>(y * n) << 3);
    const b = a + (<usize>n << 3);
    if (ua && ub) {
      for (let x = 0; x < n; x += 2) {
        const ra = v128.load(a + (<usize>x << 3));
        const rb = v128.load(b + (<usize>x << 3));
        const l = line + (<usize>x << 4);
        v128.store(l, v128.shuffle<f64>(ra, rb, 0, 2));
        v128.store(l, v128.shuffle<f64>(ra, rb, 1, 3), 16);
      }
    } else {
      for (let x = 0; x < n; x++) {
        const l = line + (<usize>x << 4);
        store<f64>(l, ua ? load<f64>(a + (<usize>x << 3)) : 0);
        store<f64>(l, ub ? load<f64>(b + (<usize>x << 3)) : 0, 8);
      }
    }
    transform(lineOut, line, 0);
    // A(k) = (Z(k) + conj Z(n-k)) / 2, B(k) = (Z(k) - conj Z(n-k)) / 2i, as fft-real.ts computes them.
    for (let k = 0; k < columns; k++) {
      const Z = v128.load(lineOut + (<usize>k << 4));
      const W = v128.load(lineOut + (<usize>((n - k) & (n - 1)) << 4));
      const P = f64x2.add(Z, W);
      const o = w + <usize>k * col8;
      v128.store(o, f64x2.mul(half, v128.shuffle<f64>(P, f64x2.sub(Z, W), 0, 3)));
      v128.store(o, f64x2.mul(half, v128.shuffle<f64>(P, f64x2.sub(W, Z), 1, 2)), 16);
    }
  }
}

/** Whether row y is in [y0, y1), wrapped when y0 > y1. */
function used(y: i32, y0: i32, y1: i32): bool {
  return y0 <= y1 ? y >= y0 && y < y1 : y >= y0 || y < y1;
}

/**
 * RealFft2.inverseRows: rows [y0, y1) (0 <= y0, y1 <= N) of the real image from `columns` (inverseColumns'
 * output) into the N x N image at `out`, times `scale`.
 */
export function inverseRows(columns: usize, out: usize, y0: i32, y1: i32, scale: f64, line: usize, lineOut: usize): void {
  const n = N;
  const h = n >> 1;
  const col8 = <usize>n << 4;
  const s = f64x2.splat(scale);
  for (let y = y0; y < y1; y += 2) {
    const pair = y + 1 < y1;
    const c = columns + (<usize>y << 4);
    for (let k = 0; k <= h; k++) {
      const o = c + <usize>k * col8;
      // X = (xr, xi) = conj of the column's value; Ys = (yi, yr), zero without a second row.
      const X = v128.xor(v128.load(o), NEG_1);
      const Ys = pair ? v128.shuffle<f64>(v128.xor(v128.load(o, 16), NEG_1), f64x2.splat(0), 1, 0) : f64x2.splat(0);
      const P = f64x2.add(X, Ys);
      // line[m] = (xr + yi, -(yr - xi)), then line[2k] = (xr - yi, -(xi + yr)).
      v128.store(line + (<usize>((n - k) & (n - 1)) << 4), v128.xor(v128.shuffle<f64>(P, f64x2.sub(Ys, X), 0, 3), NEG_1));
      v128.store(line + (<usize>k << 4), v128.xor(v128.shuffle<f64>(f64x2.sub(X, Ys), P, 0, 3), NEG_1));
    }
    transform(lineOut, line, 0);
    const a = out + (<usize>(y * n) << 3);
    const b = a + (<usize>n << 3);
    for (let x = 0; x < n; x += 2) {
      const v0 = v128.load(lineOut + (<usize>x << 4));
      const v1 = v128.load(lineOut + (<usize>x << 4), 16);
      v128.store(a + (<usize>x << 3), f64x2.mul(v128.shuffle<f64>(v0, v1, 0, 2), s));
      if (pair) v128.store(b + (<usize>x << 3), f64x2.mul(f64x2.neg(v128.shuffle<f64>(v0, v1, 1, 3)), s));
    }
  }
}
