/**
 * Cosmic rays that a star hid in the science, found again on the difference. The science's CR
 * test (Lupton's, `shared/characterize/cosmic-rays.ts`) compares a pixel with its neighbours' mean
 * through what the PSF allows, so charge on a star's core or wing is passed whenever it is less
 * than about twice the star's own light there (a 20-sigma hit on a 15-sigma core left a
 * 10-sigma false DIASource on `ap simulate` seed 8). The subtraction removes the star, and the
 * hit then stands alone on the difference, where the same test with the difference's PSF flags it
 * (a real change is PSF-shaped there and passes). Pixels flagged join the mask as CR, which
 * detection excludes and grows.
 *
 * Broken pixels are no charge: a science pixel at -1e6 ADU leaves a hole in the difference
 * whose decorrelation sidelobes are sharp and positive (+300 sigma beside a -41,000 sigma hole),
 * and flagging them hid the flood of DIASources that quarantines a broken image. No pixel within
 * `HOLE_REACH_FWHM` PSF FWHM of a pixel below -`HOLE_SIGMAS` sigma is judged.
 */
import {
  brightPixels,
  COSMIC_RAY_SKIP,
  DEFAULT_COSMIC_RAY_CONFIG,
  findCosmicRays,
  type CosmicRayResult,
} from '../characterize/cosmic-rays.js';
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { dilateBits } from '../util/convolve.js';
import { poolTask } from '../util/pool-task.js';
import { sharedOrCopy } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { GridPsf, stampSigma } from './psf-grid.js';

/**
 * A hole: a difference pixel this many sigma below zero. Its sidelobes are ~1 % of it (measured 0.7 %), so
 * shallower ones never reach the test's 6-sigma seeds; a fading star this deep only keeps the test off itself.
 */
export const HOLE_SIGMAS = 100;
/** HOLE_SIGMAS squared, a little under: every hole passes this cheaper test first. */
const HOLE_SQUARE_LOOSE = HOLE_SIGMAS ** 2 * (1 - 1e-6);
/** Reach of a hole's sidelobes, PSF FWHM (measured: shared/diffim/README.md, "Cosmic rays a star hid"). */
export const HOLE_REACH_FWHM = 2;

/** The contiguous planes the test reads, the difference's size. */
interface Planes {
  image: Float32Array;
  variance: Float32Array;
  mask: Int32Array;
  width: number;
  height: number;
}

/** A GridPsf as it crosses to a worker. */
type GridPsfData = Pick<GridPsf, 'xs' | 'ys' | 'stamps' | 'stampSize'>;

/** A band of rows [y0, y1) to scan, and the difference PSF when the band's cells' widths are measured too. */
interface ScanJob extends Planes {
  y0: number;
  y1: number;
  psf?: GridPsfData;
}

interface Scan {
  /** The band's holes (index y * width + x), ascending: few, so no plane is made for them unless there are some. */
  holes: Int32Array;
  /** findCosmicRays' candidates of the band: interior pixels above its minSigma, not COSMIC_RAY_SKIP, ascending. */
  bright: Int32Array;
  /** With the job's PSF: (x, y, sigma^2) of the PSF at the centre of each cell holding a candidate (cellWidths). */
  widths?: Float64Array;
}

/**
 * findCosmicRays asks the PSF's width at the centres of cells of this many pixels (its ratio cells,
 * characterize/cosmic-rays.ts): those of the candidates are measured ahead, on both threads; any
 * other position is measured as asked.
 */
const RATIO_CELL = 64;

/** The squared Gaussian-equivalent sigma of `psf` at (x, y): the covariance findCosmicRays reads. */
function psfSigma2(psf: Psf, x: number, y: number): number {
  const s = psf.stampAt(x, y, true);
  return stampSigma(s.data, s.size) ** 2;
}

/** (x, y, sigma^2) at the centre of each RATIO_CELL cell holding one of `pixels`, as findCosmicRays asks it. */
function cellWidths(psf: Psf, pixels: Int32Array, width: number): Float64Array {
  const cellsX = Math.ceil(width / RATIO_CELL);
  const cells = new Set<number>();
  for (const i of pixels) {
    const x = i % width;
    cells.add(Math.floor((i - x) / width / RATIO_CELL) * cellsX + Math.floor(x / RATIO_CELL));
  }
  const out = new Float64Array(3 * cells.size);
  let k = 0;
  for (const c of cells) {
    const x = ((c % cellsX) + 0.5) * RATIO_CELL,
      y = (Math.floor(c / cellsX) + 0.5) * RATIO_CELL;
    out.set([x, y, psfSigma2(psf, x, y)], k);
    k += 3;
  }
  return out;
}

/**
 * The whole-image passes of the test for rows [y0, y1): the holes, and the bright pixels
 * findCosmicRays would look for its seeds (its own brightPixels).
 */
