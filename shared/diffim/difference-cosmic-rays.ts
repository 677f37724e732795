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
import { stampSigma } from './psf-grid.js';

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

/** A band of rows [y0, y1) to scan. */
interface ScanJob extends Planes {
  y0: number;
  y1: number;
}

interface Scan {
  /** The band's holes (index y * width + x), ascending: few, so no plane is made for them unless there are some. */
  holes: Int32Array;
  /** findCosmicRays' candidates of the band: interior pixels above its minSigma, not COSMIC_RAY_SKIP, ascending. */
  bright: Int32Array;
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
  return {
    holes: Int32Array.from(holes),
    bright: brightPixels(image, variance, mask, w, h, minSigma, job.y0, job.y1),
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
  const far = pool.runTask(poolTask(import.meta.url, { scanRows }), {
    ...planes,
    y0: half,
    y1: planes.height,
  });
  far.catch(() => {}); // awaited below, after this thread's half, which may throw first
  const near = scanRows({ ...planes, y0: 0, y1: half });
  const rest = await far;
  const joined = (a: Int32Array, b: Int32Array): Int32Array => {
    const out = new Int32Array(a.length + b.length);
    out.set(a);
    out.set(b, a.length);
    return out;
  };
  return judge(planes, mask, psf, contrast, {
    holes: joined(near.holes, rest.holes),
    bright: joined(near.bright, rest.bright),
  });
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
): CosmicRayResult {
  const psfCov = (x: number, y: number): [number, number, number] => {
    const s = psf.stampAt(x, y, true);
    const sigma2 = stampSigma(s.data, s.size) ** 2;
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
