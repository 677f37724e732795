/**
 * Configuration of template building (`ap template`, `buildTemplate`): which inputs are used and how
 * they are combined. Every knob has a documented default in DEFAULT_TEMPLATE_CONFIG;
 * resolveTemplateConfig validates a partial override and names the first bad knob.
 */

/** How what appears in only some inputs (streaks, transients, cosmic rays) is kept out of the coadd. */
export type RejectionMethod = 'compareWarp' | 'clip' | 'none';

/** How CompareWarp PSF-matches the warps before comparing them with their median. */
export type CompareMatch = 'model' | 'gaussian';

/** How inputs are weighted in the coadd. */
export type WeightingMethod = 'depth' | 'variance';

export interface TemplateConfig {
  /** Fewer usable inputs than this make no template ("not enough inputs"). Default 3 (Rubin's minimum). */
  minInputs: number;
  /**
   * Rubin's DP1 selection: the best-seeing `bestFraction` of the inputs that pass the cuts, but at
   * least `minBest` of them when there are that many (fewer than minBest / bestFraction = 36 inputs: the best 12).
   */
  bestFraction: number;
  minBest: number;
  /** Largest PSF FWHM, arcsec. Default 2.0. */
  maxFwhmArcsec: number;
  /**
   * Largest PSF FWHM over the best passing input's (PSF homogeneity): a coadd of 2.5 px and 7 px
   * inputs has a core of the sharp ones and wings of the broad ones, which Alard-Lupton matching
   * does not reproduce exactly (README.md, Measured). Default 2.
   */
  maxFwhmRatio: number;
  /** Largest PSF ellipticity |(ixx - iyy, 2 ixy)| / (ixx + iyy) at the input's centre. Default 0.25. */
  maxEllipticity: number;
  /** Largest deficit of an input's 5-sigma point-source depth below the deepest input's, mag. Default 1.5. */
  maxDepthDeficitMag: number;
  /** Largest sky background over the median input's (both in calibrated flux per arcsec^2; a sky-subtracted input, level below its pixel noise, is not cut). Default 4. */
  maxSkyRatio: number;
  /** Largest astrometric fit rms (header WCSRMS / ASTRRMS, arcsec; inputs without one pass). Default 0.1. */
  maxWcsRmsArcsec: number;
  /** Largest chi^2 per degree of freedom of the stars against the input's PSF model. Default 5. */
  maxPsfChi2: number;
  /** Fewest stars in the input's PSF model. Default 5. */
  minPsfStars: number;
  /** Smallest fraction of the output grid an input must cover to be used at all. Default 0.01. */
  minOverlapFraction: number;
  /** Common zero point of the coadd, AB mag of 1 ADU; NaN: the median of the selected inputs'. */
  zeroPoint: number;
  /** Inputs without a zero point are scaled to one that has by at least this many stars matched within matchRadiusArcsec. Default 5. */
  minMatchedStars: number;
  matchRadiusArcsec: number;
  /**
   * Input weights: 'depth' (default) w = sum(psf^2) / variance, the inverse variance of a point
   * source's flux, which maximises a point source's SNR in the coadd when seeing differs; 'variance'
   * w = 1 / variance per pixel (Rubin's coadd weights).
   */
  weighting: WeightingMethod;
  /** Default 'compareWarp' (DMTN-080), measured better than 'clip' (shared/template/README.md). */
  rejection: RejectionMethod;
  /**
   * compareWarp: 'gaussian' (default) blurs each warp to a common Gaussian by sqrt(s_T^2 - s_i^2);
   * 'model' matches each to one target through its own PSF model (Rubin's ModelPsfMatchTask,
   * model-match.ts), so the inputs' Moffat wings match too and only true excesses are rejected.
   * With 'gaussian' the broad inputs' heavier wings stay above the median around bright stars and
   * are rejected there, which makes those stars' coadd PSF closer to the sharp inputs'; measured
   * on 2048^2 seed 3 that gives 7 false positives of the difference against 13 with 'model'
   * (shared/template/README.md, Measured).
   */
  compareMatch: CompareMatch;
  /** compareWarp: outlier threshold of a PSF-matched warp minus the median of all, in its noise sigma. Default 5. */
  rejectSigma: number;
  /** compareWarp: an outlier must also exceed this fraction of the reference's own value (keeps PSF-mismatch residuals at stars). Default 0.5. */
  rejectRelative: number;
  /** compareWarp: the PSF-matched warps are compared binned rejectBin x rejectBin. Default 2. */
  rejectBin: number;
  /** compareWarp: outlier footprints are grown by this many PSF FWHM of the matched warps. Default 1. */
  rejectGrowFwhm: number;
  /**
   * INEXACT_PSF (inexact-psf.ts): a source of the coadd whose peak reaches this many of its noise
   * sigmas, and where some used input is missing, is flagged over its footprint (its pixels at or
   * above inexactPsfFootprintSigma); detection leaves such pixels out. 0: none flagged.
   */
  inexactPsfPeakSigma: number;
  inexactPsfFootprintSigma: number;
  /**
   * INEXACT_PSF: a source is flagged only where the inputs missing over its footprint (flux-weighted) hold at least
   * this share of the inputs' weight. Default 0.2: the bright-star false positives of the 2048^2
   * bench miss 0.24-0.67; the night's variable stars, whose wings or cosmic-ray pixels miss some
   * inputs, 0.18 at most (shared/template/README.md).
   */
  inexactPsfMissingFraction: number;
  /**
   * Where only some inputs are usable (their edges, rejected pixels), tilt their weights so that the
   * coadd's PSF keeps the width it has where all are (psf-weights.ts): no PSF jump for the
   * difference kernel to miss. Default true.
   */
  psfContinuousWeights: boolean;
  /** clip: per-pixel rejection above/below the median by this many sigma of the input's noise. Default 4. */
  clipSigma: number;
  /**
   * SAT and BAD of the inputs are set in the coadd where the inputs carrying them hold at least this
   * fraction of the weight there (Rubin's maskPropagationThresholds, SAT 0.1): a star saturated in
   * the sharp inputs has a core made of the others, whose shape differs from CoaddPsf. Default 0.1.
   */
  maskPropagationFraction: number;
  /**
   * A coadd pixel that fewer inputs than this cover (their NO_DATA: dithers, rotations) is NO_DATA:
   * with fewer than 3 values CompareWarp has no median to tell an artifact from the sky, and the
   * coadd's PSF there is that of one or two inputs, far from their weighted mean elsewhere, which the
   * smooth difference kernel cannot follow (bright stars at the science image's edges). Default 3.
   */
  minPixelInputs: number;
  /** Polynomial degree in position of the coadd PSF model fitted to CoaddPsf stamps. Default 2. */
  coaddPsfDegree: number;
  /** Nodes per side of the lattice on which CoaddPsf is evaluated for that fit. Default 6. */
  coaddPsfGrid: number;
  /** Output pixel scale of tile grids, arcsec per pixel; NaN: the median input's. */
  tilePixelScaleArcsec: number;
  /** Margin added around a HEALPix tile's bounding box in tile grids, degrees (a footprint centred in the tile still fits). Default 0.05. */
  tileMarginDeg: number;
}

