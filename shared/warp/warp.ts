import { availableParallelism } from 'node:os';
import { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import { Plane } from '../image/plane.js';
import type { Wcs } from '../wcs/types.js';
import { DEFAULT_WARP_CONFIG, type WarpConfig } from './config.js';
import { InsufficientCoverageError } from './errors.js';
import { LanczosTable } from './lanczos.js';
import { buildMapping, type GridFrame } from './mapping.js';
import { CELL_SIZE, resampledNoiseCorrelation } from './noise-correlation.js';
import { WarpedPsf } from './psf.js';
import {
  dilateMask,
  resampleClaimed,
  rowClaims,
  type BandStats,
  type ResampleJob,
  type RowClaims,
} from './resample.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { siblingModule, startWorker } from '../util/worker.js';
import { poolTask } from '../util/pool-task.js';

/** The pixel grid to warp onto: a science Exposure, or just its size and WCS. */
export type WarpTarget =
  Exposure | { width: number; height: number; wcs: Wcs | null; x0?: number; y0?: number };

export interface WarpResult {
  /** The template on the target's pixel grid, with the target's WCS and the template's PSF carried over (WarpedPsf). */
  exposure: Exposure;
  /** Fraction of output pixels with data (not NO_DATA), 0..1. */
  coverageFraction: number;
  /**
   * Mean over covered pixels of sum(w^2) for the normalised kernel weights w: the per-pixel variance
   * of resampled white noise divided by the input variance (times the area ratio squared). The
   * variance plane already holds sum(w^2) * variance; noise on scales much larger than the kernel
   * keeps the input variance, i.e. (variance plane) / covarianceFactor. 1 when no resampling happened.
   */
  covarianceFactor: number;
  /** Node spacing of the interpolated mapping actually used, pixels. */
  interpLength: number;
  /** Largest error of the interpolated mapping against the exact WCS mapping, template pixels. */
  maxMappingErrorPx: number;
  /** Threads that resampled (main included). */
  threads: number;
  timings: { mappingMs: number; resampleMs: number; totalMs: number };
}

/** Pixel count above which automatic threading spreads rows over worker threads. */
const THREADING_MIN_PIXELS = 1 << 20;

function frameOf(target: WarpTarget): {
  width: number;
  height: number;
  x0: number;
  y0: number;
  wcs: Wcs | null;
} {
  if (target instanceof Exposure) {
    return {
      width: target.width,
      height: target.height,
      x0: target.image.x0,
      y0: target.image.y0,
      wcs: target.wcs,
    };
  }
  return {
    width: target.width,
    height: target.height,
    x0: target.x0 ?? 0,
    y0: target.y0 ?? 0,
    wcs: target.wcs,
  };
}

/** A contiguous copy of a plane in shared memory (so worker threads can read it). */
function sharedCopy<T extends Float32Array | Int32Array>(
  plane: Plane<T>,
  ctor: { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
): T {
  const out = new ctor(new SharedArrayBuffer(plane.width * plane.height * ctor.BYTES_PER_ELEMENT));
  for (let y = 0; y < plane.height; y++) out.set(plane.row(y), y * plane.width);
  return out;
}

/** The plane's own pixels when contiguous in shared memory (read in place by the workers), else a shared copy. */
function sharedPixels<T extends Float32Array | Int32Array>(
  plane: Plane<T>,
  ctor: { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
): T {
  return plane.contiguous && plane.data.buffer instanceof SharedArrayBuffer
    ? plane.data
    : sharedCopy(plane, ctor);
}

/** True when every pixel of the plane is finite. */
function allFinite(plane: Plane<Float32Array>): boolean {
  for (let y = 0; y < plane.height; y++) {
    const row = plane.row(y);
    // x - x is NaN exactly when x is NaN or infinite.
    for (let x = 0; x < row.length; x++) if (row[x] - row[x] !== 0) return false;
  }
  return true;
}

function anySet(mask: Int32Array): boolean {
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) return true;
  return false;
}

/** The template's planes as the resampler reads them (warpSource). */
export type WarpSource = ReturnType<typeof warpSource>;

/**
 * Template planes for resampling: non-finite image pixels become 0 and NO_DATA, the mask is
 * dilated over the footprint. Made ahead (runDiff, while the science's characterization ends on a
 * worker), it is given to warpExposure, the template's pixels and mask unchanged meanwhile: a
 * template without non-finite pixels whose planes are contiguous in shared memory (as read and
 * characterized) is read in place, not copied.
 */
export function warpSource(template: Exposure, config: Partial<WarpConfig> = {}) {
  const growMaskRadius = { ...DEFAULT_WARP_CONFIG, ...config }.growMaskRadius;
  const width = template.width;
  const height = template.height;
  const radius = Math.max(1, Math.round(growMaskRadius));
  const dilated = (mask: Int32Array) =>
    dilateMask(mask, width, height, radius, new Int32Array(new SharedArrayBuffer(mask.byteLength)));
  if (allFinite(template.image)) {
    const mask = template.mask.contiguous ? template.mask.data : template.mask.clone().data;
    return {
      width,
      height,
      image: sharedPixels(template.image, Float32Array),
      variance: sharedPixels(template.variance, Float32Array),
      mask: anySet(mask) ? dilated(mask) : null,
    };
  }
  const image = sharedCopy(template.image, Float32Array);
  const variance = sharedCopy(template.variance, Float32Array);
  const mask = template.mask.clone().data;
  let anyBits = 0;
  for (let i = 0; i < image.length; i++) {
    // An unknown variance alone stays NaN.
    if (image[i] - image[i] !== 0) {
      image[i] = 0;
      variance[i] = 0;
      mask[i] |= MaskPlane.NO_DATA;
    }
    anyBits |= mask[i];
  }
  return { width, height, image, variance, mask: anyBits ? dilated(mask) : null };
}

/** Output rows per claimed chunk: small against a thread's share, large against a claim's cost. */
const CHUNK_ROWS = 32;

type Phases = Pick<BandStats, 'phasesX' | 'phasesY'>;

/** What a thread resampling claimed rows is given (resample-worker.ts, resampleTask). */
export interface ClaimedRowsTask {
  job: ResampleJob;
  claims: RowClaims;
  thread: number;
}

/** Claims and resamples rows in a worker thread started for it. */
async function runInWorker(task: ClaimedRowsTask): Promise<Phases> {
  const worker = startWorker(siblingModule('./resample-worker', import.meta.url), {
    workerData: task,
  });
  return new Promise((resolve, reject) => {
    worker.once('message', (phases: Phases) => resolve(phases));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`warp worker exited with code ${code}`));
    });
  });
}

