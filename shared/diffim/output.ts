/**
 * Stage (8) of subtractImages, the difference as written: no-data and non-finite pixels zeroed
 * (one pass in two halves, this thread's and the pool worker's, which also marks the pixels the
 * residual background may use), the residual background (illumination.ts), the bright stars'
 * common ring (star-halos.ts; not ZOGY), the cosmic rays a star hid (difference-cosmic-rays.ts;
 * AL), the noise figures and, when asked (runDiff), the model error's variance (model-error.ts).
 * The passes that read only the warped template and the difference's variance go to the worker
 * where it would idle: the halo stars' search while this thread makes the difference PSF
 * (startHaloStars, before the stage), the model error's compact pixels half as the residual
 * background's shared smoothing starts, half while this thread fits the halos. The model error
 * itself is measured on the worker while this thread measures the noise ratio.
 */
import { Exposure } from '../image/exposure.js';
import type { ImageF, MaskI } from '../image/plane.js';
import { poolTask } from '../util/pool-task.js';
import { planeDataOf, planeOf, type PlaneData } from '../util/shared-plane.js';
import { median } from '../util/stats.js';
import type { WorkerPool } from '../util/worker-pool.js';
import type { DiffMethod, SubtractConfig } from './config.js';
import { flagDifferenceCosmicRaysAsync } from './difference-cosmic-rays.js';
import { DifferenceFailedError } from './errors.js';
import {
  excludeRows,
  subtractResidualBackground,
  type ResidualBackground,
  type ResidualSky,
} from './illumination.js';
import {
  addModelErrorVariance,
  compactPixelsInTwo,
  modelErrorAsync,
  type ModelError,
} from './model-error.js';
import { normalisedNoise } from './noise.js';
import { stampFwhm, type GridPsf } from './psf-grid.js';
import { haloStarsAsync, subtractStarHalos, type HaloStar, type StarHalos } from './star-halos.js';

/** The difference's planes as the filters leave them (contiguous on shared memory with a pool). */
export interface DifferencePlanes {
  image: ImageF;
  mask: MaskI;
  variance: ImageF;
}

/** What the output takes from the subtraction. */
export interface OutputContext {
  /** The science (its WCS and visit info go to the difference). */
  science: Exposure;
  /** The warped template, as subtracted. */
  template: Exposure;
  method: DiffMethod;
  differencePsf: GridPsf;
  /** FWHM of the wider input PSF, px. */
  fwhmPx: number;
  /** Photometric scale (science flux per template flux): the static scene is this times the template. */
  scale: number;
  /** The halo stars' search when started beforehand (startHaloStars); else it starts with the stage. */
  haloStars?: Promise<HaloStar[]> | null;
}

export interface DifferenceOutput {
  difference: Exposure;
  /** FWHM of the difference PSF at the image centre, px. */
  psfFwhmPx: number;
  /** normalisedNoise as written (after the model error's variance) and the usable fraction. */
  noiseRatio: number;
  usableFraction: number;
  residualBackground: ResidualBackground;
  starHalos: StarHalos | null;
  differenceCrPixels: number;
  /** Measured only when asked (undefined otherwise). */
  modelError?: ModelError;
}

/** Rows [y0, y1) of the three planes (shared) and the residual background's `exclude`, as they cross to a worker. */
export interface NoDataJob {
  image: PlaneData<Float32Array>;
  mask: PlaneData<Int32Array>;
  variance: PlaneData<Float32Array>;
  exclude: Uint8Array;
  y0: number;
  y1: number;
}

interface NoDataRows {
  nonFinite: number;
  /** The residual background's noise sample of these rows (excludeRows). */
  sigmas: number[];
}

/**
 * Rows [y0, y1): non-finite and NO_DATA pixels set to 0 (and flagged NO_DATA), a non-finite
 * variance to 0, and the residual background's exclude marks, in one pass (excludeRows).
 */
