/**
 * Unmasked science defects at a DIASource, found in its raw cutout's science plane: a cosmic ray or
 * hot pixel that characterization left unmasked is sharper than any PSF, as Rubin's findCosmicRays
 * tests it (a pixel brighter than its two opposite neighbours allow). When the subtraction convolves
 * the science (AL-CONVSCI), such a defect becomes a PSF-like blob in the difference, which the
 * difference's own cosmic-ray pass does not search; these are the bogus that set rb-v5's cut on the
 * judged nights (shared/rb/README.md "What the independent 80 % is made of, and which bogus set the
 * cut"). Measured there as a veto beside the network (`npm run bench -- rb`); no shipped model
 * applies it.
 * @example
 *   const defects = scienceDefects(raw); // 1 where the science plane holds a defect
 */
import { CHANNELS, CUTOUT_LENGTH, CUTOUT_SIZE, type CutoutSet } from './cutouts.js';

export interface ScienceDefectConfig {
  /** Half-side of the square about the cutout's centre whose pixels are tested, px. */
  halfWidth: number;
  /**
   * A PSF's pixel above the background is at most this many times the mean of two opposite
   * neighbours (along a row or a column) above it: 2.5 holds for Gaussian FWHM >= 1.74 px.
   */
  psfRatio: number;
  /** Excess over what the PSF allows, in sigma of the science plane's pixel noise, from which a pixel is a defect. */
  minExcessSigma: number;
}

/**
 * Chosen on the judged sets' cutouts (shared/rb/README.md): every real change of night 9002, the
 * reproduction and validation nights and the independent pairs tests below 5.5 sigma, every unmasked
 * defect that rb-v5 scores above 0.5 above 8.
 */
export const DEFAULT_SCIENCE_DEFECT_CONFIG: ScienceDefectConfig = {
  halfWidth: 2,
  psfRatio: 2.5,
  minExcessSigma: 7,
};

/** Cutouts needing at least this many present pixels (and horizontal pairs) for the noise estimate. */
const MIN_PRESENT = 100;
/** Median |x - y| of two independent unit normals. */
const MEDIAN_ABS_DIFFERENCE = 0.6745 * Math.SQRT2;

/** Median of `values` (sorted in place). */
function medianInPlace(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[values.length >> 1];
}

/**
 * The largest excess, in sigma, of a science pixel near the centre of cutout `n` over `psfRatio`
 * times the mean of its two row or two column neighbours, all above the cutout's median (the
 * background). The noise is the median absolute difference of row neighbours, robust to smooth
 * structure. Off-image pixels (0) are skipped; -Infinity when too few pixels are present.
 */
export function scienceSharpness(
  raw: CutoutSet,
  n: number,
  cfg: ScienceDefectConfig = DEFAULT_SCIENCE_DEFECT_CONFIG,
): number {
  const base = n * CUTOUT_LENGTH;
  const at = (x: number, y: number): number => raw.data[base + (y * CUTOUT_SIZE + x) * CHANNELS];
  const present: number[] = [];
  const steps: number[] = [];
  for (let y = 0; y < CUTOUT_SIZE; y++)
    for (let x = 0; x < CUTOUT_SIZE; x++) {
      const v = at(x, y);
      if (v === 0) continue;
      present.push(v);
      if (x > 0 && at(x - 1, y) !== 0) steps.push(Math.abs(v - at(x - 1, y)));
    }
  if (present.length < MIN_PRESENT || steps.length < MIN_PRESENT) return -Infinity;
  const background = medianInPlace(present);
  const sigma = medianInPlace(steps) / MEDIAN_ABS_DIFFERENCE || 1;
  const c = (CUTOUT_SIZE - 1) / 2;
  let best = -Infinity;
  for (let y = c - cfg.halfWidth; y <= c + cfg.halfWidth; y++)
    for (let x = c - cfg.halfWidth; x <= c + cfg.halfWidth; x++) {
      const v = at(x, y);
      if (v === 0) continue;
      for (const [p, q] of [
        [at(x + 1, y), at(x - 1, y)],
        [at(x, y + 1), at(x, y - 1)],
      ]) {
        if (p === 0 || q === 0) continue;
        const excess = (v - background - cfg.psfRatio * ((p + q) / 2 - background)) / sigma;
        if (excess > best) best = excess;
      }
    }
  return best;
}

/** 1 for each cutout whose science plane holds a defect at its centre (scienceSharpness >= minExcessSigma), else 0. */
export function scienceDefects(
  raw: CutoutSet,
  cfg: ScienceDefectConfig = DEFAULT_SCIENCE_DEFECT_CONFIG,
): Uint8Array {
  return Uint8Array.from({ length: raw.count }, (_, n) =>
    scienceSharpness(raw, n, cfg) >= cfg.minExcessSigma ? 1 : 0,
  );
}
