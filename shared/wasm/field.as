// AssemblyScript (https://www.assemblyscript.org): the per-pixel arithmetic of the spatially varying kernel's
// convolution (shared/diffim/convolve-field.ts) and of its decorrelation filter (decorrelate.ts) in WebAssembly
// SIMD, the JavaScript's operations in its order (two pixels or one complex value per f64x2, one lane each), so the
// same bits (NaN inputs aside, which the FFTs of finite windows never give: x86 picks an input NaN's sign by operand
// order, the JIT's choice). The tiles' FFTs run on this memory too (an fft.wasm instance on it); every pointer is a
// byte offset laid out by shared/diffim/field-wasm.ts.
// Build: see README.md (asc 0.28.20, -O3 --noAssert --runtime stub --enable simd --importMemory).

/** The sign bit of the second lane: xor negates it, as the JavaScript's unary minus. */
const FLIP: v128 = i64x2(0, 0x8000000000000000);
/** (-1, 1): the first lane negated by a multiply, a NaN kept as the JavaScript's subtraction keeps it. */
const NEGATE_FIRST: v128 = f64x2(-1, 1);

/**
 * `count` complex values: out = conj(a * b), i.e. (ar br - ai bi, -(ar bi + ai br)), as multiplyColumn
 * (the subtraction as the addition of the negated product, which IEEE defines it to be).
 */
export function multiplyConjugate(a: usize, b: usize, out: usize, count: i32): void {
  for (let i = 0; i < count; i++) {
    const o = <usize>i << 4;
    const av = v128.load(a + o);
    const bv = v128.load(b + o);
    const p = f64x2.mul(f64x2.splat(f64x2.extract_lane(av, 0)), bv);
    const q = f64x2.mul(f64x2.splat(f64x2.extract_lane(av, 1)), v128.shuffle<u64>(bv, bv, 1, 0));
    v128.store(out + o, v128.xor(f64x2.add(p, f64x2.mul(q, NEGATE_FIRST)), FLIP));
  }
}

/**
 * Complex values r0 .. r1 - 1 of `column` times weight[y], written (`set`) or added into `g`, as weightRows
 * (`column`, `g` at their value 0; `weight` at y = 0).
 */
export function weightRows(column: usize, weight: usize, g: usize, r0: i32, r1: i32, set: bool): void {
  if (set)
    for (let y = r0; y < r1; y++) {
      const o = <usize>y << 4;
      const w = f64x2.splat(load<f64>(weight + (<usize>y << 3)));
      v128.store(g + o, f64x2.mul(w, v128.load(column + o)));
    }
  else
    for (let y = r0; y < r1; y++) {
      const o = <usize>y << 4;
      const w = f64x2.splat(load<f64>(weight + (<usize>y << 3)));
      v128.store(g + o, f64x2.add(v128.load(g + o), f64x2.mul(w, v128.load(column + o))));
    }
}

/**
 * One output row's `count` pixels into `out` (f32): per pixel from v = 0 and b = 0, Horner in xi over the
 * row-pass outputs (`orders` planes `planeBytes` apart from `rows`) and over the background's `bgLength`
 * coefficients, b + v rounded to f32; then, with `target` (f32), the difference t - r (mode 1) or
 * -(t - r) / divisor (mode 2) from that rounded value, and 0 where `mask` (i32, 0: none) has `bits`.
 */
export function combineRow(
  out: usize,
  count: i32,
  rows: usize,
  planeBytes: usize,
  orders: i32,
  xi: usize,
  bg: usize,
  bgLength: i32,
  target: usize,
  mode: i32,
  divisor: f64,
  mask: usize,
  bits: i32,
): void {
  const d = f64x2.splat(divisor);
  const bitsV = i32x4.splat(bits);
  let x = 0;
  for (; x + 2 <= count; x += 2) {
    const o8 = <usize>x << 3;
    const o4 = <usize>x << 2;
    const s = v128.load(xi + o8);
    let v = f64x2.splat(0);
    for (let a = orders - 1; a >= 0; a--)
      v = f64x2.add(f64x2.mul(v, s), v128.load(rows + <usize>a * planeBytes + o8));
    let b = f64x2.splat(0);
    for (let a = bgLength - 1; a >= 0; a--)
      b = f64x2.add(f64x2.mul(b, s), f64x2.splat(load<f64>(bg + (<usize>a << 3))));
    let r = f32x4.demote_f64x2_zero(f64x2.add(b, v));
    if (mode != 0) {
      const t = f64x2.promote_low_f32x4(v128.load64_zero(target + o4));
      let e = f64x2.sub(t, f64x2.promote_low_f32x4(r));
      if (mode == 2) e = f64x2.div(f64x2.neg(e), d);
      r = f32x4.demote_f64x2_zero(e);
    }
    if (mask) r = v128.andnot(r, i32x4.ne(v128.and(v128.load64_zero(mask + o4), bitsV), i32x4.splat(0)));
    v128.store64_lane(out + o4, r, 0);
  }
  for (; x < count; x++) {
    const o8 = <usize>x << 3;
    const o4 = <usize>x << 2;
    const s = load<f64>(xi + o8);
    let v: f64 = 0;
    for (let a = orders - 1; a >= 0; a--) v = v * s + load<f64>(rows + <usize>a * planeBytes + o8);
    let b: f64 = 0;
    for (let a = bgLength - 1; a >= 0; a--) b = b * s + load<f64>(bg + (<usize>a << 3));
    let r = <f32>(b + v);
    if (mode != 0) {
      const e = <f64>load<f32>(target + o4) - <f64>r;
      r = mode == 2 ? <f32>(-e / divisor) : <f32>e;
    }
    if (mask && (load<i32>(mask + o4) & bits) != 0) r = 0;
    store<f32>(out + o4, r);
  }
}

/**
 * The decorrelation filter on column kx of a tile's spectrum (`count` complex values at `column`, in place):
 * each value times phi = sqrt(top / (u uy[ky] + c cy[ky] (kr kr + ki ki))), (kr, ki) = sum_m weights[m] K_m(kx, ky)
 * from `spectra` (the column's `terms` complex values of each ky back to back), as decorrelate's JavaScript:
 * kr and ki in the two lanes, summed term after term.
 */
export function decorrelateColumn(
  column: usize,
  count: i32,
  spectra: usize,
  terms: i32,
  weights: usize,
  top: f64,
  u: f64,
  c: f64,
  uy: usize,
  cy: usize,
): void {
  const w0 = f64x2.splat(load<f64>(weights));
  for (let ky = 0; ky < count; ky++) {
    const s = spectra + ((<usize>ky * <usize>terms) << 4);
    let k = f64x2.mul(w0, v128.load(s));
    for (let m = 1; m < terms; m++)
      k = f64x2.add(k, f64x2.mul(f64x2.splat(load<f64>(weights + (<usize>m << 3))), v128.load(s + (<usize>m << 4))));
    const kr = f64x2.extract_lane(k, 0);
    const ki = f64x2.extract_lane(k, 1);
    const y = <usize>ky << 3;
    const phi = Math.sqrt(top / (u * load<f64>(uy + y) + c * load<f64>(cy + y) * (kr * kr + ki * ki)));
    const o = column + (<usize>ky << 4);
    v128.store(o, f64x2.mul(v128.load(o), f64x2.splat(phi)));
  }
}
