import { DEFAULT_ILLUMINATION_CONFIG, type IlluminationConfig } from './illumination.js';
import { DEFAULT_STAR_HALO_CONFIG, type StarHaloConfig } from './star-halos.js';
import { DEFAULT_MODEL_ERROR_CONFIG, type ModelErrorConfig } from './model-error.js';
import type { SpatialOrderSelection } from './kernel-fit.js';
/**
 * Configuration of image subtraction, with Rubin ip_diffim's defaults where they apply.
 */

/**
 * 'al': Alard-Lupton convolving the template; 'al-convsci': convolving the science;
 * 'auto': AL, convolving whichever image has the narrower PSF (Rubin's rule);
 * 'zogy': Zackay, Ofek & Gal-Yam.
 */
export type SubtractMethodChoice = 'al' | 'al-convsci' | 'auto' | 'zogy';

/** DIFFMETH header values. */
export type DiffMethod = 'AL' | 'AL-CONVSCI' | 'ZOGY';

export interface SubtractConfig {
  method: SubtractMethodChoice;
  /** Kernel side = this * the larger FWHM, made odd and clamped to [kernelSizeMin, kernelSizeMax] (ip_diffim: 6, 21, 35). */
  kernelSizeFwhmScaling: number;
  kernelSizeMin: number;
  kernelSizeMax: number;
  /** Polynomial degree of each of the three basis Gaussians (ip_diffim alardDegGauss [4, 2, 2]). */
  basisDegrees: number[];
  /** Ratio between successive basis Gaussian sigmas (ip_diffim alardGaussBeta 2). */
  basisBeta: number;
  /** Smallest basis sigma, pixels (ip_diffim alardMinSig 0.7). */
  basisMinSigma: number;
  /** Polynomial order of the kernel's spatial variation (0-2; default 2: order 1 leaves ~6 corner star residuals per 2k image; README for cost). */
  spatialKernelOrder: number;
  /** 'fixed': spatialKernelOrder; 'cv': the order 0..spatialKernelOrder chosen per pair by 5-fold cross-validation over the candidates (kernel-fit.ts; README: measured). */
  spatialOrderSelection: SpatialOrderSelection;
  /** Polynomial order of the differential background (0-2; default 1). */
  spatialBackgroundOrder: number;
  /** Kernel candidates: cells per image side, stars per cell, minimum flux SNR. */
  candidateGrid: number;
  candidatesPerCell: number;
  candidateMinSnr: number;
  /** Fitted stamp half-side = max(kernel half-side, this * larger FWHM), pixels. */
  stampFwhmScaling: number;
  /** Candidate rejection: mean and scatter of normalised residuals (ip_diffim 0.25 and 1.5). */
  candidateResidualMeanMax: number;
  candidateResidualStdMax: number;
  /**
   * Stars too near the border for a full stamp are candidates on the largest stamp that fits there (down to the
   * smallest that constrains a single fit), counted apart per cell, so the spatial fit sees the border (README).
   */
  borderCandidates: boolean;
  /** Such a border stamp is rejected when its residual scatter exceeds this times the full stamps' median. */
  borderCandidateStdMax: number;
  /** Reject single-fit kernel sums this many sigma from the median (ip_diffim maxKsumSigma 3). */
  maxKernelSumSigma: number;
  /** Rounds of spatial fit and rejection. */
  maxIterations: number;
  /** Apply the DMTN-021 decorrelation afterburner to AL differences. */
  decorrelate: boolean;
  /** FFT tile side for whole-image filtering, a power of two. */
  fftSize: number;
  /** Blend half-width between FFT tiles whose filter varies (decorrelation, ZOGY), pixels. */
  tileBlendPx: number;
  /** Difference-PSF grid: positions per image side. */
  psfGrid: number;
  /** ZOGY: astrometric registration noise per axis, pixels, and fractional PSF/flux-scale error. */
  zogyAstrometricSigmaPx: number;
  zogyPsfErrorFraction: number;
  /** ZOGY: floor on the denominator^2 of eq. 13 relative to its k = 0 value; 0 = exact ZOGY (README: trade-off measured). */
  zogyRegularization: number;
  /** Bright stars' unmatched wings on AL differences: a common radial profile fitted and subtracted when significant (star-halos.ts). */
  starHalos: StarHaloConfig;
  /** Illumination that is not flat: response-mismatch masking and the difference's residual background (illumination.ts). */
  illumination: IlluminationConfig;
  /** Variance of the kernel's model error on static sources, measured on each difference where most compact cores are beyond the noise (model-error.ts). */
  modelError: ModelErrorConfig;
  /**
   * Contrast c3 of the CR test run again on AL differences, where a star hid charge from the science's (difference-cosmic-rays.ts);
   * stricter than the science's 2.5, the difference's noise being both images'. Default 4; 0: off. Pixels near a broken
   * pixel's hole are not judged, so the flood of DIASources that quarantines such an image stays (shared/diffim/README.md).
   */
  differenceCrContrast: number;
  /**
   * Rings of the convolved image's masked garbage (CR, BAD, SAT, NO_DATA) filled with the mean of their known
   * neighbours before the kernel spreads them over the difference (garbage-fill.ts); deeper garbage is read as 0.
   * 0: all of it read as 0 (a cosmic ray on a bright star's wing then left a negative blob beside its mask).
   */
  garbageFillRings: number;
}

export const DEFAULT_SUBTRACT_CONFIG: SubtractConfig = {
  method: 'auto',
  kernelSizeFwhmScaling: 6,
  kernelSizeMin: 21,
  kernelSizeMax: 35,
  basisDegrees: [4, 2, 2],
  basisBeta: 2,
  basisMinSigma: 0.7,
  spatialKernelOrder: 2,
  spatialOrderSelection: 'fixed',
  spatialBackgroundOrder: 1,
  candidateGrid: 8,
  candidatesPerCell: 3,
  candidateMinSnr: 30,
  stampFwhmScaling: 2.5,
  candidateResidualMeanMax: 0.25,
  candidateResidualStdMax: 1.5,
  borderCandidates: true,
  borderCandidateStdMax: 1.5,
  maxKernelSumSigma: 3,
  maxIterations: 3,
  decorrelate: true,
  fftSize: 512,
  tileBlendPx: 16,
  psfGrid: 3,
  zogyAstrometricSigmaPx: 0.05,
  zogyPsfErrorFraction: 0.03,
  zogyRegularization: 0,
  starHalos: DEFAULT_STAR_HALO_CONFIG,
  illumination: DEFAULT_ILLUMINATION_CONFIG,
  modelError: DEFAULT_MODEL_ERROR_CONFIG,
  differenceCrContrast: 4,
  garbageFillRings: 3,
};
