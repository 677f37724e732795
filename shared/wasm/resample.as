// AssemblyScript (https://www.assemblyscript.org): the Lanczos resampler's pixel loop in WebAssembly SIMD,
// the same arithmetic as resampleRowsJs (shared/warp/resample.ts) in the same order, so the same bits.
// Memory is laid out by the caller (shared/warp/resample-wasm.ts); every pointer is a byte offset.
// The template's image and variance arrive interleaved as f32 pairs (image, variance): one 8-byte load
// gives a tap of both, promoted to f64x2 and multiplied by (w, w^2), exactly the two scalar sums of the
// JavaScript, one in each lane. Build: see README.md (asc 0.28.20, -O3 --noAssert --runtime stub --enable simd).

/** Smallest and largest floor(x), floor(y) of the tile's in-template positions, written as 4 i32 at `out`; returns their count. */
export function bounds(
  rows: i32,
  cols: i32,
  stride: i32,
  posX: usize,
  posY: usize,
  W: i32,
  H: i32,
  out: usize,
): i32 {
  let minX = i32.MAX_VALUE;
  let maxX = i32.MIN_VALUE;
  let minY = i32.MAX_VALUE;
  let maxY = i32.MIN_VALUE;
  let count = 0;
  const xMax = <f64>W - 0.5;
  const yMax = <f64>H - 0.5;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = <usize>(r * stride + c) << 3;
      const sx = load<f64>(posX + i);
      const sy = load<f64>(posY + i);
      if (!(sx >= -0.5 && sx <= xMax && sy >= -0.5 && sy <= yMax)) continue;
      const ix = <i32>(sx + 1) - 1;
      const iy = <i32>(sy + 1) - 1;
      if (ix < minX) minX = ix;
      if (ix > maxX) maxX = ix;
      if (iy < minY) minY = iy;
      if (iy > maxY) maxY = iy;
      count++;
    }
  }
  store<i32>(out, minX);
  store<i32>(out, maxX, 4);
  store<i32>(out, minY, 8);
  store<i32>(out, maxY, 12);
  return count;
}

// The tile being resampled: set by setTemplate / setRegion / setOutput, read by resampleTile.
let W: i32 = 0;
let H: i32 = 0;
let table: usize = 0;
let taps: i32 = 0;
let a: i32 = 0;
let phases: i32 = 0;
let binsPerPhase: f64 = 0;
let phaseBins: i32 = 0;
let noDataBit: i32 = 0;
let edgeBit: i32 = 0;
let noData: f32 = 0;
let src: usize = 0;
let mask: usize = 0;
let rx0: i32 = 0;
let ry0: i32 = 0;
let rw: i32 = 0;
let weights: usize = 0;

/** The template's size, the kernel's table (f64 rows of `taps_` weights per phase) and the mask bits. */
export function setTemplate(
  W_: i32,
  H_: i32,
  table_: usize,
  taps_: i32,
  phases_: i32,
  phaseBins_: i32,
  noDataBit_: i32,
  edgeBit_: i32,
  noData_: f32,
  weights_: usize,
): void {
  W = W_;
  H = H_;
  table = table_;
  taps = taps_;
  a = taps_ >> 1;
  phases = phases_;
  phaseBins = phaseBins_;
  binsPerPhase = <f64>phaseBins_ / <f64>phases_;
  noDataBit = noDataBit_;
  edgeBit = edgeBit_;
  noData = noData_;
  weights = weights_;
}

/** The copied region of the template: columns rx0_.. and rows ry0_.., rw_ pixels a row; `mask_` 0 when all clear. */
export function setRegion(src_: usize, mask_: usize, rx0_: i32, ry0_: i32, rw_: i32): void {
  src = src_;
  mask = mask_;
  rx0 = rx0_;
  ry0 = ry0_;
  rw = rw_;
}

/**
 * Resamples a tile of rows x cols output pixels whose positions, area ratios and outputs sit at index
 * r * stride + c of their arrays. Per pixel it writes image, variance, mask and the sum of squared weights
 * (`squares`, read by sumSquares for covered pixels); the phases' bins are counted (i32) in `hist`, cell
 * row (y0 + r) / cellSize - cellRow0, cellsX cells of phaseBins bins, x then y histograms. Returns the
 * covered pixels.
 */
