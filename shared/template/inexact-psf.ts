/**
 * INEXACT_PSF (Rubin's coadd mask plane of that name): the bright sources of a coadd where some used
 * input is missing (its edge, a masked or rejected pixel). There the coadd's PSF is the mix of the
 * inputs present, not CoaddPsf's mix of all, and the inputs' PSFs differ most in their Moffat wings
 * (README.md, "Seed 3's bright-star false positives"): a difference kernel fitted over the image
 * leaves a residual in proportion to the source's flux, which no consistent rejection removes. The
 * whole footprint of such a source is flagged, so that detection can leave it out and count it as
 * area lost rather than call its residual a change.
 */
import { MaskPlane } from '../image/mask.js';
import { forEachComponent8 } from '../util/components.js';

/**
 * Sets INEXACT_PSF on every 8-connected footprint of the coadd (pixels at or above `footprintSigma`
 * of their own noise) whose peak reaches `peakSigma` and where some pixel holds fewer than `nUsed`
 * inputs. Returns the number of pixels flagged. `peakSigma` 0 flags nothing.
 */
export function flagInexactPsf(
  image: Float32Array,
  variance: Float32Array,
  mask: Int32Array,
  count: Uint8Array,
  nUsed: number,
  width: number,
  height: number,
  footprintSigma: number,
  peakSigma: number,
): number {
  if (!(peakSigma > 0)) return 0;
  const member = new Uint8Array(image.length);
  const seeds: number[] = [];
  for (let p = 0; p < image.length; p++) {
    if (mask[p] & MaskPlane.NO_DATA || !(variance[p] > 0)) continue;
    if (image[p] >= footprintSigma * Math.sqrt(variance[p])) {
      member[p] = 1;
      seeds.push(p);
    }
  }
  const label = new Int32Array(image.length).fill(-1);
  const peak: number[] = [];
  const partial: boolean[] = [];
  forEachComponent8(
    member,
    width,
    height,
    (p, c) => {
      if (peak.length <= c) {
        peak.push(0);
        partial.push(false);
      }
      label[p] = c;
      peak[c] = Math.max(peak[c], image[p] / Math.sqrt(variance[p]));
      if (count[p] < nUsed) partial[c] = true;
    },
    seeds,
  );
  let flagged = 0;
  for (const p of seeds) {
    const c = label[p];
    if (partial[c] && peak[c] >= peakSigma) {
      mask[p] |= MaskPlane.INEXACT_PSF;
      flagged++;
    }
  }
  return flagged;
}
