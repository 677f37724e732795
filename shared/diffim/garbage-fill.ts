/**
 * The convolved image's masked garbage (cosmic rays, hot pixels, saturated cores) filled from its
 * neighbours before the kernel spreads it. Read as 0, a hit on a bright star's wing is a hole of
 * the star's light: convolved (AL-CONVSCI convolves the science, whose mask is not grown) it left a
 * negative blob of the kernel's width beside the hit's mask, -10 sigma for a 2 x 2 hit on the wing of
 * a bright star (test/diffim/garbage-fill.test.ts). Each garbage pixel takes the mean of its known
 * 8-neighbours, ring by ring inwards (onion peeling, as inpainting does), for `rings` rings; what is
 * deeper (large NO_DATA areas, the middle of a big saturated core) stays 0, as before.
 */
import type { ImageF, Plane } from '../image/plane.js';
import { sharedCopy } from '../util/shared-plane.js';

/** A copy of `image` (on shared memory) with the pixels where `mask` has any of `bits` filled as above. */
export function fillGarbage(
  image: ImageF,
  mask: Plane<Int32Array>,
  bits: number,
  rings: number,
): ImageF {
  const out = sharedCopy(image);
  const { width, height } = out;
  // 0: known, 1: garbage not yet filled; filled pixels become known after their ring.
  const state = new Uint8Array(width * height);
  let pending: number[] = [];
  for (let y = 0; y < height; y++) {
    const m = mask.row(y),
      row = out.row(y);
    for (let x = 0; x < width; x++) {
      if (m[x] & bits || !Number.isFinite(row[x])) {
        state[y * width + x] = 1;
        pending.push(y * width + x);
      }
    }
  }
  for (let ring = 0; ring < rings && pending.length > 0; ring++) {
    const filled: Array<[number, number]> = [];
    const left: number[] = [];
    for (const i of pending) {
      const x = i % width,
        y = (i - x) / width;
      let sum = 0,
        n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        const row = out.row(yy);
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width || state[yy * width + xx]) continue;
          sum += row[xx];
          n++;
        }
      }
      if (n > 0) filled.push([i, sum / n]);
      else left.push(i);
    }
    for (const [i, v] of filled) {
      const x = i % width;
      out.row((i - x) / width)[x] = v;
      state[i] = 0;
    }
    pending = left;
  }
  for (const i of pending) {
    const x = i % width;
    out.row((i - x) / width)[x] = 0;
  }
  return out;
}