function zeroRows(
  image: ImageF,
  mask: MaskI,
  variance: ImageF,
  exclude: Uint8Array,
  y0: number,
  y1: number,
): NoDataRows {
  const sigmas: number[] = [];
  const nonFinite = excludeRows(image, mask, variance, exclude, y0, y1, sigmas, true);
  return { nonFinite, sigmas };
}

/** Worker side of zeroNoData. */
export function zeroNoDataRows(job: NoDataJob): NoDataRows {
  const [image, mask, variance] = [planeOf(job.image), planeOf(job.mask), planeOf(job.variance)];
  return zeroRows(image, mask, variance, job.exclude, job.y0, job.y1);
}

const onShared = (p: ImageF | MaskI): boolean =>
  p.contiguous && p.data.buffer instanceof SharedArrayBuffer;

/** zeroRows over the image, the lower half of the rows on `pool`'s worker when the planes are shared. */
async function zeroNoData(
  { image, mask, variance }: DifferencePlanes,
  pool: WorkerPool | null,
): Promise<{ nonFinite: number; sky: ResidualSky }> {
  const h = image.height;
  const exclude = new Uint8Array(new SharedArrayBuffer(image.width * h));
  const split = !!pool && pool.size > 0 && h > 1 && [image, mask, variance].every(onShared);
  const half = split ? h >> 1 : h;
  const far = split
    ? pool.runTask(poolTask(import.meta.url, { zeroNoDataRows }), {
        image: planeDataOf(image),
        mask: planeDataOf(mask),
        variance: planeDataOf(variance),
        exclude,
        y0: half,
        y1: h,
      })
    : null;
  far?.catch(() => {}); // awaited below, after this thread's half, which may throw first
  const near = zeroRows(image, mask, variance, exclude, 0, half);
  const rest = (await far) ?? { nonFinite: 0, sigmas: [] };
  return {
    nonFinite: near.nonFinite + rest.nonFinite,
    sky: { exclude, sigma: median([...near.sigmas, ...rest.sigmas]) },
  };
}

/**
 * The halo stars' search (star-halos.ts; AL only, else null) on `pool`'s worker, started before
 * the stage: it reads only the warped template, so it runs while this thread makes the
 * difference PSF (subtract.ts), which the worker would otherwise wait for.
 */
export function startHaloStars(
  template: Exposure,
  fwhmPx: number,
  method: DiffMethod,
  cfg: SubtractConfig,
  pool: WorkerPool | null,
): Promise<HaloStar[]> | null {
  if (method === 'ZOGY') return null;
  const stars = haloStarsAsync(template, fwhmPx, cfg.starHalos, pool);
  stars.catch(() => {}); // awaited in finishDifference, after passes that may throw first
  return stars;
}

/**
 * Has `pool`'s workers load this module, and with it the modules of every task of this stage
 * (star-halos, model-error, difference-cosmic-rays, the residual background's), while earlier
 * stages run: else the stage's first task waits on the worker for their files to be read.
 */
export function preloadOutputTasks(pool: WorkerPool | null): void {
  if (pool && pool.size > 0) void pool.preload([import.meta.url]).catch(() => {});
}

/** No all-masked or non-finite difference goes out silently: DifferenceFailedError names what failed. */
function assertUsable(
  noise: { ratio: number; usable: number },
  psfFwhmPx: number,
  nonFiniteFraction: number,
): void {
  const causes = [
    nonFiniteFraction > 0 &&
      `${(100 * nonFiniteFraction).toFixed(1)} % of the pixels came out non-finite and were masked NO_DATA`,
    !(noise.usable > 0) && 'no usable pixel left',
    !Number.isFinite(noise.ratio) && 'noise ratio not finite',
    !Number.isFinite(psfFwhmPx) && 'difference PSF not finite',
  ];
  if (!(noise.usable > 0) || !Number.isFinite(noise.ratio) || !Number.isFinite(psfFwhmPx))
    throw new DifferenceFailedError(causes.filter(Boolean).join('; '));
}

