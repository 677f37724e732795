/**
 * INEXACT_PSF (Rubin's coadd mask plane of that name): the bright sources of a coadd where a large
 * share of the used inputs' weight is missing (their edges, masked or rejected pixels). There the
 * coadd's PSF is the mix of the inputs present, not CoaddPsf's mix of all, and the inputs' PSFs
 * differ most in their Moffat wings (README.md, "Seed 3's bright-star false positives"): a
 * difference kernel fitted over the image leaves a residual in proportion to the source's flux and
 * to the share missing. The whole footprint of such a source is flagged, so that detection can leave
 * it out and count it as area lost rather than call its residual a change. A source missing little
 * (a cosmic ray's pixels, the far wings, one rejected epoch of a variable star among six or more
 * inputs) is not: flagging those cost the night a quarter of its variable stars (README.md).
 */
import { MaskPlane } from '../image/mask.js';
import { forEachComponent8 } from '../util/components.js';
import { STACK_UNUSABLE } from './stack-kernels.js';

/** What the flag needs of each used input: its mask, what rejection removed, its weight. */
export interface InexactInput {
  mask: Int32Array;
  rejected: Uint8Array;
  weight: number;
}

/** Which sources are flagged (TemplateConfig's inexactPsf* knobs). */
export interface InexactCriteria {
  /** Footprints are the 8-connected pixels at or above this many sigma of their own noise. */
  footprintSigma: number;
  /** A footprint's peak must reach this many sigma; 0 flags nothing. */
  peakSigma: number;
  /** The flux-weighted share of the inputs' weight missing over the footprint must reach this. */
  missingFraction: number;
}

/**
 * Sets INEXACT_PSF on every 8-connected footprint of the coadd whose peak reaches
 * `criteria.peakSigma` and where the inputs missing (not usable or rejected) hold, weighted by the
 * coadd's flux over the footprint, at least `criteria.missingFraction` of the inputs' total weight:
 * sum_p I_p (1 - W_present(p) / W) / sum_p I_p. Returns the number of pixels flagged.
 */
export function flagInexactPsf(
  image: Float32Array,
  variance: Float32Array,
  mask: Int32Array,
  inputs: readonly InexactInput[],
  width: number,
  height: number,
  criteria: InexactCriteria,
): number {
  if (!(criteria.peakSigma > 0)) return 0;
  const total = inputs.reduce((t, q) => t + q.weight, 0);
  const member = new Uint8Array(image.length);
  const seeds: number[] = [];
  for (let p = 0; p < image.length; p++) {
    if (mask[p] & MaskPlane.NO_DATA || !(variance[p] > 0)) continue;
    if (image[p] >= criteria.footprintSigma * Math.sqrt(variance[p])) {
      member[p] = 1;
      seeds.push(p);
    }
  }
  const label = new Int32Array(image.length).fill(-1);
  const peak: number[] = [];
  const flux: number[] = [];
  const missing: number[] = [];
  forEachComponent8(
    member,
    width,
    height,
    (p, c) => {
      if (peak.length <= c) {
        peak.push(0);
        flux.push(0);
        missing.push(0);
      }
      label[p] = c;
      peak[c] = Math.max(peak[c], image[p] / Math.sqrt(variance[p]));
      let present = 0;
      for (const q of inputs)
        if (!(q.mask[p] & STACK_UNUSABLE) && !q.rejected[p]) present += q.weight;
      flux[c] += image[p];
      missing[c] += image[p] * (1 - present / total);
    },
    seeds,
  );
  let flagged = 0;
  for (const p of seeds) {
    const c = label[p];
    if (
      peak[c] >= criteria.peakSigma &&
      missing[c] > 0 &&
      missing[c] >= criteria.missingFraction * flux[c]
    ) {
      mask[p] |= MaskPlane.INEXACT_PSF;
      flagged++;
    }
  }
  return flagged;
}
