// AssemblyScript (https://www.assemblyscript.org): the Lanczos resampler's pixel loop in WebAssembly SIMD,
// the same arithmetic as resampleRowsJs (shared/warp/resample.ts) in the same order, so the same bits.
// Memory is laid out by the caller (shared/warp/resample-wasm.ts); every pointer is a byte offset.
// The template's image and variance arrive as f32 planes and are interleaved into f64 pairs (image,
// variance): one 16-byte load gives a tap of both, multiplied by (w, w^2), exactly the two scalar sums of
// the JavaScript, one in each lane. Build: see README.md (asc 0.28.20, -O3 --noAssert --runtime stub --enable simd).

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
  // Two positions at a time: the smallest and largest x, y among those inside, and their count
  // (floor is monotonic, so the floors of the extremes are the extremes of the floors).
  const low = f64x2.splat(-0.5);
  const xMax = f64x2.splat(<f64>W - 0.5);
  const yMax = f64x2.splat(<f64>H - 0.5);
  const far = f64x2.splat(Infinity);
  const near = f64x2.splat(-Infinity);
  let loX = far;
  let hiX = near;
  let loY = far;
  let hiY = near;
  let inside = i64x2.splat(0);
  const all = i64x2.splat(-1);
  const first = i64x2.replace_lane(all, 1, 0);
  for (let r = 0; r < rows; r++) {
    const row = <usize>(r * stride) << 3;
    let c = 0;
    for (; c < cols; c += 2) {
      const i = row + (<usize>c << 3);
      let x: v128;
      let y: v128;
      let valid = all;
      if (c + 1 < cols) {
        x = v128.load(posX + i);
        y = v128.load(posY + i);
      } else {
        // The odd last position, counted in lane 0 only.
        x = v128.load64_splat(posX + i);
        y = v128.load64_splat(posY + i);
        valid = first;
      }
      const inX = v128.and(f64x2.ge(x, low), f64x2.le(x, xMax));
      const m = v128.and(valid, v128.and(inX, v128.and(f64x2.ge(y, low), f64x2.le(y, yMax))));
      loX = f64x2.pmin(loX, v128.bitselect(x, far, m));
      hiX = f64x2.pmax(hiX, v128.bitselect(x, near, m));
      loY = f64x2.pmin(loY, v128.bitselect(y, far, m));
      hiY = f64x2.pmax(hiY, v128.bitselect(y, near, m));
      inside = i64x2.sub(inside, m);
    }
  }
  const count = <i32>(i64x2.extract_lane(inside, 0) + i64x2.extract_lane(inside, 1));
  // sx, sy >= -0.5, so truncation of (s + 1) is floor(s) + 1.
  const minX = <i32>(min(f64x2.extract_lane(loX, 0), f64x2.extract_lane(loX, 1)) + 1) - 1;
  const maxX = <i32>(max(f64x2.extract_lane(hiX, 0), f64x2.extract_lane(hiX, 1)) + 1) - 1;
  const minY = <i32>(min(f64x2.extract_lane(loY, 0), f64x2.extract_lane(loY, 1)) + 1) - 1;
  const maxY = <i32>(max(f64x2.extract_lane(hiY, 0), f64x2.extract_lane(hiY, 1)) + 1) - 1;
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
let lerpTable: usize = 0;

/** Bytes of a row of the Lanczos-3 (weights, differences) table: 6 weights, then 6 differences to the next row. */
const LERP_ROW: usize = 96;

/** Output columns of a block (resampleTile). */
const BLOCK_COLS: i32 = 128;

/**
 * Writes the (weights, differences) table of a 6-tap kernel's `phases_` + 1 row table at `out`: row p
 * holds table[p] and table[p + 1] - table[p] (the differences the JavaScript takes per pixel).
 */
export function lerpRows(table_: usize, phases_: i32, out: usize): void {
  for (let p = 0; p < phases_; p++) {
    const from = table_ + (<usize>p) * 48;
    const to = out + (<usize>p) * LERP_ROW;
    for (let k: usize = 0; k < 48; k += 8) {
      const t = load<f64>(from + k);
      store<f64>(to + k, t);
      store<f64>(to + k, load<f64>(from + k, 48) - t, 48);
    }
  }
}

