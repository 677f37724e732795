// AssemblyScript (https://www.assemblyscript.org): the likelihood image's separable correlation with a
// mirror-symmetric factor (shared/detect/separable.ts rowPassSymmetric, columnPassAddSymmetric) in
// WebAssembly SIMD, one output row a call. Each f64x2 holds two pixels' sums of the JavaScript, added in
// its order, in double precision, and rounded to float32 where the JavaScript stores to a Float32Array,
// so the same bits. Every pointer is a byte offset laid out by shared/detect/separable-wasm.ts.
// Build: see README.md.

/** Two float32 at `p`, as two doubles. */
@inline
function pair(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

/** Two doubles rounded to float32 (a Float32Array store) and back. */
@inline
function round32(v: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(v));
}

/**
 * rowPassSymmetric of one row: out[x] = h[0] in[x] + sum_j h[j] (in[x - j] + in[x + j]), j = 1 .. r,
 * pixels beyond the row left out (then each side added alone, x - j first); `h` holds r + 1 doubles.
 */
export function rowSymmetric(input: usize, out: usize, width: i32, h: usize, r: i32): void {
  const h0 = load<f64>(h);
  const h0v = f64x2.splat(h0);
  const end = width - r;
  let x = 0;
  for (; x < width && (x < r || x >= end); x++) edgePixel(input, out, width, h, r, x);
  for (; x + 4 <= end; x += 4) {
    const c = input + (<usize>x << 2);
    let acc = f64x2.mul(h0v, pair(c));
    let acc2 = f64x2.mul(h0v, pair(c + 8));
    for (let j = 1; j <= r; j++) {
      const hj = v128.load64_splat(h + (<usize>j << 3));
      const off = <usize>j << 2;
      acc = f64x2.add(acc, f64x2.mul(hj, f64x2.add(pair(c - off), pair(c + off))));
      acc2 = f64x2.add(acc2, f64x2.mul(hj, f64x2.add(pair(c + 8 - off), pair(c + 8 + off))));
    }
    v128.store(
      out + (<usize>x << 2),
      v128.shuffle<u64>(f32x4.demote_f64x2_zero(acc), f32x4.demote_f64x2_zero(acc2), 0, 2),
    );
  }
  for (; x + 2 <= end; x += 2) {
    const c = input + (<usize>x << 2);
    let acc = f64x2.mul(h0v, pair(c));
    for (let j = 1; j <= r; j++) {
      const hj = v128.load64_splat(h + (<usize>j << 3));
      const off = <usize>j << 2;
      acc = f64x2.add(acc, f64x2.mul(hj, f64x2.add(pair(c - off), pair(c + off))));
    }
    v128.store64_lane(out + (<usize>x << 2), f32x4.demote_f64x2_zero(acc), 0);
  }
  for (; x < end; x++) {
    const c = input + (<usize>x << 2);
    let acc: f64 = h0 * <f64>load<f32>(c);
    for (let j = 1; j <= r; j++) {
      const off = <usize>j << 2;
      acc += load<f64>(h + (<usize>j << 3)) * (<f64>load<f32>(c - off) + <f64>load<f32>(c + off));
    }
    store<f32>(out + (<usize>x << 2), <f32>acc);
  }
  for (x = max(x, end); x < width; x++) edgePixel(input, out, width, h, r, x);
}

/** rowPassSymmetric's pixel within r of either end of the row. */
@inline
function edgePixel(input: usize, out: usize, width: i32, h: usize, r: i32, x: i32): void {
  let acc: f64 = load<f64>(h) * <f64>load<f32>(input + (<usize>x << 2));
  for (let j = 1; j <= r; j++) {
    const hj = load<f64>(h + (<usize>j << 3));
    if (x - j >= 0) acc += hj * <f64>load<f32>(input + (<usize>(x - j) << 2));
    if (x + j < width) acc += hj * <f64>load<f32>(input + (<usize>(x + j) << 2));
  }
  store<f32>(out + (<usize>x << 2), <f32>acc);
}

