/** Configuration of DIASource detection and measurement (detect.ts, measure.ts). */
import { MaskPlane, UNUSABLE } from '../image/mask.js';

export interface DetectConfig {
  /** Detection threshold on |PSF-matched-filter significance|, sigma. Default 5. */
  threshold: number;
  /** Also detect negative sources. Default true. */
  detectNegative: boolean;
  /** Footprint growth radius in PSF sigmas (Rubin's nSigmaToGrow). Default 2.4. */
  growSigmas: number;
  /** Peaks closer than this many PSF FWHM to a brighter one in the same footprint are dropped. Default 1.5. */
  minPeakSeparationFwhm: number;
  /** Mask bits whose pixels get zero weight in detection and measurement. Default UNUSABLE (BAD|SAT|CR|NO_DATA|EDGE). */
  excludeBits: number;
  /**
   * Detection threshold, sigma, in INEXACT_PSF pixels (a template's bright source where a large share
   * of its inputs' weight is missing, so the coadd's PSF model is off there: shared/template/inexact-psf.ts).
   * Their residual is a few sigma; a real change there of tens of sigma is kept. Below this |significance|
   * they are not detected; never below `threshold`. Default 20 (README: measured).
   */
  inexactPsfThreshold: number;
  /**
   * Detection also ignores pixels within `maskGrowRadius` px of these bits. Default CR|BAD|SAT:
   * the decorrelation afterburner rings around masked cosmic rays and hot pixels (negative
   * sidelobes a pixel or two out) and would otherwise give negative false detections.
   */
  maskGrowBits: number;
  /** Radius of that growth, px. Default 2. */
  maskGrowRadius: number;
  /**
   * No detection where unmasked pixels hold less than this share of the PSF's matched-filter
   * information (mostly masked positions; cf. Rubin's *CenterAll pixel flags). Default 0.5.
   */
  minUnmaskedInformation: number;
  /** Radius of the apFlux aperture, px. Default 12 (Rubin's base_CircularApertureFlux_12_0). */
  apertureRadius: number;
  /** Merge touching positive and negative footprints and fit dipoles. Default true. */
  fitDipoles: boolean;
  /** Each lobe of a dipole must reach this |flux/fluxErr|; otherwise the lobes stay separate sources. Default 5. */
  dipoleLobeMinSnr: number;
  /**
   * A dipole's fitted lobes must lie within this many PSF FWHM of each other; farther apart they are
   * two changes (a fading variable beside a new transient), not one source's subtraction residual
   * (misregistration, PSF mismatch or motion, whose lobes sit about a FWHM apart). Default 3.
   */
  dipoleMaxSeparationFwhm: number;
  /** Measurement evaluates the PSF model once per cell of this side (px) and shifts it by Lanczos-3 (see CachedPsf); 0 evaluates the model at every position. Default 256. */
  psfCellSize: number;
  /** Sky sources to measure after detection (0 to skip). Default 1000. */
  skySources: number;
  /**
   * When the sky sources' noise ratio exceeds this, the threshold is multiplied by the ratio and
   * detection repeated (Rubin's DynamicDetectionTask): where the PSF-scale noise exceeds what
   * VARIANCE predicts (noise correlated on the PSF scale that the decorrelation missed, faint
   * residuals), a 5 sigma threshold on the variance plane admits noise. Default 1.05: within the
   * ratio's own scatter (~0.04 for 1000 sky sources) and the 1.00 +- 0.05 noise the pipeline is
   * held to, VARIANCE is trusted; the threshold is never lowered. Infinity turns it off; needs
   * `skySources` > 0.
   */
  rescaleThresholdAbove: number;
  /** Seed of the sky-source positions. Default 1. */
  seed: number;
  /**
   * Find blended point sources the peak finder misses (deblend.ts; DAOPHOT's FIND on the residual
   * after ALLSTAR, Stetson 1987): after measurement the footprint's PSF models are subtracted, the
   * residual is searched for same-sign peaks at the detection threshold, and a peak is kept as a
   * new DIASource when a joint two-PSF fit beats one PSF by `deblendMinDeltaChi2` and both
   * components reach the threshold; the parent then carries the jointly fitted position and flux.
   * Dipoles are never split.
   */
  deblend: boolean;
  /** Minimum chi^2(one PSF) - chi^2(two PSFs) over the pair's stamps for a child. */
  deblendMinDeltaChi2: number;
  /** A child must lie at least this many PSF FWHM from every source of its footprint. */
  deblendMinSeparationFwhm: number;
  /**
   * A child's joint flux must reach this fraction of its parent's (SExtractor's DEBLEND_MINCONT): below it,
   * a companion cannot be told from the difference PSF's model error on the parent (README: measured).
   */
  deblendMinContrast: number;
  /**
   * Footprints whose core (pixels at the threshold) is longer than this many times its width
   * (major over max(minor, PSF) axis sigma) are not deblended: a satellite streak's footprint holds
   * a chain of peaks, and the residual between two of them is the streak, not a source.
   */
  deblendMaxElongation: number;
}

export const DEFAULT_DETECT_CONFIG: DetectConfig = {
  threshold: 5,
  detectNegative: true,
  growSigmas: 2.4,
  minPeakSeparationFwhm: 1.5,
  excludeBits: UNUSABLE,
  inexactPsfThreshold: 20,
  maskGrowBits: MaskPlane.CR | MaskPlane.BAD | MaskPlane.SAT,
  maskGrowRadius: 2,
  minUnmaskedInformation: 0.5,
  apertureRadius: 12,
  fitDipoles: true,
  dipoleLobeMinSnr: 5,
  dipoleMaxSeparationFwhm: 3,
  psfCellSize: 256,
  skySources: 1000,
  rescaleThresholdAbove: 1.05,
  seed: 1,
  deblend: true,
  deblendMinDeltaChi2: 25,
  deblendMinSeparationFwhm: 1,
  deblendMinContrast: 0.05,
  deblendMaxElongation: 4,
};