export function resampleTile(
  rows: i32,
  cols: i32,
  stride: i32,
  posX: usize,
  posY: usize,
  scales: usize,
  outImage: usize,
  outVariance: usize,
  outMask: usize,
  squaresOut: usize,
  y0: i32,
  c0: i32,
  cellSize: i32,
  cellRow0: i32,
  cellsX: i32,
  histX: usize,
  histY: usize,
): i32 {
  const xMax = <f64>W - 0.5;
  const yMax = <f64>H - 0.5;
  const fast3 = taps == 6;
  const srcRow = <usize>rw << 3;
  let covered = 0;
  for (let r = 0; r < rows; r++) {
    const cellRow = (((y0 + r) / cellSize - cellRow0) * cellsX) * phaseBins;
    for (let c = 0; c < cols; c++) {
      const i = r * stride + c;
      const i8 = <usize>i << 3;
      const i4 = <usize>i << 2;
      const sx = load<f64>(posX + i8);
      const sy = load<f64>(posY + i8);
      if (!(sx >= -0.5 && sx <= xMax && sy >= -0.5 && sy <= yMax)) {
        store<f32>(outImage + i4, noData);
        store<f32>(outVariance + i4, noData);
        store<i32>(outMask + i4, noDataBit);
        continue;
      }
      const scale = load<f64>(scales + i8);
      const ix = <i32>(sx + 1) - 1;
      const iy = <i32>(sy + 1) - 1;
      const x0 = ix - (a - 1);
      const yy0 = iy - (a - 1);
      let bits = 0;
      if (mask) {
        const mx = min(max(ix, 0), W - 1) - rx0;
        const my = min(max(iy, 0), H - 1) - ry0;
        bits = load<i32>(mask + ((<usize>(my * rw + mx)) << 2));
      }
      let value: f64;
      let variance: f64;
      let squares: f64;
      let binX: i32;
      let binY: i32;
      if (fast3 && x0 >= 0 && yy0 >= 0 && x0 + 6 <= W && yy0 + 6 <= H) {
        const px = (sx - <f64>ix) * <f64>phases;
        const pxi = <i32>px;
        const tx = px - <f64>pxi;
        const bx = table + ((<usize>(pxi * 6)) << 3);
        const w0 = load<f64>(bx) + tx * (load<f64>(bx, 48) - load<f64>(bx));
        const w1 = load<f64>(bx, 8) + tx * (load<f64>(bx, 56) - load<f64>(bx, 8));
        const w2 = load<f64>(bx, 16) + tx * (load<f64>(bx, 64) - load<f64>(bx, 16));
        const w3 = load<f64>(bx, 24) + tx * (load<f64>(bx, 72) - load<f64>(bx, 24));
        const w4 = load<f64>(bx, 32) + tx * (load<f64>(bx, 80) - load<f64>(bx, 32));
        const w5 = load<f64>(bx, 40) + tx * (load<f64>(bx, 88) - load<f64>(bx, 40));
        const q0 = w0 * w0;
        const q1 = w1 * w1;
        const q2 = w2 * w2;
        const q3 = w3 * w3;
        const q4 = w4 * w4;
        const q5 = w5 * w5;
        // (w_k, w_k^2): lane 0 weighs the image, lane 1 the variance.
        const k0 = f64x2.replace_lane(f64x2.splat(w0), 1, q0);
        const k1 = f64x2.replace_lane(f64x2.splat(w1), 1, q1);
        const k2 = f64x2.replace_lane(f64x2.splat(w2), 1, q2);
        const k3 = f64x2.replace_lane(f64x2.splat(w3), 1, q3);
        const k4 = f64x2.replace_lane(f64x2.splat(w4), 1, q4);
        const k5 = f64x2.replace_lane(f64x2.splat(w5), 1, q5);
        const py = (sy - <f64>iy) * <f64>phases;
        const pyi = <i32>py;
        const ty = py - <f64>pyi;
        const by = table + ((<usize>(pyi * 6)) << 3);
        let acc = f64x2.splat(0);
        let squaresY: f64 = 0;
        let b = src + (<usize>((yy0 - ry0) * rw + (x0 - rx0)) << 3);
        for (let j = 0; j < 6; j++) {
          const t0 = load<f64>(by + (<usize>j << 3));
          const wj = t0 + ty * (load<f64>(by + (<usize>j << 3), 48) - t0);
          let vs = f64x2.mul(k0, f64x2.promote_low_f32x4(v128.load64_zero(b)));
          vs = f64x2.add(vs, f64x2.mul(k1, f64x2.promote_low_f32x4(v128.load64_zero(b, 8))));
          vs = f64x2.add(vs, f64x2.mul(k2, f64x2.promote_low_f32x4(v128.load64_zero(b, 16))));
          vs = f64x2.add(vs, f64x2.mul(k3, f64x2.promote_low_f32x4(v128.load64_zero(b, 24))));
          vs = f64x2.add(vs, f64x2.mul(k4, f64x2.promote_low_f32x4(v128.load64_zero(b, 32))));
          vs = f64x2.add(vs, f64x2.mul(k5, f64x2.promote_low_f32x4(v128.load64_zero(b, 40))));
          const wjj = wj * wj;
          acc = f64x2.add(acc, f64x2.mul(f64x2.replace_lane(f64x2.splat(wj), 1, wjj), vs));
          squaresY += wjj;
          b += srcRow;
        }
        value = f64x2.extract_lane(acc, 0);
        variance = f64x2.extract_lane(acc, 1);
        squares = (q0 + q1 + q2 + q3 + q4 + q5) * squaresY;
        binX = min(phaseBins - 1, <i32>(<f64>pxi * binsPerPhase));
        binY = min(phaseBins - 1, <i32>(<f64>pyi * binsPerPhase));
      } else {
        // Any kernel, truncated and renormalised over the taps inside the template.
        const wx = weights;
        const wy = weights + (<usize>taps << 3);
        kernelWeights(sx - <f64>ix, wx);
        kernelWeights(sy - <f64>iy, wy);
        let sumX: f64 = 0;
        let sumY: f64 = 0;
        let sqX: f64 = 0;
        let sqY: f64 = 0;
        for (let k = 0; k < taps; k++) {
          if (x0 + k >= 0 && x0 + k < W) {
            const w = load<f64>(wx + (<usize>k << 3));
            sumX += w;
            sqX += w * w;
          }
        }
        value = 0;
        variance = 0;
        for (let j = 0; j < taps; j++) {
          if (yy0 + j < 0 || yy0 + j >= H) continue;
          const wj = load<f64>(wy + (<usize>j << 3));
          sumY += wj;
          sqY += wj * wj;
          const base = (yy0 + j - ry0) * rw + (x0 - rx0);
          let v: f64 = 0;
          let s: f64 = 0;
          for (let k = 0; k < taps; k++) {
            if (x0 + k < 0 || x0 + k >= W) continue;
            const w = load<f64>(wx + (<usize>k << 3));
            const p = src + (<usize>(base + k) << 3);
            v += w * <f64>load<f32>(p);
            s += w * w * <f64>load<f32>(p, 4);
          }
          value += wj * v;
          variance += wj * wj * s;
        }
        const norm = sumX * sumY;
        value /= norm;
        variance /= norm * norm;
        squares = (sqX * sqY) / (norm * norm);
        if (x0 < 0 || yy0 < 0 || x0 + taps > W || yy0 + taps > H) bits |= edgeBit;
        binX = phaseBin((sx - <f64>ix) * <f64>phases);
        binY = phaseBin((sy - <f64>iy) * <f64>phases);
      }
      store<f32>(outImage + i4, <f32>(value * scale));
      store<f32>(outVariance + i4, <f32>(variance * scale * scale));
      store<i32>(outMask + i4, bits);
      store<f64>(squaresOut + i8, squares);
      if (!(bits & noDataBit)) {
        covered++;
        const cell = cellRow + ((c0 + c) / cellSize) * phaseBins;
        const hx = histX + (<usize>(cell + binX) << 2);
        const hy = histY + (<usize>(cell + binY) << 2);
        store<i32>(hx, load<i32>(hx) + 1);
        store<i32>(hy, load<i32>(hy) + 1);
      }
    }
  }
  return covered;
}

