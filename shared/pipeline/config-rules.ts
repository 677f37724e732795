/**
 * The pipeline configuration's rules beyond types: ranges of single settings and relations between
 * settings (e.g. kernelSizeMin <= kernelSizeMax), one rule per setting, each checked by
 * validatePipelineConfig (config.ts). Types themselves are checked against the defaults.
 */

/** A rule on the setting at `path`: a problem ("must be ...") or null. `at` reads another setting. */
export interface ConfigRule {
  path: string;
  problem(value: unknown, at: (path: string) => unknown): string | null;
}

const isInt = (v: unknown): v is number => Number.isInteger(v);
const num = (v: unknown): number => (typeof v === 'number' ? v : Number.NaN);

const positive = (path: string): ConfigRule => ({
  path,
  problem: (v) => (num(v) > 0 ? null : 'must be > 0'),
});
const nonNegative = (path: string): ConfigRule => ({
  path,
  problem: (v) => (num(v) >= 0 ? null : 'must be >= 0'),
});
const fraction = (path: string): ConfigRule => ({
  path,
  problem: (v) => (num(v) >= 0 && num(v) <= 1 ? null : 'must be in [0, 1]'),
});
const intAtLeast = (path: string, lo: number): ConfigRule => ({
  path,
  problem: (v) => (isInt(v) && v >= lo ? null : `must be an integer >= ${lo}`),
});
const intIn = (path: string, lo: number, hi: number): ConfigRule => ({
  path,
  problem: (v) => (isInt(v) && v >= lo && v <= hi ? null : `must be an integer in [${lo}, ${hi}]`),
});
const oneOf = (path: string, values: readonly string[]): ConfigRule => ({
  path,
  problem: (v) =>
    typeof v === 'string' && values.includes(v) ? null : `must be one of ${values.join(', ')}`,
});
const atLeast = (path: string, other: string): ConfigRule => ({
  path,
  problem: (v, at) =>
    num(v) >= num(at(other)) ? null : `must be >= ${other} (${String(at(other))})`,
});

