/**
 * Separable image filters on contiguous Float32 / Uint8 buffers (row-major, width w).
 */

/** Normalised Gaussian taps of standard deviation sigma (px), half-width ceil(3.5 sigma). */
export function gaussianTaps(sigma: number): Float32Array {
  const half = Math.max(1, Math.ceil(3.5 * sigma));
  const taps = new Float32Array(2 * half + 1);
  let sum = 0;
  for (let i = -half; i <= half; i++)
    sum += taps[i + half] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/** Convolves with a symmetric 1-D kernel along rows then columns (zero outside the image); mirrored taps are summed first. */
export function convolveSeparable(
  src: Float32Array,
  w: number,
  h: number,
  taps: Float32Array,
  out: Float32Array,
): void {
  convolveSeparableRows(src, 0, w, h, taps, out, 0, h);
}

/**
 * Rows [y0, y1) of convolveSeparable's output (out is the whole w x h image), the same values, from
 * `src` holding only the image's rows [srcY0, srcY0 + src.length / w): those within half the
 * kernel of [y0, y1) that lie in the image. Bands of rows can so be filtered apart (by threads).
 * `out` may be `src` itself (the whole image): the row pass reads every source row before any output is written.
 */
export function convolveSeparableRows(
  src: Float32Array,
  srcY0: number,
  w: number,
  h: number,
  taps: Float32Array,
  out: Float32Array,
  y0: number,
  y1: number,
): void {
  const half = (taps.length - 1) >> 1;
  const rows = src.length / w;
  const tmp = rowPassScratch(rows * w);
  const t0 = taps[half];
  // Interior columns [a, b) need no bounds checks; the rest are the edges (all of them when w <= 2 half).
  const a = Math.min(half, w);
  const b = Math.max(a, w - half);
  for (let r = 0; r < rows; r++) {
    const row = r * w;
    for (let x = 0; x < a; x++) tmp[row + x] = edgeTap(src, row, x, w, taps, half);
    for (let c = row + a, end = row + b; c < end; c++) {
      let s = t0 * src[c];
      for (let k = 1; k <= half; k++) s += taps[half + k] * (src[c - k] + src[c + k]);
      tmp[c] = s;
    }
    for (let x = b; x < w; x++) tmp[row + x] = edgeTap(src, row, x, w, taps, half);
  }
  for (let y = y0; y < y1; y++) {
    const row = y * w;
    const own = (y - srcY0) * w;
    if (y >= half && y + half < h) {
      // Interior rows: two tap pairs a sweep, the sum rounded to Float32 after each as a store would.
      let k = 1;
      if (half & 1) {
        const t = taps[half + 1];
        for (let x = 0, lo = own - w, hi = own + w; x < w; x++)
          out[row + x] = Math.fround(t0 * tmp[own + x]) + t * (tmp[lo + x] + tmp[hi + x]);
        k = 2;
      } else for (let x = 0; x < w; x++) out[row + x] = t0 * tmp[own + x];
      for (; k < half; k += 2) {
        const t = taps[half + k];
        const u = taps[half + k + 1];
        const lo = own - k * w;
        const hi = own + k * w;
        for (let x = 0; x < w; x++) {
          const s = Math.fround(out[row + x] + t * (tmp[lo + x] + tmp[hi + x]));
          out[row + x] = s + u * (tmp[lo - w + x] + tmp[hi + w + x]);
        }
      }
      continue;
    }
    for (let x = 0; x < w; x++) out[row + x] = t0 * tmp[own + x];
    for (let k = 1; k <= half; k++) {
      const t = taps[half + k];
      const below = y - k >= 0 ? (y - k - srcY0) * w : -1;
      const above = y + k < h ? (y + k - srcY0) * w : -1;
      if (below >= 0 && above >= 0)
        for (let x = 0; x < w; x++) out[row + x] += t * (tmp[below + x] + tmp[above + x]);
      else if (below >= 0) for (let x = 0; x < w; x++) out[row + x] += t * tmp[below + x];
      else if (above >= 0) for (let x = 0; x < w; x++) out[row + x] += t * tmp[above + x];
    }
  }
}

/** The row pass's value at column x of the row starting at `row`, within half the kernel of an edge. */
function edgeTap(
  src: Float32Array,
  row: number,
  x: number,
  w: number,
  taps: Float32Array,
  half: number,
): number {
  const c = row + x;
  let s = taps[half] * src[c];
  for (let k = 1; k <= half; k++) {
    if (x - k >= 0) s += taps[half - k] * src[c - k];
    if (x + k < w) s += taps[half + k] * src[c + k];
  }
  return s;
}

// The row pass's output, reused by every call on this thread (a fresh one per call fed the collector).
let rowScratch = new Float32Array(0);
/** Larger row passes (whole full-resolution images) get their own plane, not kept after the call. */
const MAX_KEPT_SCRATCH = 1 << 22;

/** A Float32Array of at least n values (contents undefined): rowScratch, grown when too small, up to MAX_KEPT_SCRATCH. */
function rowPassScratch(n: number): Float32Array {
  if (n > MAX_KEPT_SCRATCH) return new Float32Array(n);
  if (rowScratch.length < n) rowScratch = new Float32Array(n);
  return rowScratch;
}

/** Square dilation of a 0/1 mask by `radius` px (Chebyshev distance), in place, O(N): nearest set pixel before and after, along rows then columns. */
export function dilateSquare(mask: Uint8Array, w: number, h: number, radius: number): void {
  if (radius <= 0) return;
  const line = new Uint8Array(w);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    line.set(mask.subarray(o, o + w));
    for (let x = 0, last = -radius - 1; x < w; x++) {
      if (line[x]) last = x;
      if (x - last <= radius) mask[o + x] = 1;
    }
    for (let x = w - 1, next = w + radius + 1; x >= 0; x--) {
      if (line[x]) next = x;
      if (next - x <= radius) mask[o + x] = 1;
    }
  }
  // Columns, swept row by row (cache-friendly): per column, the last set row above and the next below.
  const rows = mask.slice();
  const nearest = new Int32Array(w).fill(-radius - 1);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      if (rows[o + x]) nearest[x] = y;
      if (y - nearest[x] <= radius) mask[o + x] = 1;
    }
  }
  nearest.fill(h + radius + 1);
  for (let y = h - 1; y >= 0; y--) {
    const o = y * w;
    for (let x = 0; x < w; x++) {
      if (rows[o + x]) nearest[x] = y;
      if (nearest[x] - y <= radius) mask[o + x] = 1;
    }
  }
}