/** Interleaves n 32-bit words of `a` and `b` into pairs (a[i], b[i]) at `out` (the template region's image and variance). */
export function interleave(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const x = v128.load(a + (<usize>i << 2));
    const y = v128.load(b + (<usize>i << 2));
    const o = out + (<usize>i << 3);
    v128.store(o, v128.shuffle<i32>(x, y, 0, 4, 1, 5));
    v128.store(o, v128.shuffle<i32>(x, y, 2, 6, 3, 7), 16);
  }
  for (; i < n; i++) {
    store<u32>(out + (<usize>i << 3), load<u32>(a + (<usize>i << 2)));
    store<u32>(out + (<usize>i << 3), load<u32>(b + (<usize>i << 2)), 4);
  }
}

/** `sum` plus the squares of the pixels without the NO_DATA bit, in index order (as the JavaScript adds them). */
export function sumSquares(n: i32, outMask: usize, squares: usize, sum: f64): f64 {
  for (let i = 0; i < n; i++) {
    if (!(load<i32>(outMask + (<usize>i << 2)) & noDataBit)) sum += load<f64>(squares + (<usize>i << 3));
  }
  return sum;
}

/** LanczosTable.weights: the taps for phase f, linear between table rows (NaN below row 0, as the JavaScript reads undefined). */
function kernelWeights(f: f64, out: usize): void {
  const pos = f * <f64>phases;
  let p = <i32>Math.floor(pos);
  if (p >= phases) p = phases - 1;
  const t = pos - <f64>p;
  const base = table + (<usize>(p * taps) << 3);
  const step = <usize>taps << 3;
  for (let k = 0; k < taps; k++) {
    const o = <usize>k << 3;
    const w = p < 0 ? NaN : load<f64>(base + o) + t * (load<f64>(base + step + o) - load<f64>(base + o));
    store<f64>(out + o, w);
  }
}

/** noise-correlation.ts phaseBin: the bin of a tabulated phase index p in [0, phases). */
function phaseBin(p: f64): i32 {
  return min(phaseBins - 1, <i32>Math.floor((p * <f64>phaseBins) / <f64>phases));
}