/** Pool side: claims and resamples rows as a worker started for it does (resample-worker.ts). */
export function resampleTask(task: ClaimedRowsTask): Phases {
  return resampleClaimed(task.job, task.claims, task.thread);
}

function identityWarp(
  template: Exposure,
  width: number,
  height: number,
  started: number,
): WarpResult {
  if (template.width !== width || template.height !== height) {
    throw new Error(
      `without a WCS on both images they must have the same shape: template ${template.width}x${template.height}, science ${width}x${height}`,
    );
  }
  const exposure = new Exposure(
    template.image.clone(),
    template.mask.clone(),
    template.variance.clone(),
    template.wcs,
    template.psf,
    template.info,
    template.noiseCorrelation,
  );
  let covered = 0;
  for (const bits of exposure.mask.data) if (!(bits & MaskPlane.NO_DATA)) covered++;
  const totalMs = performance.now() - started;
  return {
    exposure,
    coverageFraction: covered / (width * height),
    covarianceFactor: 1,
    interpLength: 0,
    maxMappingErrorPx: 0,
    threads: 1,
    timings: { mappingMs: 0, resampleMs: totalMs, totalMs },
  };
}

/**
 * Warps `template` onto the pixel grid of `science` through both WCSs (Rubin's warpExposure):
 * the exact pixel -> sky -> pixel mapping is computed on a coarse grid and interpolated, the
 * template is resampled with a normalised Lanczos kernel, and values are scaled by the pixel-area
 * ratio so that they stay flux per (output) pixel: a star keeps its total flux in ADU.
 * Variance is propagated as sum(w^2) * variance (see covarianceFactor), mask bits are ORed
 * over the kernel footprint (config.growMaskRadius), pixels the template does not cover are
 * NO_DATA, those whose kernel was cut by the template edge EDGE. When either image has no WCS,
 * they must have the same shape and the template is copied as it is.
 * Bands beyond the main thread's run on `pool` when given (its threads already started, e.g.
 * idle after characterizing the science), else each on a worker started for it.
 * @throws InsufficientCoverageError when less than config.minCoverageFraction is covered.
 * @example
 *   const { exposure, coverageFraction } = await warpExposure(template, science);
 */
