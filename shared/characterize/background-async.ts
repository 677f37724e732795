/**
 * The background mesh of background.ts shared with a WorkerPool: the mesh's cell rows are split
 * between this thread and the workers (each cell is measured on its own, so the mesh is the one
 * measureMesh gives). Planes cross on SharedArrayBuffers.
 * @example
 *   const cells = meshCells(image, { meshSize: 32 });
 *   await measureCellsAsync(image, exclude, cells, WorkerPool.shared());
 *   const mesh = finishMesh(cells);
 */
import { Plane, type ImageF } from '../image/plane.js';
import { sharedOrCopy } from '../util/shared-plane.js';
import { poolTask } from '../util/pool-task.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { measureCellRows, type MeshCells } from './background.js';

export interface CellRowsJob {
  /** Contiguous image on a SharedArrayBuffer. */
  image: Float32Array;
  width: number;
  height: number;
  exclude: Uint8Array | null;
  cells: Pick<MeshCells, 'cfg' | 'nx' | 'ny' | 'sky' | 'sig'>;
  cy0: number;
  cy1: number;
  /** The cells to measure (measureCellRows' `only`), null for all. */
  only: Uint8Array | null;
}

/** Worker side: measures cell rows [cy0, cy1) into the shared sky and sigma arrays. */
export function measureCellRowsShared(job: CellRowsJob): void {
  const image = new Plane(job.image, job.width, job.height);
  measureCellRows(image, job.exclude, job.cells, job.cy0, job.cy1, job.only);
}

/** A copy of `values` on a SharedArrayBuffer (or the array itself when it is on one). */
export function sharedArray<T extends Uint8Array | Float32Array | Float64Array>(values: T): T {
  if (values.buffer instanceof SharedArrayBuffer) return values;
  const ctor = values.constructor as { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
  const out = new ctor(new SharedArrayBuffer(values.length * ctor.BYTES_PER_ELEMENT));
  out.set(values);
  return out;
}

/**
 * measureCellRows over all of `cells` (with `only`, over its cells alone), the cell rows split
 * with `pool`'s workers in parts of equal numbers of cells to measure. cells.sky and cells.sig
 * are replaced by shared copies.
 */
export async function measureCellsAsync(
  image: ImageF,
  exclude: Uint8Array | null,
  cells: MeshCells,
  pool: WorkerPool | null,
  only: Uint8Array | null = null,
): Promise<void> {
  const { nx, ny } = cells;
  if (!pool || pool.size === 0 || ny < 2) {
    measureCellRows(image, exclude, cells, 0, ny, only);
    return;
  }
  cells.sky = sharedArray(cells.sky);
  cells.sig = sharedArray(cells.sig);
  const shared = sharedOrCopy(image);
  const excludeShared = exclude && sharedArray(exclude);
  const onlyShared = only && sharedArray(only);
  // Cell rows [bounds[p], bounds[p + 1]) go to part p: cumulative counts of cells to measure.
  const parts = 1 + pool.size;
  const cumulative = new Float64Array(ny + 1);
  for (let cy = 0; cy < ny; cy++) {
    let count = nx;
    if (only) {
      count = 0;
      for (let k = cy * nx; k < (cy + 1) * nx; k++) count += only[k] ? 1 : 0;
    }
    cumulative[cy + 1] = cumulative[cy] + count;
  }
  if (cumulative[ny] === 0) return;
  const bounds = [0];
  for (let p = 1; p < parts; p++) {
    let cy = bounds[p - 1];
    while (cy < ny && cumulative[cy] * parts < p * cumulative[ny]) cy++;
    bounds.push(cy);
  }
  bounds.push(ny);
  const { cfg, sky, sig } = cells;
  const remote = Array.from({ length: pool.size }, (_v, i) => {
    const job: CellRowsJob = {
      image: shared.data,
      width: image.width,
      height: image.height,
      exclude: excludeShared,
      cells: { cfg, nx, ny, sky, sig },
      cy0: bounds[i + 1],
      cy1: bounds[i + 2],
      only: onlyShared,
    };
    return pool.runTask(poolTask(import.meta.url, { measureCellRowsShared }), job);
  });
  try {
    measureCellRows(image, exclude, cells, bounds[0], bounds[1], only);
  } finally {
    await Promise.all(remote);
  }
}