/**
 * columnPassAddSymmetric of one output row: out[x] += h[0] row0[x], then for j = 1 .. r
 * out[x] += h[j] (row-j[x] + row+j[x]), or each of the two alone (row-j first) when the other is
 * beyond the image, each sum rounded to float32 as the JavaScript's store does. `rows` holds 2r + 1
 * i32 pointers to the rows y - r .. y + r (0: beyond the image), `h` r + 1 doubles.
 */
export function columnSymmetric(out: usize, rows: usize, width: i32, h: usize, r: i32): void {
  const row0 = <usize>load<i32>(rows + (<usize>r << 2));
  const h0v = f64x2.splat(load<f64>(h));
  let x = 0;
  for (; x + 4 <= width; x += 4) {
    const o = <usize>x << 2;
    let acc = round32(f64x2.add(pair(out + o), f64x2.mul(h0v, pair(row0 + o))));
    let acc2 = round32(f64x2.add(pair(out + o + 8), f64x2.mul(h0v, pair(row0 + o + 8))));
    for (let j = 1; j <= r; j++) {
      const hj = v128.load64_splat(h + (<usize>j << 3));
      const a = <usize>load<i32>(rows + (<usize>(r - j) << 2));
      const b = <usize>load<i32>(rows + (<usize>(r + j) << 2));
      if (a != 0 && b != 0) {
        acc = round32(f64x2.add(acc, f64x2.mul(hj, f64x2.add(pair(a + o), pair(b + o)))));
        acc2 = round32(
          f64x2.add(acc2, f64x2.mul(hj, f64x2.add(pair(a + o + 8), pair(b + o + 8)))),
        );
      } else {
        if (a != 0) {
          acc = round32(f64x2.add(acc, f64x2.mul(hj, pair(a + o))));
          acc2 = round32(f64x2.add(acc2, f64x2.mul(hj, pair(a + o + 8))));
        }
        if (b != 0) {
          acc = round32(f64x2.add(acc, f64x2.mul(hj, pair(b + o))));
          acc2 = round32(f64x2.add(acc2, f64x2.mul(hj, pair(b + o + 8))));
        }
      }
    }
    v128.store(
      out + o,
      v128.shuffle<u64>(f32x4.demote_f64x2_zero(acc), f32x4.demote_f64x2_zero(acc2), 0, 2),
    );
  }
  for (; x + 2 <= width; x += 2) {
    const o = <usize>x << 2;
    let acc = round32(f64x2.add(pair(out + o), f64x2.mul(h0v, pair(row0 + o))));
    for (let j = 1; j <= r; j++) {
      const hj = v128.load64_splat(h + (<usize>j << 3));
      const a = <usize>load<i32>(rows + (<usize>(r - j) << 2));
      const b = <usize>load<i32>(rows + (<usize>(r + j) << 2));
      if (a != 0 && b != 0) {
        acc = round32(f64x2.add(acc, f64x2.mul(hj, f64x2.add(pair(a + o), pair(b + o)))));
      } else {
        if (a != 0) acc = round32(f64x2.add(acc, f64x2.mul(hj, pair(a + o))));
        if (b != 0) acc = round32(f64x2.add(acc, f64x2.mul(hj, pair(b + o))));
      }
    }
    v128.store64_lane(out + o, f32x4.demote_f64x2_zero(acc), 0);
  }
  for (; x < width; x++) {
    const o = <usize>x << 2;
    let acc: f32 = <f32>(<f64>load<f32>(out + o) + load<f64>(h) * <f64>load<f32>(row0 + o));
    for (let j = 1; j <= r; j++) {
      const hj = load<f64>(h + (<usize>j << 3));
      const a = <usize>load<i32>(rows + (<usize>(r - j) << 2));
      const b = <usize>load<i32>(rows + (<usize>(r + j) << 2));
      if (a != 0 && b != 0) {
        acc = <f32>(<f64>acc + hj * (<f64>load<f32>(a + o) + <f64>load<f32>(b + o)));
      } else {
        if (a != 0) acc = <f32>(<f64>acc + hj * <f64>load<f32>(a + o));
        if (b != 0) acc = <f32>(<f64>acc + hj * <f64>load<f32>(b + o));
      }
    }
    store<f32>(out + o, acc);
  }
}
