/**
 * The convolved image's masked garbage (cosmic rays, hot pixels, saturated cores) filled from its
 * neighbours before the kernel spreads it. Read as 0, a hit on a bright star's wing is a hole of
 * the star's light: convolved (AL-CONVSCI convolves the science, whose mask is not grown) it left a
 * negative blob of the kernel's width beside the hit's mask, -10 sigma for a 2 x 2 hit on the wing of
 * a bright star (test/diffim/garbage-fill.test.ts). Each garbage pixel takes the mean of its known
 * 8-neighbours, ring by ring inwards (onion peeling, as inpainting does), for `rings` rings; what is
 * deeper (large NO_DATA areas, the middle of a big saturated core) stays 0, as before.
 * subtractImages runs it on a pool worker while this thread fits the kernel (fillGarbageAsync).
 */
import { Plane, type ImageF } from '../image/plane.js';
import { poolTask } from '../util/pool-task.js';
import { sharedCopy, sharedOrCopy } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';

/** A copy of `image` (on shared memory) with the pixels where `mask` has any of `bits` filled as above. */
export function fillGarbage(
  image: ImageF,
  mask: Plane<Int32Array>,
  bits: number,
  rings: number,
): ImageF {
  const out = sharedCopy(image);
  const { width, height } = out;
  const pixels = out.data; // contiguous: pixel (x, y) at y * width + x
  // 0: known; 1: garbage not yet filled; 2: garbage queued for this ring. Filled pixels become known after their ring.
  const state = new Uint8Array(width * height);
  const garbage: number[] = [];
  for (let y = 0; y < height; y++) {
    const m = mask.row(y);
    for (let x = 0, i = y * width; x < width; x++, i++) {
      if (m[x] & bits || !Number.isFinite(pixels[i])) {
        state[i] = 1;
        garbage.push(i);
      }
    }
  }
  // A pixel with no known neighbour gains one only when a neighbour is filled: after the first ring,
  // only the neighbours of the last ring's fills are tried again.
  let pending = garbage;
  const values = new Float64Array(garbage.length);
  for (let ring = 0; ring < rings && pending.length > 0; ring++) {
    const filled: number[] = [];
    for (const i of pending) {
      state[i] = 1;
      const x = i % width,
        y = (i - x) / width;
      let sum = 0,
        n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx,
            j = yy * width + xx;
          if (xx < 0 || xx >= width || state[j]) continue;
          sum += pixels[j];
          n++;
        }
      }
      if (n > 0) {
        values[filled.length] = sum / n;
        filled.push(i);
      }
    }
    for (let f = 0; f < filled.length; f++) {
      pixels[filled[f]] = values[f];
      state[filled[f]] = 0;
    }
    if (ring + 1 === rings) break;
    const next: number[] = [];
    for (const i of filled) {
      const x = i % width,
        y = (i - x) / width;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(height - 1, y + 1); yy++)
        for (let xx = Math.max(0, x - 1); xx <= Math.min(width - 1, x + 1); xx++) {
          const j = yy * width + xx;
          if (state[j] === 1) {
            state[j] = 2;
            next.push(j);
          }
        }
    }
    pending = next;
  }
  for (const i of garbage) if (state[i]) pixels[i] = 0;
  return out;
}

interface FillJob {
  image: Float32Array;
  mask: Int32Array;
  width: number;
  height: number;
  bits: number;
  rings: number;
}

/** Worker side: the planes arrive contiguous on SharedArrayBuffers; the filled copy goes back on one. */
export function fillGarbageShared(job: FillJob): Float32Array {
  const plane = <T extends Float32Array | Int32Array>(data: T): Plane<T> =>
    new Plane(data, job.width, job.height);
  return fillGarbage(plane(job.image), plane(job.mask), job.bits, job.rings).data;
}

/** fillGarbage on a worker of `pool` (here when the pool has none); the origin of `image` is kept. */
export async function fillGarbageAsync(
  image: ImageF,
  mask: Plane<Int32Array>,
  bits: number,
  rings: number,
  pool: WorkerPool | null,
): Promise<ImageF> {
  if (!pool || pool.size === 0) return fillGarbage(image, mask, bits, rings);
  const { width, height } = image;
  const job: FillJob = {
    image: sharedOrCopy(image).data,
    mask: sharedOrCopy(mask).data,
    width,
    height,
    bits,
    rings,
  };
  const data = await pool.runTask(poolTask(import.meta.url, { fillGarbageShared }), job);
  return new Plane(data, width, height, width, 0, image.x0, image.y0);
}
