/**
 * Separable image filters on contiguous Float32 / Uint8 buffers (row-major, width w).
 */

/** Normalised Gaussian taps of standard deviation sigma (px), half-width ceil(3.5 sigma). */
export function gaussianTaps(sigma: number): Float32Array {
  const half = Math.max(1, Math.ceil(3.5 * sigma));
  const taps = new Float32Array(2 * half + 1);
  let sum = 0;
  for (let i = -half; i <= half; i++) sum += taps[i + half] = Math.exp((-0.5 * i * i) / (sigma * sigma));
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

/** Convolves with a symmetric 1-D kernel along rows then columns (zero outside the image). */
export function convolveSeparable(src: Float32Array, w: number, h: number, taps: Float32Array, out: Float32Array): void {
  const half = (taps.length - 1) >> 1;
  const tmp = new Float32Array(h * w);
  const n = taps.length;
  for (let y = 0; y < h; y++) {
    const row = y * w;
    for (let x = 0; x < w; x++) {
      let s = 0;
      if (x >= half && x < w - half) {
        // Interior: no bounds to check.
        const base = row + x - half;
        for (let k = 0; k < n; k++) s += taps[k] * src[base + k];
      } else {
        const k0 = Math.max(-half, -x);
        const k1 = Math.min(half, w - 1 - x);
        for (let k = k0; k <= k1; k++) s += taps[k + half] * src[row + x + k];
      }
      tmp[row + x] = s;
    }
  }
  const acc = new Float32Array(w);
  for (let y = 0; y < h; y++) {
    acc.fill(0);
    const k0 = Math.max(-half, -y);
    const k1 = Math.min(half, h - 1 - y);
    for (let k = k0; k <= k1; k++) {
      const t = taps[k + half];
      const trow = (y + k) * w;
      for (let x = 0; x < w; x++) acc[x] += t * tmp[trow + x];
    }
    out.set(acc, y * w);
  }
}

/** Square dilation of a 0/1 mask by `radius` px (Chebyshev distance), in place, O(N). */
export function dilateSquare(mask: Uint8Array, w: number, h: number, radius: number): void {
  if (radius <= 0) return;
  const line = new Uint8Array(Math.max(w, h));
  const pass = (len: number, get: (i: number) => number, set: (i: number) => void): void => {
    let last = -Infinity;
    for (let i = 0; i < len; i++) {
      if (get(i)) last = i;
      line[i] = i - last <= radius ? 1 : 0;
    }
    last = Infinity;
    for (let i = len - 1; i >= 0; i--) {
      if (get(i)) last = i;
      if (line[i] || last - i <= radius) set(i);
    }
  };
  for (let y = 0; y < h; y++) {
    const row = y * w;
    const copy = mask.slice(row, row + w);
    pass(w, (i) => copy[i], (i) => (mask[row + i] = 1));
  }
  const col = new Uint8Array(h);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) col[y] = mask[y * w + x];
    pass(h, (i) => col[i], (i) => (mask[i * w + x] = 1));
  }
}
