/**
 * The convolved image's masked garbage (cosmic rays, hot pixels, saturated cores) filled from its
 * neighbours before the kernel spreads it. Read as 0, a hit on a bright star's wing is a hole of
 * the star's light: convolved (AL-CONVSCI convolves the science, whose mask is not grown) it left a
 * negative blob of the kernel's width beside the hit's mask, -10 sigma for a 2 x 2 hit on the wing of
 * a bright star (test/diffim/garbage-fill.test.ts). Each garbage pixel takes the mean of its known
 * 8-neighbours, ring by ring inwards (onion peeling, as inpainting does), for `rings` rings; what is
 * deeper (large NO_DATA areas, the middle of a big saturated core) stays 0, as before.
 * The fill is sparse (the garbage pixels and their values): subtractImages computes it on a pool
 * worker while this thread fits the kernel (fillGarbageAsync), and writes it into the image only
 * for the convolution (withGarbageFilled), not into a whole copy of the image.
 */
import { Plane, type ImageF } from '../image/plane.js';
import { poolTask } from '../util/pool-task.js';
import { sharedOrCopy } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';

/** The pixels a fill replaces (index y * width + x in the image, ascending) and their values. */
export interface GarbageFill {
  indices: Int32Array;
  values: Float32Array;
}

/** States of fillGarbage's pixels: known, garbage not yet filled, queued for this ring, filled (known again). */
const KNOWN = 0,
  PENDING = 1,
  QUEUED = 2,
  FILLED = 3;

/** The fill of the pixels of `image` where `mask` has any of `bits` (or that are not finite), as above; `image` is only read. */
export function fillGarbage(
  image: ImageF,
  mask: Plane<Int32Array>,
  bits: number,
  rings: number,
): GarbageFill {
  const { width, height } = image;
  const state = new Uint8Array(width * height);
  const found: number[] = [];
  for (let y = 0; y < height; y++) {
    const m = mask.row(y),
      p = image.row(y);
    for (let x = 0, i = y * width; x < width; x++, i++) {
      if (m[x] & bits || !Number.isFinite(p[x])) {
        state[i] = PENDING;
        found.push(i);
      }
    }
  }
  const garbage = Int32Array.from(found);
  // Each garbage pixel's value, 0 until filled; a filled one is read back (as float32) by the next rings.
  const values = new Float32Array(garbage.length);
  const read = (j: number): number => {
    if (state[j] === KNOWN) {
      const x = j % width;
      return image.get(x, (j - x) / width);
    }
    return values[ordinal(garbage, j)];
  };
  // A pixel with no known neighbour gains one only when a neighbour is filled: after the first ring,
  // only the neighbours of the last ring's fills are tried again.
  let pending: ArrayLike<number> = garbage;
  const ringValues = new Float64Array(garbage.length);
  for (let ring = 0; ring < rings && pending.length > 0; ring++) {
    const filled: number[] = [];
    for (let k = 0; k < pending.length; k++) {
      const i = pending[k];
      state[i] = PENDING;
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
          if (xx < 0 || xx >= width || state[j] === PENDING || state[j] === QUEUED) continue;
          sum += read(j);
          n++;
        }
      }
      if (n > 0) {
        ringValues[filled.length] = sum / n;
        filled.push(i);
      }
    }
    for (let f = 0; f < filled.length; f++) {
      values[ordinal(garbage, filled[f])] = ringValues[f];
      state[filled[f]] = FILLED;
    }
    if (ring + 1 === rings) break;
    const next: number[] = [];
    for (const i of filled) {
      const x = i % width,
        y = (i - x) / width;
      for (let yy = Math.max(0, y - 1); yy <= Math.min(height - 1, y + 1); yy++)
        for (let xx = Math.max(0, x - 1); xx <= Math.min(width - 1, x + 1); xx++) {
          const j = yy * width + xx;
          if (state[j] === PENDING) {
            state[j] = QUEUED;
            next.push(j);
          }
        }
    }
    pending = next;
  }
  return { indices: garbage, values };
}

/** Position of pixel `i` in the ascending `garbage`, which holds it. */
function ordinal(garbage: Int32Array, i: number): number {
  let lo = 0,
    hi = garbage.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (garbage[mid] < i) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Runs `use` with `fill` written into `image`, whose pixels are put back bit for bit when it ends
 * (or throws); nothing else may read `image` meanwhile.
 */
export async function withGarbageFilled<T>(
  image: ImageF,
  fill: GarbageFill,
  use: () => Promise<T>,
): Promise<T> {
  const { indices, values } = fill;
  const { width, data } = image;
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  // Plain loops: typed arrays' from() with a mapping function took ~0.1 s for the 0.5 M pixels of a crowded 4k pair.
  const at = new Int32Array(indices.length);
  const saved = new Uint32Array(indices.length);
  for (let k = 0; k < at.length; k++) {
    const x = indices[k] % width;
    at[k] = image.index(x, (indices[k] - x) / width);
    saved[k] = bits[at[k]];
  }
  for (let k = 0; k < at.length; k++) data[at[k]] = values[k];
  try {
    return await use();
  } finally {
    for (let k = 0; k < at.length; k++) bits[at[k]] = saved[k];
  }
}

interface FillJob {
  image: Float32Array;
  mask: Int32Array;
  width: number;
  height: number;
  bits: number;
  rings: number;
}

/** Worker side: the planes arrive contiguous on SharedArrayBuffers. */
export function fillGarbageShared(job: FillJob): GarbageFill {
  const plane = <T extends Float32Array | Int32Array>(data: T): Plane<T> =>
    new Plane(data, job.width, job.height);
  return fillGarbage(plane(job.image), plane(job.mask), job.bits, job.rings);
}

/** fillGarbage on a worker of `pool` (here when the pool has none). */
export async function fillGarbageAsync(
  image: ImageF,
  mask: Plane<Int32Array>,
  bits: number,
  rings: number,
  pool: WorkerPool | null,
): Promise<GarbageFill> {
  if (!pool || pool.size === 0) return fillGarbage(image, mask, bits, rings);
  const job: FillJob = {
    image: sharedOrCopy(image).data,
    mask: sharedOrCopy(mask).data,
    width: image.width,
    height: image.height,
    bits,
    rings,
  };
  return pool.runTask(poolTask(import.meta.url, { fillGarbageShared }), job);
}