/**
 * The difference as written (see the module comment), from its planes as the filters leave them
 * (changed in place). `modelError`: measure the model error and add its variance (runDiff).
 */
export async function finishDifference(
  planes: DifferencePlanes,
  ctx: OutputContext,
  cfg: SubtractConfig,
  pool: WorkerPool | null,
  modelError: boolean,
): Promise<DifferenceOutput> {
  const { image, mask, variance } = planes;
  const { width, height } = image;
  const centre = ctx.differencePsf.stampAt((width - 1) / 2, (height - 1) / 2, true);
  const psfFwhmPx = stampFwhm(centre.data, centre.size);
  const stars =
    ctx.haloStars === undefined
      ? startHaloStars(ctx.template, ctx.fwhmPx, ctx.method, cfg, pool)
      : ctx.haloStars;
  const { nonFinite, sky } = await zeroNoData(planes, pool);
  const measure =
    ctx.method !== 'ZOGY' &&
    modelError &&
    cfg.modelError.measure !== false &&
    Number.isFinite(ctx.scale);
  // The model error's candidates (they read the warped template and the variance, which no step
  // here changes) in two passes on the worker: the first as the residual background's source mask
  // starts (its smoothing is claimed band by band, so the threads share both), the rest while this
  // thread fits the halos.
  const compact = measure
    ? compactPixelsInTwo(ctx.template.image, variance, ctx.scale, psfFwhmPx, cfg.modelError, pool)
    : null;
  // What the images' background models could not follow (diffuse light, illumination edges).
  const residualBackground = await subtractResidualBackground(
    image,
    mask,
    variance,
    ctx.fwhmPx,
    cfg.illumination,
    pool,
    { sky, beforeSources: () => compact?.start() },
  );
  const candidates = compact?.result() ?? null;
  candidates?.catch(() => {}); // awaited below, after the halos, which may throw first
  // Bright stars' wings beyond the kernel's reach, on what the smooth background leaves.
  const starHalos = stars
    ? subtractStarHalos(image, mask, variance, ctx.template, ctx.fwhmPx, cfg.starHalos, await stars)
    : null;
  // Only where the science is not convolved (AL) does its charge keep its pixel scale on the difference.
  const differenceCrPixels =
    cfg.differenceCrContrast > 0 && ctx.method === 'AL'
      ? (
          await flagDifferenceCosmicRaysAsync(
            image,
            variance,
            mask,
            ctx.differencePsf,
            cfg.differenceCrContrast,
            pool,
          )
        ).nPixels
      : 0;
  const difference = new Exposure(
    image,
    mask,
    variance,
    ctx.science.wcs,
    ctx.differencePsf,
    ctx.science.info,
  );
  // The model error is measured on the worker while the noise is measured here: both read the
  // difference as flagged, and only then is the model error's variance added.
  const measuring = modelError
    ? modelErrorAsync(
        { method: ctx.method, difference, kernelSum: ctx.scale, psfFwhmPx },
        ctx.template,
        cfg.modelError,
        candidates ? await candidates : undefined,
        pool,
      )
    : null;
  measuring?.catch(() => {}); // awaited below, after the noise check, which may throw first
  const noise = normalisedNoise(difference);
  assertUsable(noise, psfFwhmPx, nonFinite / (width * height));
  const error = measuring ? await measuring : undefined;
  if (error) addModelErrorVariance(difference, ctx.template.image, ctx.scale, error);
  // The noise ratio as written: measured again only when variance was added (a full-image pass).
  const added = !!error && (error.fluxFraction > 0 || error.astrometricSigmaPx > 0);
  return {
    difference,
    psfFwhmPx,
    noiseRatio: added ? normalisedNoise(difference).ratio : noise.ratio,
    usableFraction: noise.usable,
    residualBackground,
    starHalos,
    differenceCrPixels,
    modelError: error,
  };
}
