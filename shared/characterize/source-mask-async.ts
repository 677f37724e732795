/**
 * The source mask of either sign (detect-peaks.ts eitherSignSourceMask) of an image minus a
 * background mesh's surface, with the binning and smoothing of its rows shared with a
 * WorkerPool: bands of binned rows are claimed from a shared counter by this thread and the
 * workers (a worker still busy with an earlier task takes fewer), each band from the residual rows
 * it reaches. Every smoothed value is the one the whole image's pass gives, so the mask is the same.
 * @example
 *   const sources = await eitherSignSourceMaskAsync(image, exclude, finishMesh(cells), sigma, {}, pool);
 */
import type { ImageF } from '../image/plane.js';
import { sharedOrCopy } from '../util/shared-plane.js';
import { claimTiles } from '../util/parallel-tiles.js';
import { poolTask } from '../util/pool-task.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { meshSurface, type BackgroundMesh } from './background.js';
import { sharedArray } from './background-async.js';
import {
  DEFAULT_PEAK_CONFIG,
  eitherSignMaskOf,
  eitherSignSourceMask,
  smoothingGeometry,
  smoothRows,
  type PeakConfig,
  type SmoothingGeometry,
} from './detect-peaks.js';

/** Binned rows per claimed band: small against a thread's share, large against its halo (the kernel's half-width, recomputed per band). */
const BAND_ROWS = 128;

export interface SmoothBandsJob {
  /** Contiguous image on a SharedArrayBuffer. */
  image: Float32Array;
  width: number;
  height: number;
  /** Non-zero where a pixel is left out of the residual (0 there). */
  exclude: Uint8Array;
  mesh: BackgroundMesh;
  geometry: SmoothingGeometry;
  /** Receives the smoothed binned residual (bw x bh, shared). */
  smooth: Float32Array;
  /** Shared band counter and the number of bands. */
  claim: Int32Array;
  count: number;
}

/** The residual rows of `image` minus the mesh's surface, 0 where `exclude` is set (one row buffer, valid until the next call). */
function residualRows(
  image: Float32Array,
  w: number,
  h: number,
  exclude: Uint8Array,
  mesh: BackgroundMesh,
): (y: number) => Float32Array {
  const surface = meshSurface(mesh, w, h);
  const row = new Float32Array(w);
  return (y) => {
    surface(y, row, 0);
    for (let x = 0, i = y * w; x < w; x++, i++) row[x] = exclude[i] ? 0 : image[i] - row[x];
    return row;
  };
}

/** Smooths the bands claimed from job.claim (this thread's or a worker's share). */
export function smoothClaimedBands(job: SmoothBandsJob): void {
  const { width: w, height: h, geometry: g } = job;
  const rowOf = residualRows(job.image, w, h, job.exclude, job.mesh);
  for (const band of claimTiles(job.claim, job.count))
    smoothRows(
      rowOf,
      w,
      h,
      g,
      job.smooth,
      band * BAND_ROWS,
      Math.min(g.bh, (band + 1) * BAND_ROWS),
    );
}

/**
 * eitherSignSourceMask of the rows image - surface(mesh) (0 where `exclude` is set) for a pixel
 * noise `sigma`, its smoothing shared with `pool`'s workers; without workers, on this thread.
 */
export async function eitherSignSourceMaskAsync(
  image: ImageF,
  exclude: Uint8Array,
  mesh: BackgroundMesh,
  sigma: number,
  config: Partial<PeakConfig> = {},
  pool: WorkerPool | null = null,
): Promise<Uint8Array> {
  const cfg = { ...DEFAULT_PEAK_CONFIG, ...config };
  const { width: w, height: h } = image;
  const pixels = sharedOrCopy(image).data;
  if (!pool || pool.size === 0)
    return eitherSignSourceMask(residualRows(pixels, w, h, exclude, mesh), w, h, sigma, cfg);
  const g = smoothingGeometry(w, h, sigma, cfg);
  const job: SmoothBandsJob = {
    image: pixels,
    width: w,
    height: h,
    exclude: sharedArray(exclude),
    mesh,
    geometry: g,
    smooth: new Float32Array(new SharedArrayBuffer(4 * g.bw * g.bh)),
    claim: new Int32Array(new SharedArrayBuffer(4)),
    count: Math.ceil(g.bh / BAND_ROWS),
  };
  const remote = Array.from({ length: pool.size }, () =>
    pool.runTask(poolTask(import.meta.url, { smoothClaimedBands }), job),
  );
  try {
    smoothClaimedBands(job);
  } finally {
    await Promise.all(remote);
  }
  return eitherSignMaskOf(job.smooth, g.smoothNoise, w, h, g.bin, g.bw, g.bh, cfg);
}
