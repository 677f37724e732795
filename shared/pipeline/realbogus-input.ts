/**
 * The real/bogus network's input (shared/rb/cutouts.ts: cutTriplets, then normalizeCutouts) made
 * on a pool worker from the images' shared planes, so that this thread cuts the alerts' cutouts
 * and measures forced fluxes meanwhile: the same floats, half of the score stage moved off the
 * critical path (the network's forward pass stays on the thread that loaded the model).
 * @example
 *   const input = await networkInputAsync(records, { science, template, difference }, pool);
 *   const scores = scoreNormalized(model, input);
 */
import { Exposure } from '../image/exposure.js';
import { Plane, type PixelArray } from '../image/plane.js';
import {
  CUTOUT_LENGTH,
  cutTriplets,
  normalizeCutouts,
  type CutoutSet,
  type TripletImages,
} from '../rb/cutouts.js';
import { poolTask } from '../util/pool-task.js';
import { planeDataOf, planeOf, sharedOrCopy, type PlaneData } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';

interface ExposurePlanes {
  image: PlaneData<Float32Array>;
  mask: PlaneData<Int32Array>;
  variance: PlaneData<Float32Array>;
}

interface InputJob {
  /** x, y of each source, interleaved (0-based science pixels). */
  positions: Float64Array;
  science: ExposurePlanes;
  template: ExposurePlanes;
  difference: ExposurePlanes;
  /** Receives the normalised cutouts (CUTOUT_LENGTH floats each). */
  out: Float32Array;
}

const dataOf = <T extends PixelArray>(p: Plane<T>): PlaneData<T> => planeDataOf(sharedOrCopy(p));
const planesOf = (e: Exposure): ExposurePlanes => ({
  image: dataOf(e.image),
  mask: dataOf(e.mask),
  variance: dataOf(e.variance),
});
const exposureOf = (e: ExposurePlanes): Exposure =>
  new Exposure(planeOf(e.image), planeOf(e.mask), planeOf(e.variance));

/** Worker side: cuts and normalises into `job.out`. */
export function networkInputShared(job: InputJob): void {
  const positions = Array.from({ length: job.positions.length / 2 }, (_, i) => ({
    x: job.positions[2 * i],
    y: job.positions[2 * i + 1],
  }));
  const images: TripletImages = {
    science: exposureOf(job.science),
    template: exposureOf(job.template),
    difference: exposureOf(job.difference),
  };
  job.out.set(normalizeCutouts(cutTriplets(positions, images)).data);
}

/**
 * normalizeCutouts(cutTriplets(positions, images)) on a worker of `pool` (here when it has none).
 * The positions are read now, so the caller may go on changing its records.
 */
export async function networkInputAsync(
  positions: ReadonlyArray<{ x: number; y: number }>,
  images: TripletImages,
  pool: WorkerPool | null,
): Promise<CutoutSet> {
  if (!pool || pool.size === 0) return normalizeCutouts(cutTriplets(positions, images));
  const count = positions.length;
  const job: InputJob = {
    positions: Float64Array.from(positions.flatMap((p) => [p.x, p.y])),
    science: planesOf(images.science),
    template: planesOf(images.template),
    difference: planesOf(images.difference),
    out: new Float32Array(new SharedArrayBuffer(4 * Math.max(1, count * CUTOUT_LENGTH))),
  };
  await pool.runTask(poolTask(import.meta.url, { networkInputShared }), job);
  // A copy off the shared buffer: what TF.js is handed stays an ordinary array.
  return { count, data: job.out.slice(0, count * CUTOUT_LENGTH) };
}
