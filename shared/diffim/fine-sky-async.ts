/**
 * fineSkyAsync: illumination.ts's fineSky on a WorkerPool thread, so that the science's response
 * map is read there while this thread reads the template's (the same map: the worker runs fineSky
 * on shared copies of the planes).
 * @example
 *   const science = fineSkyAsync(exposure, characterized.background.map, 16, pool);
 *   const template = fineSky(tmpl, tmplBackground, 16);   // meanwhile, here
 */
import type { Exposure } from '../image/exposure.js';
import { Plane, type ImageF } from '../image/plane.js';
import { sharedOrCopy } from '../util/shared-plane.js';
import { poolTask } from '../util/pool-task.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { fineSky } from './illumination.js';

export interface FineSkyJob {
  width: number;
  height: number;
  /** Contiguous planes on SharedArrayBuffers. */
  image: Float32Array;
  mask: Int32Array;
  background: Float32Array;
  meshPx: number;
  /** Receives the map (shared, width*height). */
  out: Float32Array;
}

/** Worker side: fineSky of the shared planes into job.out. */
export function fineSkyShared(job: FineSkyJob): void {
  const plane = <T extends Float32Array | Int32Array>(data: T) =>
    new Plane(data, job.width, job.height);
  const { width, height } = job;
  const image = plane(job.image);
  const mask = plane(job.mask);
  job.out.set(fineSky({ width, height, image, mask }, plane(job.background), job.meshPx).data);
}

/** fineSky(exposure, background, meshPx) on a worker of `pool` (here without one). */
export async function fineSkyAsync(
  exposure: Pick<Exposure, 'width' | 'height' | 'image' | 'mask'>,
  background: ImageF,
  meshPx: number,
  pool: WorkerPool | null,
): Promise<ImageF> {
  if (!pool || pool.size === 0) return fineSky(exposure, background, meshPx);
  const { width, height } = exposure;
  const out = new Float32Array(new SharedArrayBuffer(4 * width * height));
  const job: FineSkyJob = {
    width,
    height,
    image: sharedOrCopy(exposure.image).data,
    mask: sharedOrCopy(exposure.mask).data,
    background: sharedOrCopy(background).data,
    meshPx,
    out,
  };
  await pool.runTask(poolTask(import.meta.url, { fineSkyShared }), job);
  return new Plane(out, width, height);
}
