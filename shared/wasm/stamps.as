// AssemblyScript (https://www.assemblyscript.org): the kernel fit's preparation of a candidate stamp
// (shared/diffim/kernel-fit.ts prepare) in WebAssembly SIMD: its basis convolutions and normal equations.
// Each f64x2 holds two of the JavaScript's sums (two outputs of a convolution, or two rows of the normal
// matrix), each added in the JavaScript's order, so the same bits. Every pointer is a byte offset laid out
// by shared/diffim/stamps-wasm.ts. Build: see README.md.

/**
 * `count` rows of the "valid" 1-D convolution of `input` by the `size` taps along a stride, as
 * convolveValid: out[r * width + x] = sum_k taps[k] * input[r * rowStep + x + (size - 1 - k) * step],
 * added in the order of k, two outputs x, x + 1 a vector.
 */
export function convolveValid(
  input: usize,
  taps: usize,
  size: i32,
  out: usize,
  width: i32,
  count: i32,
  rowStep: i32,
  step: i32,
): void {
  const back = <usize>step << 3;
  for (let r = 0; r < count; r++) {
    const first = input + ((<usize>(r * rowStep + (size - 1) * step)) << 3);
    const row = out + ((<usize>(r * width)) << 3);
    let x = 0;
    for (; x + 8 <= width; x += 8) {
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      let a2 = f64x2.splat(0);
      let a3 = f64x2.splat(0);
      let o = first + (<usize>x << 3);
      for (let k = 0; k < size; k++, o -= back) {
        const f = v128.load64_splat(taps + (<usize>k << 3));
        a0 = f64x2.add(a0, f64x2.mul(f, v128.load(o)));
        a1 = f64x2.add(a1, f64x2.mul(f, v128.load(o, 16)));
        a2 = f64x2.add(a2, f64x2.mul(f, v128.load(o, 32)));
        a3 = f64x2.add(a3, f64x2.mul(f, v128.load(o, 48)));
      }
      const at = row + (<usize>x << 3);
      v128.store(at, a0);
      v128.store(at, a1, 16);
      v128.store(at, a2, 32);
      v128.store(at, a3, 48);
    }
    for (; x + 2 <= width; x += 2) {
      let a = f64x2.splat(0);
      let o = first + (<usize>x << 3);
      for (let k = 0; k < size; k++, o -= back)
        a = f64x2.add(a, f64x2.mul(v128.load64_splat(taps + (<usize>k << 3)), v128.load(o)));
      v128.store(row + (<usize>x << 3), a);
    }
    for (; x < width; x++) {
      let a: f64 = 0;
      let o = first + (<usize>x << 3);
      for (let k = 0; k < size; k++, o -= back) a += load<f64>(taps + (<usize>k << 3)) * load<f64>(o);
      store<f64>(row + (<usize>x << 3), a);
    }
  }
}

/** Columns 1 .. count - 1 (each `n` values, back to back from `columns`) minus subtract[j] times column 0, as prepare. */
export function subtractFirst(columns: usize, count: i32, n: i32, subtract: usize): void {
  const bytes = <usize>n << 3;
  for (let j = 1; j < count; j++) {
    const k = load<f64>(subtract + (<usize>j << 3));
    const kv = f64x2.splat(k);
    const c = columns + <usize>j * bytes;
    let i = 0;
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(c + o, f64x2.sub(v128.load(c + o), f64x2.mul(kv, v128.load(columns + o))));
    }
    for (; i < n; i++) {
      const o = <usize>i << 3;
      store<f64>(c + o, load<f64>(c + o) - k * load<f64>(columns + o));
    }
  }
}

/**
 * The normal matrix (count^2, both triangles) and right-hand side of the `count` columns of `n` values
 * (back to back from `columns`) weighted by `weight` against `target`, as normalEquations: rows a and
 * a + 1 together, their weighted columns interleaved in `pairs` (2 n values), each sum in the order of i.
 */
export function normalEquations(
  columns: usize,
  count: i32,
  n: i32,
  weight: usize,
  target: usize,
  normal: usize,
  rhs: usize,
  pairs: usize,
): void {
  const bytes = <usize>n << 3;
  for (let a = 0; a < count; a += 2) {
    const two = a + 1 < count;
    const ca = columns + <usize>a * bytes;
    const cb = ca + bytes;
    let ra: f64 = 0;
    let rb: f64 = 0;
    for (let i = 0; i < n; i++) {
      const o = <usize>i << 3;
      const w = load<f64>(weight + o);
      const t = load<f64>(target + o);
      const wa = w * load<f64>(ca + o);
      ra += wa * t;
      store<f64>(pairs + (o << 1), wa);
      if (two) {
        const wb = w * load<f64>(cb + o);
        rb += wb * t;
        store<f64>(pairs + (o << 1), wb, 8);
      } else store<f64>(pairs + (o << 1), 0, 8);
    }
    store<f64>(rhs + (<usize>a << 3), ra);
    if (two) store<f64>(rhs + (<usize>(a + 1) << 3), rb);
    const top = two ? a + 1 : a;
    let b = 0;
    for (; b + 4 <= top + 1; b += 4) {
      const c0 = columns + <usize>b * bytes;
      let s0 = f64x2.splat(0);
      let s1 = f64x2.splat(0);
      let s2 = f64x2.splat(0);
      let s3 = f64x2.splat(0);
      for (let i = 0; i < n; i++) {
        const o = <usize>i << 3;
        const v = v128.load(pairs + (o << 1));
        const c = c0 + o;
        s0 = f64x2.add(s0, f64x2.mul(v, v128.load64_splat(c)));
        s1 = f64x2.add(s1, f64x2.mul(v, v128.load64_splat(c + bytes)));
        s2 = f64x2.add(s2, f64x2.mul(v, v128.load64_splat(c + 2 * bytes)));
        s3 = f64x2.add(s3, f64x2.mul(v, v128.load64_splat(c + 3 * bytes)));
      }
      setPair(normal, count, a, b, s0, two);
      setPair(normal, count, a, b + 1, s1, two);
      setPair(normal, count, a, b + 2, s2, two);
      setPair(normal, count, a, b + 3, s3, two);
    }
    for (; b <= top; b++) {
      const c = columns + <usize>b * bytes;
      let s = f64x2.splat(0);
      for (let i = 0; i < n; i++) {
        const o = <usize>i << 3;
        s = f64x2.add(s, f64x2.mul(v128.load(pairs + (o << 1)), v128.load64_splat(c + o)));
      }
      setPair(normal, count, a, b, s, two);
    }
  }
}

/** Entries (a, b) and (a + 1, b) of the symmetric normal matrix from the two lanes, each only where b <= its row. */
// @ts-ignore: decorator
@inline
function setPair(normal: usize, count: i32, a: i32, b: i32, s: v128, two: bool): void {
  if (b <= a) setSymmetric(normal, count, a, b, f64x2.extract_lane(s, 0));
  if (two && b <= a + 1) setSymmetric(normal, count, a + 1, b, f64x2.extract_lane(s, 1));
}

// @ts-ignore: decorator
@inline
function setSymmetric(normal: usize, count: i32, a: i32, b: i32, v: f64): void {
  store<f64>(normal + (<usize>(a * count + b) << 3), v);
  store<f64>(normal + (<usize>(b * count + a) << 3), v);
}