export const PIPELINE_CONFIG_RULES: readonly ConfigRule[] = [
  positive('characterize.minPsfFwhmPx'),
  positive('characterize.defaultFwhmPx'),
  intAtLeast('characterize.minStarsPerTerm', 1),
  intAtLeast('characterize.minStarsPixelModel', 1),
  intAtLeast('characterize.maxPsfStars', 0),
  intAtLeast('characterize.starSelect.maxMeasured', 0),

  intAtLeast('astrometry.patternStars', 3),
  positive('astrometry.matchRadiusPx'),
  intIn('astrometry.maxOrder', 1, 5),
  positive('astrometry.starsPerParameter'),
  positive('astrometry.clipSigma'),
  positive('astrometry.positionErrorFloorPx'),
  nonNegative('astrometry.identityTolerancePx'),
  nonNegative('subtract.illumination.minSkySigmas'),
  fraction('subtract.illumination.lowResponse'),
  fraction('subtract.illumination.minResponse'),
  nonNegative('subtract.illumination.radialTolerance'),
  intAtLeast('subtract.illumination.responseMeshPx', 4),
  intAtLeast('subtract.illumination.responseMaskGrowPx', 0),
  nonNegative('subtract.illumination.structuredSky'),
  intAtLeast('subtract.illumination.structuredMeshPx', 8),
  nonNegative('subtract.illumination.residualMeshFwhm'),
  intAtLeast('subtract.illumination.residualMeshMinPx', 8),
  positive('subtract.illumination.residualSigma'),
  nonNegative('subtract.illumination.residualSignificanceFwhm'),
  nonNegative('subtract.starHalos.innerFwhm'),
  nonNegative('subtract.starHalos.outerFwhm'),
  intAtLeast('subtract.starHalos.bins', 2),
  positive('subtract.starHalos.minPeakSigma'),
  intAtLeast('subtract.starHalos.maxStars', 1),
  nonNegative('subtract.starHalos.minSignificance'),
  positive('subtract.starHalos.clipSigma'),
  nonNegative('subtract.modelError.fluxFraction'),
  nonNegative('subtract.modelError.astrometricSigmaPx'),
  fraction('subtract.modelError.minCoresBeyondNoise'),
  intAtLeast('subtract.modelError.minCores', 1),
  positive('subtract.modelError.minModelSigmas'),
  positive('subtract.modelError.compactBoxFwhm'),
  intAtLeast('subtract.modelError.minPixels', 1),
  oneOf('warp.kernel', ['lanczos3', 'lanczos2']),
  intAtLeast('warp.interpLength', 1),
  positive('warp.maxInterpErrorPx'),
  fraction('warp.minCoverageFraction'),
  intAtLeast('warp.growMaskRadius', 0),
  intAtLeast('warp.threads', 0),

  oneOf('subtract.method', ['al', 'al-convsci', 'auto', 'zogy']),
  positive('subtract.kernelSizeFwhmScaling'),
  intAtLeast('subtract.kernelSizeMin', 3),
  intAtLeast('subtract.kernelSizeMax', 3),
  atLeast('subtract.kernelSizeMax', 'subtract.kernelSizeMin'),
  {
    path: 'subtract.basisDegrees',
    problem: (v) =>
      Array.isArray(v) && v.length > 0 && v.every((d) => isInt(d) && d >= 0)
        ? null
        : 'must be a non-empty list of integers >= 0',
  },
  positive('subtract.basisBeta'),
  positive('subtract.basisMinSigma'),
  intIn('subtract.spatialKernelOrder', 0, 2),
  oneOf('subtract.spatialOrderSelection', ['fixed', 'cv']),
  intIn('subtract.spatialBackgroundOrder', 0, 2),
  intAtLeast('subtract.candidateGrid', 1),
  intAtLeast('subtract.candidatesPerCell', 1),
  positive('subtract.candidateMinSnr'),
  positive('subtract.stampFwhmScaling'),
  positive('subtract.candidateResidualMeanMax'),
  positive('subtract.candidateResidualStdMax'),
  positive('subtract.borderCandidateStdMax'),
  positive('subtract.maxKernelSumSigma'),
  intAtLeast('subtract.maxIterations', 1),
  {
    path: 'subtract.fftSize',
    problem: (v) =>
      isInt(v) && v >= 64 && (v & (v - 1)) === 0 ? null : 'must be a power of two >= 64',
  },
  intAtLeast('subtract.tileBlendPx', 0),
  {
    path: 'subtract.tileBlendPx',
    problem: (v, at) =>
      num(v) * 2 < num(at('subtract.fftSize'))
        ? null
        : `must be less than half of subtract.fftSize (${String(at('subtract.fftSize'))})`,
  },
  intAtLeast('subtract.psfGrid', 1),
  nonNegative('subtract.zogyAstrometricSigmaPx'),
  nonNegative('subtract.zogyPsfErrorFraction'),
  nonNegative('subtract.zogyRegularization'),
  nonNegative('subtract.differenceCrContrast'),
  intAtLeast('subtract.garbageFillRings', 0),

  positive('detect.threshold'),
  nonNegative('detect.growSigmas'),
  nonNegative('detect.minPeakSeparationFwhm'),
  intAtLeast('detect.excludeBits', 0),
  nonNegative('detect.inexactPsfThreshold'),
  intAtLeast('detect.maskGrowBits', 0),
  intAtLeast('detect.maskGrowRadius', 0),
  fraction('detect.minUnmaskedInformation'),
  positive('detect.apertureRadius'),
  nonNegative('detect.dipoleLobeMinSnr'),
  positive('detect.dipoleMaxSeparationFwhm'),
  intAtLeast('detect.psfCellSize', 0),
  intAtLeast('detect.skySources', 0),
  intAtLeast('detect.seed', 0),
  fraction('detect.deblendMinContrast'),

  positive('association.radiusArcsec'),
  nonNegative('association.historyDays'),
  positive('association.knownObjects.nSigma'),
  positive('association.knownObjects.minRadiusArcsec'),
  atLeast('association.knownObjects.maxRadiusArcsec', 'association.knownObjects.minRadiusArcsec'),

  intAtLeast('alerts.cutout.minSize', 1),
  intAtLeast('alerts.cutout.maxSize', 1),
  atLeast('alerts.cutout.maxSize', 'alerts.cutout.minSize'),
  intAtLeast('alerts.psfCellSize', 0),

  nonNegative('limits.minPixelScaleArcsec'),
  atLeast('limits.maxPixelScaleArcsec', 'limits.minPixelScaleArcsec'),
  positive('limits.maxAxisRatio'),
  positive('limits.maxFootprintRadiusDeg'),
  intAtLeast('limits.maxPixels', 1),

  positive('quality.maxDiaSourcesPerMpix'),
  fraction('quality.maxNegativeFraction'),
  intAtLeast('quality.minSourcesForFraction', 1),

  {
    path: 'calibration.zeroPoint',
    problem: (v) =>
      Number.isNaN(v) || (num(v) >= -10 && num(v) <= 50)
        ? null
        : 'must be an AB magnitude of 1 image unit in [-10, 50] (or absent)',
  },
];