export async function warpExposure(
  template: Exposure,
  science: WarpTarget,
  config: Partial<WarpConfig> = {},
  pool: WorkerPool | null = null,
  source?: WarpSource,
): Promise<WarpResult> {
  const cfg: WarpConfig = { ...DEFAULT_WARP_CONFIG, ...config };
  const started = performance.now();
  const target = frameOf(science);
  if (!target.wcs || !template.wcs) {
    const result = identityWarp(template, target.width, target.height, started);
    checkCoverage(result.coverageFraction, cfg.minCoverageFraction);
    return result;
  }
  const out: GridFrame = { ...target, wcs: target.wcs };
  const src: GridFrame = {
    width: template.width,
    height: template.height,
    x0: template.image.x0,
    y0: template.image.y0,
    wcs: template.wcs,
  };
  const mapping = buildMapping(out, src, cfg.interpLength, cfg.maxInterpErrorPx);
  const mapped = performance.now();

  const prepared = source ?? warpSource(template, cfg);
  const n = out.width * out.height;
  const job: ResampleJob = {
    kernel: cfg.kernel,
    srcWidth: prepared.width,
    srcHeight: prepared.height,
    srcImage: prepared.image,
    srcVariance: prepared.variance,
    srcMask: prepared.mask,
    mapping,
    outWidth: out.width,
    outImage: new Float32Array(new SharedArrayBuffer(4 * n)),
    outVariance: new Float32Array(new SharedArrayBuffer(4 * n)),
    outMask: new Int32Array(new SharedArrayBuffer(4 * n)),
    noDataValue: cfg.noDataValue,
  };
  const threads = Math.max(
    1,
    Math.min(
      out.height,
      cfg.threads > 0 ? cfg.threads : n >= THREADING_MIN_PIXELS ? availableParallelism() : 1,
    ),
  );
  // Every thread claims chunks of rows from one counter, the main thread too, so a worker still
  // busy with an earlier task leaves its share to the others. The chunks of a worker that cannot
  // start or dies are redone on the main thread (each chunk writes only its own rows).
  const claims = rowClaims(out.height, CHUNK_ROWS);
  const runThread = (thread: number): Promise<Phases> =>
    pool && pool.size > 0
      ? pool.runTask(poolTask(import.meta.url, { resampleTask }), { job, claims, thread })
      : runInWorker({ job, claims, thread });
  const pending = Array.from({ length: threads - 1 }, (_v, i) =>
    runThread(i + 1).catch((error: unknown) => {
      const chunks = [...claims.owner.keys()].filter((c) => claims.owner[c] === i + 1);
      process.stderr.write(
        `${JSON.stringify({ severity: 'WARNING', message: `warp worker failed, its ${chunks.length} chunks of rows resampled on the main thread: ${String(error)}` })}\n`,
      );
      return chunks;
    }),
  );
  const phases = [resampleClaimed(job, claims, 0)];
  for (const done of await Promise.all(pending))
    phases.push(Array.isArray(done) ? resampleClaimed(job, claims, 0, done) : done);
  let covered = 0;
  let squares = 0;
  for (let c = 0; c < claims.owner.length; c++) {
    covered += claims.covered[c];
    squares += claims.squares[c];
  }
  // Each thread counted the phases of its own rows; the cells' histograms add up.
  const histogram = (axis: 'phasesX' | 'phasesY') => {
    const h = new Float64Array(phases[0][axis].length);
    for (const b of phases) for (let i = 0; i < h.length; i++) h[i] += b[axis][i];
    return h;
  };
  const grid = {
    x0: out.x0,
    y0: out.y0,
    nx: Math.ceil(out.width / CELL_SIZE),
    ny: Math.ceil(out.height / CELL_SIZE),
  };
  const coverageFraction = n > 0 ? covered / n : 0;
  checkCoverage(coverageFraction, cfg.minCoverageFraction);

  const planes = (data: Float32Array | Int32Array) =>
    new Plane(data, out.width, out.height, out.width, 0, out.x0, out.y0);
  const exposure = new Exposure(
    planes(job.outImage) as Plane<Float32Array>,
    planes(job.outMask) as Plane<Int32Array>,
    planes(job.outVariance) as Plane<Float32Array>,
    out.wcs,
    template.psf ? new WarpedPsf(template.psf, out.wcs, template.wcs) : null,
    template.info,
    resampledNoiseCorrelation(
      LanczosTable.of(cfg.kernel),
      grid,
      histogram('phasesX'),
      histogram('phasesY'),
      template.noiseCorrelation,
    ),
  );
  const done = performance.now();
  return {
    exposure,
    coverageFraction,
    covarianceFactor: covered > 0 ? squares / covered : 1,
    interpLength: mapping.interpLength,
    maxMappingErrorPx: mapping.maxErrorPx,
    threads,
    timings: { mappingMs: mapped - started, resampleMs: done - mapped, totalMs: done - started },
  };
}

function checkCoverage(fraction: number, minimum: number): void {
  if (fraction < minimum) throw new InsufficientCoverageError(fraction, minimum);
}