export const DEFAULT_TEMPLATE_CONFIG: Readonly<TemplateConfig> = Object.freeze({
  minInputs: 3,
  bestFraction: 1 / 3,
  minBest: 12,
  maxFwhmArcsec: 2.0,
  maxFwhmRatio: 2,
  maxEllipticity: 0.25,
  maxDepthDeficitMag: 1.5,
  maxSkyRatio: 4,
  maxWcsRmsArcsec: 0.1,
  maxPsfChi2: 5,
  minPsfStars: 5,
  minOverlapFraction: 0.01,
  zeroPoint: Number.NaN,
  minMatchedStars: 5,
  matchRadiusArcsec: 0.5,
  weighting: 'depth',
  rejection: 'compareWarp',
  compareMatch: 'gaussian',
  rejectSigma: 5,
  rejectRelative: 0.5,
  rejectBin: 2,
  rejectGrowFwhm: 1,
  inexactPsfPeakSigma: 300,
  inexactPsfFootprintSigma: 5,
  inexactPsfMissingFraction: 0.2,
  psfContinuousWeights: true,
  clipSigma: 4,
  maskPropagationFraction: 0.1,
  minPixelInputs: 3,
  coaddPsfDegree: 2,
  coaddPsfGrid: 6,
  tilePixelScaleArcsec: Number.NaN,
  tileMarginDeg: 0.05,
});

const REJECTIONS: readonly RejectionMethod[] = ['compareWarp', 'clip', 'none'];