export function scanRows(job: ScanJob): Scan {
  const { image, variance, mask, width: w, height: h } = job;
  const holes: number[] = [];
  const end = job.y1 * w;
  for (let i = job.y0 * w; i < end; i++) {
    const p = image[i];
    // A hole has p |p| below -HOLE_SIGMAS^2 var (loosened against rounding): one comparison, rarely
    // true, settles the sky pixels of either sign without a branch on the sign or a square root.
    if (
      p * Math.abs(p) < -HOLE_SQUARE_LOOSE * variance[i] &&
      p < -HOLE_SIGMAS * Math.sqrt(variance[i]) &&
      !(mask[i] & COSMIC_RAY_SKIP)
    )
      holes.push(i);
  }
  const minSigma = DEFAULT_COSMIC_RAY_CONFIG.minSigma;
  const bright = brightPixels(image, variance, mask, w, h, minSigma, job.y0, job.y1);
  const psf = job.psf && new GridPsf(job.psf.xs, job.psf.ys, job.psf.stamps, job.psf.stampSize);
  return {
    holes: Int32Array.from(holes),
    bright,
    widths: psf && cellWidths(psf, bright, w),
  };
}

/** Flags CR in the difference's mask (in place) the pixels sharper than its PSF by `contrast` (Lupton's c3). */
export function flagDifferenceCosmicRays(
  image: Exposure['image'],
  variance: Exposure['variance'],
  mask: Exposure['mask'],
  psf: Psf,
  contrast: number,
): CosmicRayResult {
  const planes: Planes = {
    image: image.contiguous ? image.data : image.clone().data,
    variance: variance.contiguous ? variance.data : variance.clone().data,
    mask: mask.contiguous ? mask.data : mask.clone().data,
    width: mask.width,
    height: mask.height,
  };
  const scan = scanRows({ ...planes, y0: 0, y1: planes.height });
  return judge(planes, mask, psf, contrast, scan);
}

/**
 * flagDifferenceCosmicRays with its whole-image pass split: the first half of the rows here, the
 * rest on `pool`'s worker (idle in this stage of ap diff); the same flags.
 */
export async function flagDifferenceCosmicRaysAsync(
  image: Exposure['image'],
  variance: Exposure['variance'],
  mask: Exposure['mask'],
  psf: Psf,
  contrast: number,
  pool: WorkerPool | null,
): Promise<CosmicRayResult> {
  if (!pool || pool.size === 0 || mask.height < 2)
    return flagDifferenceCosmicRays(image, variance, mask, psf, contrast);
  const planes: Planes = {
    image: sharedOrCopy(image).data,
    variance: sharedOrCopy(variance).data,
    mask: sharedOrCopy(mask).data,
    width: mask.width,
    height: mask.height,
  };
  const half = planes.height >> 1;
  // A grid PSF's widths at the candidates' cells are measured by each thread for its half.
  const grid = psf instanceof GridPsf ? psf : undefined;
  const far = pool.runTask(poolTask(import.meta.url, { scanRows }), {
    ...planes,
    y0: half,
    y1: planes.height,
    psf: grid && { xs: grid.xs, ys: grid.ys, stamps: grid.stamps, stampSize: grid.stampSize },
  });
  far.catch(() => {}); // awaited below, after this thread's half, which may throw first
  const near = scanRows({ ...planes, y0: 0, y1: half });
  const widths = grid ? [cellWidths(grid, near.bright, planes.width)] : [];
  const rest = await far;
  if (rest.widths) widths.push(rest.widths);
  const joined = (a: Int32Array, b: Int32Array): Int32Array => {
    const out = new Int32Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  return judge(
    planes,
    mask,
    psf,
    contrast,
    {
      holes: joined(near.holes, rest.holes),
      bright: joined(near.bright, rest.bright),
    },
    widths,
  );
}

/**
 * The test itself on the scanned planes: with holes, on a copy of the mask where their reach is
 * BAD (never a seed, never grown into), only CR going back. The bright pixels are those of the mask
 * without the holes' reach: findCosmicRays skips the BAD ones among them, as it skips any masked seed.
 */
function judge(
  planes: Planes,
  mask: Exposure['mask'],
  psf: Psf,
  contrast: number,
  scan: Scan,
  widths: Float64Array[] = [],
): CosmicRayResult {
  // The widths measured ahead (cellWidths), by position; others are measured as asked.
  const known = new Map<string, number>();
  for (const list of widths)
    for (let k = 0; k < list.length; k += 3) known.set(`${list[k]},${list[k + 1]}`, list[k + 2]);
  const psfCov = (x: number, y: number): [number, number, number] => {
    const sigma2 = known.get(`${x},${y}`) ?? psfSigma2(psf, x, y);
    return [sigma2, sigma2, 0];
  };
  const config = { cond3Fac: contrast };
  const { image, variance, width: w, height: h } = planes;
  if (scan.holes.length === 0)
    return findCosmicRays(image, variance, mask, psfCov, config, scan.bright);
  const reach = new Int32Array(w * h);
  for (const i of scan.holes) reach[i] = MaskPlane.BAD;
  dilateBits(reach, w, h, MaskPlane.BAD, Math.ceil(HOLE_REACH_FWHM * psf.fwhmAt(w / 2, h / 2)));
  const work = mask.clone();
  for (let i = 0; i < reach.length; i++) work.data[i] |= reach[i];
  const result = findCosmicRays(image, variance, work, psfCov, config, scan.bright);
  for (const i of result.pixels) {
    const x = i % w;
    mask.data[mask.index(x, (i - x) / w)] |= MaskPlane.CR;
  }
  return result;
}
