import type { NoiseCorrelation, NoiseLags } from '../image/exposure.js';
import type { ImageF } from '../image/plane.js';
import { poolTask } from '../util/pool-task.js';
import { planeDataOf, planeOf, type PlaneData } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';
import type { WarpResult } from './warp.js';

/** X(0) = x[0] + 2 sum_d x[d]: the large-scale noise power along one axis over lag 0's. */
const atZero = (lags: readonly number[]): number =>
  lags.reduce((s, v, d) => s + (d ? 2 : 1) * v, 0);

/** The noise model's cell grid, as it crosses to a worker. */
type CellGrid = Pick<NoiseCorrelation, 'nx' | 'ny' | 'cellSize' | 'x0' | 'y0'>;

/** Rows [y0, y1) of a variance plane to multiply by their cells' gains (scaleRows), as they cross to a worker. */
export interface ScaleRowsJob {
  variance: PlaneData<Float32Array>;
  grid: CellGrid;
  gains: number[];
  y0: number;
  y1: number;
}

/** Each pixel of rows [y0, y1) of `v` multiplied by its cell's gain (gains row-major over the grid's cells). */
function scaleRows(v: ImageF, grid: CellGrid, gains: number[], y0: number, y1: number): void {
  // Cell i spans columns [from(i), from(i + 1)) of the plane, the edge cells reaching to its borders.
  const from = (i: number) =>
    i <= 0
      ? 0
      : i >= grid.nx
        ? v.width
        : Math.min(v.width, Math.max(0, grid.x0 + i * grid.cellSize - v.x0));
  for (let y = y0; y < y1; y++) {
    const row = v.row(y);
    const j = Math.min(grid.ny - 1, Math.max(0, Math.floor((y + v.y0 - grid.y0) / grid.cellSize)));
    for (let i = 0; i < grid.nx; i++) {
      const g = gains[j * grid.nx + i];
      for (let x = from(i), end = from(i + 1); x < end; x++) row[x] *= g;
    }
  }
}

/** Worker side of rescaleVarianceToPsfScalesAsync. */
export function scaleRowsTask(job: ScaleRowsJob): void {
  scaleRows(planeOf(job.variance), job.grid, job.gains, job.y0, job.y1);
}

/**
 * Lanczos resampling leaves sum(w^2) * variance in each pixel, the per-pixel noise of correlated
 * output; on the scales of a PSF the noise keeps the input level. PSF matching and decorrelation
 * need the latter, so this rescales the warped variance plane to it, in place: each pixel is
 * multiplied by its cell's large-scale factor X(0) Y(0) (about 1 / covarianceFactor; see the
 * exposure's noiseCorrelation, which warpExposure sets), and the cell's lags divided by it, so that
 * plane x lags still give the noise covariance, now with X(0) = Y(0) = 1. Without a noise model the
 * plane is divided by covarianceFactor.
 */
export function rescaleVarianceToPsfScales(warped: WarpResult): void {
  rescale(warped, (v, grid, gains) => scaleRows(v, grid, gains, 0, v.height));
}

/**
 * rescaleVarianceToPsfScales with the lower half of the rows on `pool`'s worker when the plane is
 * contiguous on shared memory (as warpExposure makes it): the same numbers.
 */
export async function rescaleVarianceToPsfScalesAsync(
  warped: WarpResult,
  pool: WorkerPool | null,
): Promise<void> {
  let far: Promise<void> | null = null;
  rescale(warped, (v, grid, gains) => {
    const split =
      !!pool && pool.size > 0 && v.contiguous && v.data.buffer instanceof SharedArrayBuffer;
    const half = split ? v.height >> 1 : v.height;
    if (split)
      far = pool.runTask(poolTask(import.meta.url, { scaleRowsTask }), {
        variance: planeDataOf(v),
        grid,
        gains,
        y0: half,
        y1: v.height,
      });
    scaleRows(v, grid, gains, 0, half);
  });
  await far;
}

/** The rescale (see rescaleVarianceToPsfScales), the model's plane multiplied by `scale`. */
function rescale(
  warped: WarpResult,
  scale: (v: ImageF, grid: CellGrid, gains: number[]) => void,
): void {
  const e = warped.exposure,
    v = e.variance,
    model = e.noiseCorrelation;
  if (!model) {
    const factor = warped.covarianceFactor > 0 ? warped.covarianceFactor : 1;
    if (factor === 1) return;
    for (let y = 0; y < v.height; y++) {
      const row = v.row(y);
      for (let x = 0; x < v.width; x++) row[x] /= factor;
    }
    return;
  }
  const { nx, ny, cellSize, x0, y0 } = model;
  scale(
    v,
    { nx, ny, cellSize, x0, y0 },
    model.cells.map((l) => atZero(l.x) * atZero(l.y)),
  );
  const unit = (l: NoiseLags): NoiseLags => {
    const gx = atZero(l.x),
      gy = atZero(l.y);
    return { x: l.x.map((r) => r / gx), y: l.y.map((r) => r / gy) };
  };
  e.noiseCorrelation = { ...model, cells: model.cells.map(unit) };
}
