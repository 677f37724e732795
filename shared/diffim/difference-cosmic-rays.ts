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
  COSMIC_RAY_SKIP,
  findCosmicRays,
  type CosmicRayResult,
} from '../characterize/cosmic-rays.js';
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { dilateBits } from '../util/convolve.js';
import { stampSigma } from './psf-grid.js';

/**
 * A hole: a difference pixel this many sigma below zero. Its sidelobes are ~1 % of it (measured 0.7 %), so
 * shallower ones never reach the test's 6-sigma seeds; a fading star this deep only keeps the test off itself.
 */
export const HOLE_SIGMAS = 100;
/** Reach of a hole's sidelobes, PSF FWHM (measured: shared/diffim/README.md, "Cosmic rays a star hid"). */
export const HOLE_REACH_FWHM = 2;

/** Flags CR in the difference's mask (in place) the pixels sharper than its PSF by `contrast` (Lupton's c3). */
export function flagDifferenceCosmicRays(
  image: Exposure['image'],
  variance: Exposure['variance'],
  mask: Exposure['mask'],
  psf: Psf,
  contrast: number,
): CosmicRayResult {
  const data = image.contiguous ? image.data : image.clone().data;
  const vdata = variance.contiguous ? variance.data : variance.clone().data;
  const psfCov = (x: number, y: number): [number, number, number] => {
    const s = psf.stampAt(x, y, true);
    const sigma2 = stampSigma(s.data, s.size) ** 2;
    return [sigma2, sigma2, 0];
  };
  const config = { cond3Fac: contrast };
  const w = mask.width;
  const h = mask.height;
  const reach = new Int32Array(w * h);
  let holes = 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (
        data[i] < -HOLE_SIGMAS * Math.sqrt(vdata[i]) &&
        !(mask.data[mask.index(x, y)] & COSMIC_RAY_SKIP)
      ) {
        reach[i] = MaskPlane.BAD;
        holes++;
      }
    }
  if (holes === 0) return findCosmicRays(data, vdata, mask, psfCov, config);
  // Judged on a copy where the holes' reach is BAD (never a seed, never grown into); only CR goes back.
  dilateBits(reach, w, h, MaskPlane.BAD, Math.ceil(HOLE_REACH_FWHM * psf.fwhmAt(w / 2, h / 2)));
  const work = mask.clone();
  for (let i = 0; i < reach.length; i++) work.data[i] |= reach[i];
  const result = findCosmicRays(data, vdata, work, psfCov, config);
  for (const i of result.pixels) {
    const x = i % w;
    mask.data[mask.index(x, (i - x) / w)] |= MaskPlane.CR;
  }
  return result;
}
