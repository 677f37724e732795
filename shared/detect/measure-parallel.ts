/**
 * Footprints measured on a pool worker while this thread measures others (detect.ts): the worker
 * reads the difference's planes and the significance image in shared memory and rebuilds the
 * difference PSF from its grid, so each footprint's sources are the very records this thread
 * would make (measure.ts is a pure function of those).
 * @example
 *   const there = measureFootprintsAsync(diff, gridPsf, config, significance, footprints, 5, pool);
 *   // ... measure the others here ...; (await there)[k] are footprints[k]'s sources
 */
import { GridPsf } from '../diffim/psf-grid.js';
import { Exposure } from '../image/exposure.js';
import type { ImageF, MaskI } from '../image/plane.js';
import type { Psf } from '../psf/types.js';
import { poolTask } from '../util/pool-task.js';
import { planeDataOf, planeOf, sharedOrCopy, type PlaneData } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { CachedPsf } from './cached-psf.js';
import type { DetectConfig } from './config.js';
import type { Footprint } from './footprints.js';
import { SourceMeasurer } from './measure.js';
import { skyFlux, type SkyCandidate, type SkyFlux } from './sky-sources.js';
import type { DiaSourceRecord } from './types.js';

/** A footprint's sources, as its measurement appends them (peaks, then deblended children). */
export type FootprintSources = DiaSourceRecord[];

/** The difference's planes in shared memory and its PSF's grid: what a worker measures on. */
interface DifferenceJob {
  image: PlaneData<Float32Array>;
  mask: PlaneData<MaskI['data']>;
  variance: PlaneData<Float32Array>;
  grid: { xs: number[]; ys: number[]; stamps: Float32Array[]; stampSize: number };
  config: DetectConfig;
}

interface MeasureJob extends DifferenceJob {
  significance: Float32Array;
  footprints: Footprint[];
  threshold: number;
}

interface SkyJob extends DifferenceJob {
  x: Float64Array;
  y: Float64Array;
}

/** The PSF measurement uses: the model evaluated once per cell (detect.ts). */
export function measurementPsf(model: Psf, cellSize: number): Psf {
  return cellSize > 0 ? new CachedPsf(model, cellSize) : model;
}

/** Every footprint's sources, measured on `measurer`'s exposure (single sources and their deblended children). */
export function measureFootprint(
  measurer: SourceMeasurer,
  fp: Footprint,
  config: DetectConfig,
  threshold: number,
): FootprintSources {
  const own = fp.peaks.map((peak) => measurer.single(fp, peak));
  return config.deblend ? [...own, ...measurer.deblend(fp, own, threshold)] : own;
}

/** Worker side: the difference and its measurement PSF, rebuilt from the job. */
function differenceOf(job: DifferenceJob): { exposure: Exposure; psf: Psf } {
  const exposure = new Exposure(
    planeOf(job.image) as ImageF,
    planeOf(job.mask) as MaskI,
    planeOf(job.variance) as ImageF,
  );
  const { xs, ys, stamps, stampSize } = job.grid;
  const psf = measurementPsf(new GridPsf(xs, ys, stamps, stampSize), job.config.psfCellSize);
  return { exposure, psf };
}

/** Worker side: each footprint's sources. */
export function measureFootprintsShared(job: MeasureJob): FootprintSources[] {
  const { exposure, psf } = differenceOf(job);
  const measurer = new SourceMeasurer(exposure, psf, job.config, job.significance);
  return job.footprints.map((fp) => measureFootprint(measurer, fp, job.config, job.threshold));
}

/** Worker side: the sky sources' forced fluxes at the job's positions. */
export function skyFluxesShared(job: SkyJob): SkyFlux[] {
  const { exposure, psf } = differenceOf(job);
  return Array.from(job.x, (x, k) =>
    skyFlux(exposure, psf, { x, y: job.y[k] }, job.config.excludeBits),
  );
}

/** The job's planes and grid, or null when a worker cannot measure (no worker, a model other than the subtraction's GridPsf). */
function differenceJob(
  difference: Exposure,
  model: Psf,
  config: DetectConfig,
  pool: WorkerPool | null,
): DifferenceJob | null {
  if (!pool || pool.size === 0 || !(model instanceof GridPsf)) return null;
  const { xs, ys, stamps, stampSize } = model;
  return {
    image: planeDataOf(sharedOrCopy(difference.image)),
    mask: planeDataOf(sharedOrCopy(difference.mask)),
    variance: planeDataOf(sharedOrCopy(difference.variance)),
    grid: { xs, ys, stamps, stampSize },
    config,
  };
}

/**
 * Starts the sky sources' forced fluxes at `candidates` on a worker of `pool` (skyFlux, the same
 * numbers as here); null when it cannot (see differenceJob).
 */
export function skyFluxesAsync(
  difference: Exposure,
  model: Psf,
  config: DetectConfig,
  candidates: SkyCandidate[],
  pool: WorkerPool | null,
): Promise<SkyFlux[]> | null {
  const job = candidates.length ? differenceJob(difference, model, config, pool) : null;
  if (!job || !pool) return null;
  return pool.runTask(poolTask(import.meta.url, { skyFluxesShared }), {
    ...job,
    x: Float64Array.from(candidates, (c) => c.x),
    y: Float64Array.from(candidates, (c) => c.y),
  });
}

/**
 * Starts measuring `footprints` on a worker of `pool`; null when it cannot (no worker, a model other
 * than the subtraction's GridPsf, a significance image outside shared memory): then measure here.
 */
export function measureFootprintsAsync(
  difference: Exposure,
  model: Psf,
  config: DetectConfig,
  significance: Float32Array,
  footprints: Footprint[],
  threshold: number,
  pool: WorkerPool | null,
): Promise<FootprintSources[]> | null {
  if (footprints.length === 0 || !(significance.buffer instanceof SharedArrayBuffer)) return null;
  const job = differenceJob(difference, model, config, pool);
  if (!job || !pool) return null;
  return pool.runTask(poolTask(import.meta.url, { measureFootprintsShared }), {
    ...job,
    significance,
    footprints,
    threshold,
  });
}
