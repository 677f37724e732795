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
import type { DiaSourceRecord } from './types.js';

/** A footprint's sources, as its measurement appends them (peaks, then deblended children). */
export type FootprintSources = DiaSourceRecord[];

interface MeasureJob {
  image: PlaneData<Float32Array>;
  mask: PlaneData<MaskI['data']>;
  variance: PlaneData<Float32Array>;
  grid: { xs: number[]; ys: number[]; stamps: Float32Array[]; stampSize: number };
  config: DetectConfig;
  significance: Float32Array;
  footprints: Footprint[];
  threshold: number;
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

/** Worker side: each footprint's sources. */
export function measureFootprintsShared(job: MeasureJob): FootprintSources[] {
  const exposure = new Exposure(
    planeOf(job.image) as ImageF,
    planeOf(job.mask) as MaskI,
    planeOf(job.variance) as ImageF,
  );
  const { xs, ys, stamps, stampSize } = job.grid;
  const psf = measurementPsf(new GridPsf(xs, ys, stamps, stampSize), job.config.psfCellSize);
  const measurer = new SourceMeasurer(exposure, psf, job.config, job.significance);
  return job.footprints.map((fp) => measureFootprint(measurer, fp, job.config, job.threshold));
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
  if (
    !pool ||
    pool.size === 0 ||
    footprints.length === 0 ||
    !(model instanceof GridPsf) ||
    !(significance.buffer instanceof SharedArrayBuffer)
  )
    return null;
  const { xs, ys, stamps, stampSize } = model;
  return pool.runTask(poolTask(import.meta.url, { measureFootprintsShared }), {
    image: planeDataOf(sharedOrCopy(difference.image)),
    mask: planeDataOf(sharedOrCopy(difference.mask)),
    variance: planeDataOf(sharedOrCopy(difference.variance)),
    grid: { xs, ys, stamps, stampSize },
    config,
    significance,
    footprints,
    threshold,
  });
}
