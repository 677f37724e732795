/**
 * Lanczos-3 sub-pixel shifts of a sampled image (Duchon 1979, J. Appl. Meteor. 18, 1016),
 * as PSFEx resamples stars and models (Bertin 2011, ASP Conf. Ser. 442, 435).
 */

/** Lanczos kernel half-width, px. */
export const LANCZOS_A = 3;

function lanczos(t: number): number {
  if (t === 0) return 1;
  if (Math.abs(t) >= LANCZOS_A) return 0;
  const pt = Math.PI * t;
  return (LANCZOS_A * Math.sin(pt) * Math.sin(pt / LANCZOS_A)) / (pt * pt);
}

/** Normalised taps w[k + A] for out[x] = sum_k src[x + k] w[k + A], i.e. out(x) = src(x - shift), |shift| <= 1. */
export function lanczosTaps(shift: number): Float64Array {
  const taps = new Float64Array(2 * LANCZOS_A + 1);
  let sum = 0;
  for (let k = -LANCZOS_A; k <= LANCZOS_A; k++) sum += taps[k + LANCZOS_A] = lanczos(k + shift);
  for (let k = 0; k < taps.length; k++) taps[k] /= sum;
  return taps;
}

/**
 * Shifts a size x size image by (dx, dy) px: out(x, y) = src(x - dx, y - dy); zero outside.
 * @example shiftImage(star, 25, -0.3, 0.2) // moves the content 0.3 px left and 0.2 px up
 */
export function shiftImage(
  src: Float32Array | Float64Array,
  size: number,
  dx: number,
  dy: number,
): Float64Array {
  const tx = lanczosTaps(dx);
  const [a0, a1, a2, a3, a4, a5, a6] = tx;
  const ty = lanczosTaps(dy);
  if (rowPass.length < size * size) rowPass = new Float64Array(size * size);
  const tmp = rowPass;
  // Along rows; terms outside the image are skipped, the others summed in tap order.
  for (let y = 0; y < size; y++) {
    const r = y * size;
    for (let x = 0; x < size; x++) {
      const i = r + x;
      let s = 0;
      if (x >= LANCZOS_A && x < size - LANCZOS_A) {
        s += a0 * src[i - 3];
        s += a1 * src[i - 2];
        s += a2 * src[i - 1];
        s += a3 * src[i];
        s += a4 * src[i + 1];
        s += a5 * src[i + 2];
        s += a6 * src[i + 3];
      } else {
        for (let k = -LANCZOS_A; k <= LANCZOS_A; k++)
          if (x + k >= 0 && x + k < size) s += tx[k + LANCZOS_A] * src[i + k];
      }
      tmp[i] = s;
    }
  }
  // Along columns, a whole row at a time, each output row summing its source rows in tap order.
  const out = new Float64Array(size * size);
  for (let y = 0; y < size; y++) {
    const r = y * size;
    for (let k = -LANCZOS_A; k <= LANCZOS_A; k++) {
      const yy = y + k;
      if (yy < 0 || yy >= size) continue;
      const t = ty[k + LANCZOS_A];
      const rr = yy * size;
      for (let x = 0; x < size; x++) out[r + x] += t * tmp[rr + x];
    }
  }
  return out;
}

/** shiftImage's row-pass scratch (every pixel is written before it is read): many small stamps are shifted. */
let rowPass = new Float64Array(0);

/**
 * Resamples a size x size image centred on its central pixel under a linear map about the centre:
 * out(p) = src(c + M (p - c)), M = [[m00, m01], [m10, m11]], with Lanczos-3 interpolation (zero outside).
 */
export function resampleLinear(
  src: Float64Array,
  size: number,
  m00: number,
  m01: number,
  m10: number,
  m11: number,
): Float64Array {
  const c = (size - 1) / 2;
  const out = new Float64Array(size * size);
  const wx = new Float64Array(2 * LANCZOS_A);
  const wy = new Float64Array(2 * LANCZOS_A);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      const x = c + m00 * (i - c) + m01 * (j - c);
      const y = c + m10 * (i - c) + m11 * (j - c);
      const ix = Math.floor(x) - LANCZOS_A + 1;
      const iy = Math.floor(y) - LANCZOS_A + 1;
      let nx = 0;
      let ny = 0;
      for (let k = 0; k < 2 * LANCZOS_A; k++) {
        nx += wx[k] = lanczos(x - ix - k);
        ny += wy[k] = lanczos(y - iy - k);
      }
      let s = 0;
      for (let b = 0; b < 2 * LANCZOS_A; b++) {
        const yy = iy + b;
        if (yy < 0 || yy >= size) continue;
        for (let a = 0; a < 2 * LANCZOS_A; a++) {
          const xx = ix + a;
          if (xx >= 0 && xx < size) s += wx[a] * wy[b] * src[yy * size + xx];
        }
      }
      out[j * size + i] = s / (nx * ny);
    }
  }
  return out;
}
