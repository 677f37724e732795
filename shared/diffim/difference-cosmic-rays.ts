/**
 * Cosmic rays that a star hid in the science, found again on the difference. The science's CR
 * test (Lupton's, `shared/characterize/cosmic-rays.ts`) compares a pixel with its neighbours' mean
 * through what the PSF allows, so charge on a star's core or wing is passed whenever it is less
 * than about twice the star's own light there (a 20-sigma hit on a 15-sigma core left a
 * 10-sigma false DIASource on `ap simulate` seed 8). The subtraction removes the star, and the
 * hit then stands alone on the difference, where the same test with the difference's PSF flags it
 * (a real change is PSF-shaped there and passes). Pixels flagged join the mask as CR, which
 * detection excludes and grows.
 */
import { findCosmicRays, type CosmicRayResult } from '../characterize/cosmic-rays.js';
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { stampSigma } from './psf-grid.js';

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
  return findCosmicRays(data, vdata, mask, psfCov, { cond3Fac: contrast });
}