/** The config completed with defaults; throws RangeError('template config <knob> must be ...'). */
export function resolveTemplateConfig(partial: Partial<TemplateConfig> = {}): TemplateConfig {
  const c: TemplateConfig = { ...DEFAULT_TEMPLATE_CONFIG, ...partial };
  const positive = (v: number) => Number.isFinite(v) && v > 0;
  const nanOrPositive = (v: number) => Number.isNaN(v) || positive(v);
  const checks: Array<[keyof TemplateConfig, boolean, string]> = [
    ['minInputs', Number.isInteger(c.minInputs) && c.minInputs >= 1, 'an integer >= 1'],
    ['bestFraction', c.bestFraction > 0 && c.bestFraction <= 1, 'in (0, 1]'],
    ['minBest', Number.isInteger(c.minBest) && c.minBest >= 1, 'an integer >= 1'],
    ['maxFwhmArcsec', positive(c.maxFwhmArcsec), 'positive'],
    ['maxFwhmRatio', c.maxFwhmRatio >= 1, '>= 1'],
    ['maxEllipticity', c.maxEllipticity > 0 && c.maxEllipticity <= 1, 'in (0, 1]'],
    ['maxDepthDeficitMag', c.maxDepthDeficitMag >= 0, 'non-negative'],
    ['maxSkyRatio', c.maxSkyRatio >= 1, '>= 1'],
    ['maxWcsRmsArcsec', positive(c.maxWcsRmsArcsec), 'positive'],
    ['maxPsfChi2', positive(c.maxPsfChi2), 'positive'],
    ['minPsfStars', Number.isInteger(c.minPsfStars) && c.minPsfStars >= 1, 'an integer >= 1'],
    ['minOverlapFraction', c.minOverlapFraction >= 0 && c.minOverlapFraction <= 1, 'in [0, 1]'],
    ['zeroPoint', Number.isNaN(c.zeroPoint) || Number.isFinite(c.zeroPoint), 'NaN or finite'],
    [
      'minMatchedStars',
      Number.isInteger(c.minMatchedStars) && c.minMatchedStars >= 1,
      'an integer >= 1',
    ],
    ['matchRadiusArcsec', positive(c.matchRadiusArcsec), 'positive'],
    ['rejection', REJECTIONS.includes(c.rejection), REJECTIONS.join(', ')],
    ['weighting', c.weighting === 'depth' || c.weighting === 'variance', "'depth' or 'variance'"],
    [
      'compareMatch',
      c.compareMatch === 'model' || c.compareMatch === 'gaussian',
      "'model' or 'gaussian'",
    ],
    ['rejectSigma', positive(c.rejectSigma), 'positive'],
    ['rejectRelative', c.rejectRelative >= 0, 'non-negative'],
    [
      'rejectBin',
      Number.isInteger(c.rejectBin) && c.rejectBin >= 1 && c.rejectBin <= 8,
      'an integer in [1, 8]',
    ],
    ['rejectGrowFwhm', c.rejectGrowFwhm >= 0, 'non-negative'],
    ['inexactPsfPeakSigma', c.inexactPsfPeakSigma >= 0, 'non-negative'],
    ['inexactPsfFootprintSigma', c.inexactPsfFootprintSigma > 0, 'positive'],
    [
      'inexactPsfMissingFraction',
      c.inexactPsfMissingFraction >= 0 && c.inexactPsfMissingFraction <= 1,
      'in [0, 1]',
    ],
    ['psfContinuousWeights', typeof c.psfContinuousWeights === 'boolean', 'true or false'],
    ['clipSigma', positive(c.clipSigma), 'positive'],
    [
      'maskPropagationFraction',
      c.maskPropagationFraction > 0 && c.maskPropagationFraction <= 1,
      'in (0, 1]',
    ],
    [
      'minPixelInputs',
      Number.isInteger(c.minPixelInputs) && c.minPixelInputs >= 1,
      'an integer >= 1',
    ],
    [
      'coaddPsfDegree',
      Number.isInteger(c.coaddPsfDegree) && c.coaddPsfDegree >= 0 && c.coaddPsfDegree <= 4,
      'an integer in [0, 4]',
    ],
    [
      'coaddPsfGrid',
      Number.isInteger(c.coaddPsfGrid) && c.coaddPsfGrid >= c.coaddPsfDegree + 1,
      'an integer > coaddPsfDegree',
    ],
    ['tilePixelScaleArcsec', nanOrPositive(c.tilePixelScaleArcsec), 'NaN or positive'],
    ['tileMarginDeg', c.tileMarginDeg >= 0 && c.tileMarginDeg < 1, 'in [0, 1)'],
  ];
  for (const [name, ok, what] of checks) {
    if (!ok)
      throw new RangeError(
        `template config ${name} must be ${what}, got ${JSON.stringify(c[name])}`,
      );
  }
  return c;
}
