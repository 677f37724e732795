/**
 * Direct convolutions of small arrays (stamps), with the convention used everywhere in
 * the project: out(x) = sum_u k(u) in(x - u), u in [-h, h], k stored at index u + h.
 */

export interface Array2d {
  data: Float64Array;
  width: number;
  height: number;
}

/**
 * Separable "valid" convolution: the result is (width - kx.length + 1) x (height - ky.length + 1),
 * every output pixel using only input pixels. Two 1-D passes: O(taps) per pixel, not O(taps^2).
 */
export function convolveSeparableValid(src: Array2d, kx: Float64Array, ky: Float64Array): Array2d {
  const mx = kx.length,
    my = ky.length;
  const w = src.width - mx + 1;
  const h = src.height - my + 1;
  if (w <= 0 || h <= 0)
    throw new RangeError(`kernel ${mx}x${my} larger than input ${src.width}x${src.height}`);
  const tmp = new Float64Array(w * src.height);
  const s = src.data;
  for (let y = 0; y < src.height; y++) {
    const base = y * src.width;
    for (let x = 0; x < w; x++) {
      let acc = 0;
      const o = base + x + mx - 1;
      for (let u = 0; u < mx; u++) acc += kx[u] * s[o - u];
      tmp[y * w + x] = acc;
    }
  }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      let o = (y + my - 1) * w + x;
      for (let v = 0; v < my; v++, o -= w) acc += ky[v] * tmp[o];
      out[y * w + x] = acc;
    }
  }
  return { data: out, width: w, height: h };
}

/** Dense "valid" 2-D convolution with a size*size kernel (for checks and tiny inputs). */
export function convolveValid(src: Array2d, kernel: ArrayLike<number>, size: number): Array2d {
  const w = src.width - size + 1;
  const h = src.height - size + 1;
  const out = new Float64Array(Math.max(0, w * h));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let v = 0; v < size; v++) {
        const row = (y + size - 1 - v) * src.width + x + size - 1;
        for (let u = 0; u < size; u++) acc += kernel[v * size + u] * src.data[row - u];
      }
      out[y * w + x] = acc;
    }
  }
  return { data: out, width: w, height: h };
}

/**
 * ORs every pixel's `bits` into all pixels within `radius` (a square), in place on a
 * row-major Int32Array; other bits are left alone. Two 1-D passes, both row by row; a pixel
 * whose predecessor along the pass carries the same bits adds only the far end of its window.
 * The horizontal pass's rows are held radius + 2 at a time (rows y - 1 to y + radius as the
 * vertical pass is at row y), each taken before the vertical pass first writes to its row.
 */
export function dilateBits(
  mask: Int32Array,
  width: number,
  height: number,
  bits: number,
  radius: number,
): void {
  if (radius <= 0) return;
  const span = Math.min(height, radius + 2);
  const rows = new Int32Array(span * width);
  const spreadRow = (y: number): void => {
    const base = y * width,
      out = (y % span) * width;
    rows.fill(0, out, out + width);
    let previous = 0;
    for (let x = 0; x < width; x++) {
      const b = mask[base + x] & bits;
      if (b && b === previous) {
        if (x + radius < width) rows[out + x + radius] |= b;
      } else if (b) {
        const lo = Math.max(0, x - radius),
          hi = Math.min(width - 1, x + radius);
        for (let i = lo; i <= hi; i++) rows[out + i] |= b;
      }
      previous = b;
    }
  };
  let spread = 0;
  for (let y = 0; y < height; y++) {
    for (; spread <= Math.min(height - 1, y + radius); spread++) spreadRow(spread);
    const row = (y % span) * width,
      above = ((y + span - 1) % span) * width;
    const lo = Math.max(0, y - radius),
      hi = Math.min(height - 1, y + radius);
    for (let x = 0; x < width; x++) {
      const b = rows[row + x];
      if (!b) continue;
      if (y > 0 && rows[above + x] === b) {
        if (y + radius < height) mask[(y + radius) * width + x] |= b;
      } else for (let j = lo; j <= hi; j++) mask[j * width + x] |= b;
    }
  }
}