/**
 * The template's size, the kernel's table (f64 rows of `taps_` weights per phase) and the mask bits;
 * `lerpTable_` its lerpRows table when `taps_` is 6.
 */
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
  lerpTable_: usize,
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
  lerpTable = lerpTable_;
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
  const low = f64x2.splat(-0.5);
  const high = f64x2.replace_lane(f64x2.splat(<f64>W - 0.5), 1, <f64>H - 0.5);
  const one = f64x2.splat(1);
  const phasesX2 = f64x2.splat(<f64>phases);
  const binsX2 = f64x2.splat(binsPerPhase);
  const lastBin = i32x4.splat(phaseBins - 1);
  const fast3 = taps == 6;
  const srcRow = <usize>rw << 4;
  let covered = 0;
  // Blocks of BLOCK_COLS columns, all rows of one block before the next: the template pixels a block
  // reads stay in the cache from one output row to the next.
  for (let cb = 0; cb < cols; cb += BLOCK_COLS) {
    const ce = min(cols, cb + BLOCK_COLS);
    for (let r = 0; r < rows; r++) {
      const cellRow = (((y0 + r) / cellSize - cellRow0) * cellsX) * phaseBins;
      // The column's cell, (c0 + c) / cellSize, stepped at each cell's edge.
      let cellCol = ((c0 + cb) / cellSize) * phaseBins;
      let edge = ((c0 + cb) / cellSize + 1) * cellSize - c0;
      for (let c = cb; c < ce; c++) {
        if (c == edge) {
          cellCol += phaseBins;
          edge += cellSize;
        }
        const i = r * stride + c;
        const i8 = <usize>i << 3;
        const i4 = <usize>i << 2;
        // (sx, sy): the pixel's position in the template, both axes in the lanes of one f64x2.
        const pos = v128.load64_lane(posY + i8, v128.load64_zero(posX + i8), 1);
        if (!i64x2.all_true(v128.and(f64x2.ge(pos, low), f64x2.le(pos, high)))) {
          store<f32>(outImage + i4, noData);
          store<f32>(outVariance + i4, noData);
          store<i32>(outMask + i4, noDataBit);
          continue;
        }
        const scale = load<f64>(scales + i8);
        // sx, sy >= -0.5, so truncation of (s + 1) is floor(s) + 1.
        const cell0 = i32x4.sub(i32x4.trunc_sat_f64x2_s_zero(f64x2.add(pos, one)), i32x4.splat(1));
        const ix = i32x4.extract_lane(cell0, 0);
        const iy = i32x4.extract_lane(cell0, 1);
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
          // (px, py), their table rows (pxi, pyi) and fractions (tx, ty), lane by lane as the scalars.
          const phase = f64x2.mul(f64x2.sub(pos, f64x2.convert_low_i32x4_s(cell0)), phasesX2);
          const row = i32x4.trunc_sat_f64x2_s_zero(phase);
          const rowF = f64x2.convert_low_i32x4_s(row);
          const frac = f64x2.sub(phase, rowF);
          const bins = i32x4.min_s(i32x4.trunc_sat_f64x2_s_zero(f64x2.mul(rowF, binsX2)), lastBin);
          // Six weights of an axis as three f64x2 from a row of the (weights, differences) table,
          // the JavaScript's table[p] + t * (table[p + 1] - table[p]) lane by lane.
          const tx = v128.shuffle<f64>(frac, frac, 0, 0);
          const bx = lerpTable + (<usize>i32x4.extract_lane(row, 0)) * LERP_ROW;
          const x01 = f64x2.add(v128.load(bx), f64x2.mul(tx, v128.load(bx, 48)));
          const x23 = f64x2.add(v128.load(bx, 16), f64x2.mul(tx, v128.load(bx, 64)));
          const x45 = f64x2.add(v128.load(bx, 32), f64x2.mul(tx, v128.load(bx, 80)));
          const q01 = f64x2.mul(x01, x01);
          const q23 = f64x2.mul(x23, x23);
          const q45 = f64x2.mul(x45, x45);
          // (w_k, w_k^2): lane 0 weighs the image, lane 1 the variance.
          const k0 = v128.shuffle<f64>(x01, q01, 0, 2);
          const k1 = v128.shuffle<f64>(x01, q01, 1, 3);
          const k2 = v128.shuffle<f64>(x23, q23, 0, 2);
          const k3 = v128.shuffle<f64>(x23, q23, 1, 3);
          const k4 = v128.shuffle<f64>(x45, q45, 0, 2);
          const k5 = v128.shuffle<f64>(x45, q45, 1, 3);
          const ty = v128.shuffle<f64>(frac, frac, 1, 1);
          const by = lerpTable + (<usize>i32x4.extract_lane(row, 1)) * LERP_ROW;
          const y01 = f64x2.add(v128.load(by), f64x2.mul(ty, v128.load(by, 48)));
          const y23 = f64x2.add(v128.load(by, 16), f64x2.mul(ty, v128.load(by, 64)));
          const y45 = f64x2.add(v128.load(by, 32), f64x2.mul(ty, v128.load(by, 80)));
          const r01 = f64x2.mul(y01, y01);
          const r23 = f64x2.mul(y23, y23);
          const r45 = f64x2.mul(y45, y45);
          const b = src + (<usize>((yy0 - ry0) * rw + (x0 - rx0)) << 4);
          let acc = f64x2.splat(0);
          acc = f64x2.add(acc, f64x2.mul(v128.shuffle<f64>(y01, r01, 0, 2), tapRow(b, k0, k1, k2, k3, k4, k5)));
          acc = f64x2.add(acc, f64x2.mul(v128.shuffle<f64>(y01, r01, 1, 3), tapRow(b + srcRow, k0, k1, k2, k3, k4, k5)));
          acc = f64x2.add(acc, f64x2.mul(v128.shuffle<f64>(y23, r23, 0, 2), tapRow(b + 2 * srcRow, k0, k1, k2, k3, k4, k5)));
          acc = f64x2.add(acc, f64x2.mul(v128.shuffle<f64>(y23, r23, 1, 3), tapRow(b + 3 * srcRow, k0, k1, k2, k3, k4, k5)));
          acc = f64x2.add(acc, f64x2.mul(v128.shuffle<f64>(y45, r45, 0, 2), tapRow(b + 4 * srcRow, k0, k1, k2, k3, k4, k5)));
          acc = f64x2.add(acc, f64x2.mul(v128.shuffle<f64>(y45, r45, 1, 3), tapRow(b + 5 * srcRow, k0, k1, k2, k3, k4, k5)));
          value = f64x2.extract_lane(acc, 0);
          variance = f64x2.extract_lane(acc, 1);
          // (sum of w_x^2, sum of w_y^2) in the JavaScript's order (its 0 + w_y0^2 is w_y0^2).
          let sq = v128.shuffle<f64>(q01, r01, 0, 2);
          sq = f64x2.add(sq, v128.shuffle<f64>(q01, r01, 1, 3));
          sq = f64x2.add(sq, v128.shuffle<f64>(q23, r23, 0, 2));
          sq = f64x2.add(sq, v128.shuffle<f64>(q23, r23, 1, 3));
          sq = f64x2.add(sq, v128.shuffle<f64>(q45, r45, 0, 2));
          sq = f64x2.add(sq, v128.shuffle<f64>(q45, r45, 1, 3));
          squares = f64x2.extract_lane(sq, 0) * f64x2.extract_lane(sq, 1);
          binX = i32x4.extract_lane(bins, 0);
          binY = i32x4.extract_lane(bins, 1);
        } else {
          // Any kernel, truncated and renormalised over the taps inside the template.
          const wx = weights;
          const wy = weights + (<usize>taps << 3);
          const sx = f64x2.extract_lane(pos, 0);
          const sy = f64x2.extract_lane(pos, 1);
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
              const p = src + (<usize>(base + k) << 4);
              v += w * load<f64>(p);
              s += w * w * load<f64>(p, 8);
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
          const cell = cellRow + cellCol;
          const hx = histX + (<usize>(cell + binX) << 2);
          const hy = histY + (<usize>(cell + binY) << 2);
          store<i32>(hx, load<i32>(hx) + 1);
          store<i32>(hy, load<i32>(hy) + 1);
        }
      }
    }
  }
  return covered;
}

/** One row of six taps, (image, variance) f64 pairs from `b` on, weighed by k0..k5 and added in order. */
// @ts-ignore: decorator
@inline
function tapRow(b: usize, k0: v128, k1: v128, k2: v128, k3: v128, k4: v128, k5: v128): v128 {
  let vs = f64x2.mul(k0, v128.load(b));
  vs = f64x2.add(vs, f64x2.mul(k1, v128.load(b, 16)));
  vs = f64x2.add(vs, f64x2.mul(k2, v128.load(b, 32)));
  vs = f64x2.add(vs, f64x2.mul(k3, v128.load(b, 48)));
  vs = f64x2.add(vs, f64x2.mul(k4, v128.load(b, 64)));
  return f64x2.add(vs, f64x2.mul(k5, v128.load(b, 80)));
}

/** Interleaves n f32 of `a` and `b` into f64 pairs (a[i], b[i]) at `out` (the template region's image and variance). */
export function interleave(n: i32, a: usize, b: usize, out: usize): void {
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const x = f64x2.promote_low_f32x4(v128.load64_zero(a + (<usize>i << 2)));
    const y = f64x2.promote_low_f32x4(v128.load64_zero(b + (<usize>i << 2)));
    const o = out + (<usize>i << 4);
    v128.store(o, v128.shuffle<f64>(x, y, 0, 2));
    v128.store(o, v128.shuffle<f64>(x, y, 1, 3), 16);
  }
  for (; i < n; i++) {
    store<f64>(out + (<usize>i << 4), <f64>load<f32>(a + (<usize>i << 2)));
    store<f64>(out + (<usize>i << 4), <f64>load<f32>(b + (<usize>i << 2)), 8);
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
