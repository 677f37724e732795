/**
 * Configuration of the sky simulator (`ap simulate`, `simulateNight`). Every knob has a documented
 * default in DEFAULT_SIM_CONFIG; everything random is drawn from `seed`.
 */

/** Whether the template has better or worse seeing than every science visit. */
export type TemplateSeeing = 'better' | 'worse' | 'random';

export interface SimConfig {
  /** Side of the square detector, pixels. */
  size: number;
  /** Seed of every random draw; the same config and seed give the same images, bit for bit. */
  seed: number;
  /** Number of science visits (the template is extra). */
  visits: number;
  /** Detector number written to DETECTOR and VisitInfo.detector. */
  detector: number;
  /** Filter band (FILTER card). */
  band: string;
  /** Field centre (ICRS), degrees. */
  ra: number;
  dec: number;
  /** Pixel scale, arcsec per pixel. */
  pixelScaleArcsec: number;
  /** SIP distortion at the detector corners, pixels (the same camera distortion for every visit). */
  distortionPx: number;
  /** Largest pointing dither, pixels (uniform in +-ditherPx along each axis). */
  ditherPx: number;
  /** Range of the per-visit rotation magnitude, degrees (random sign). */
  rotationDeg: [number, number];

  /** Science exposure time, seconds. */
  exposureTime: number;
  /** The template's exposure time in units of the science exposure time (its depth). */
  templateDepth: number;
  /** Template seeing relative to the science visits; 'random' picks one from the seed. */
  templateSeeing: TemplateSeeing;
  /** The template's PSF FWHM at the detector centre, pixels; 0 (default): drawn per templateSeeing. */
  templateFwhmPx: number;
  /** Range of the science visits' PSF FWHM at the detector centre, pixels. */
  fwhmRangePx: [number, number];
  /** Peak-to-peak fractional change of the FWHM across the detector. */
  fwhmVariation: number;
  /** Range of the Moffat beta. */
  moffatBeta: [number, number];
  /** Largest PSF ellipticity (1 - b/a) at the detector corners. */
  psfEllipticity: number;

  /** Gain, electrons per ADU. */
  gain: number;
  /** Read noise, electrons. */
  readNoise: number;
  /** Saturation (full well over gain), ADU. */
  saturation: number;
  /** AB magnitude giving 1 electron per second at transparency 1. */
  zeroPointElectrons: number;
  /** Range of the per-visit transparency (photometric scale), template included. */
  transparency: [number, number];
  /** Range of the mean sky level of a science exposure, ADU (the template's scales with its depth). */
  skyAdu: [number, number];
  /** Peak-to-peak fractional sky gradient across the detector. */
  skyGradient: number;

  /** Stars per square megapixel between starMag[0] and starMag[1]. */
  starsPerMegapixel: number;
  /** Star magnitude range, AB (bright end saturates, faint end is below the detection limit). */
  starMag: [number, number];
  /** Slope of the star luminosity function, dN/dm ~ 10^(slope m). */
  starSlope: number;
  /** Galaxies per square megapixel between galaxyMag[0] and galaxyMag[1]. */
  galaxiesPerMegapixel: number;
  galaxyMag: [number, number];
  galaxySlope: number;
  /** Sersic index range. */
  sersicN: [number, number];
  /** Half-light radius of a galaxy of magnitude 20, arcsec (fainter ones are smaller). */
  galaxyRadiusArcsec: number;

  /** Transients per square megapixel, in every science visit. */
  transientsPerMegapixel: number;
  /** Fraction of transients on a host galaxy. */
  hostFraction: number;
  /** Transient magnitudes span [limit - transientMagSpan[0], limit + transientMagSpan[1]] around the science 5-sigma limit. */
  transientMagSpan: [number, number];
  /** Variable stars per square megapixel. */
  variablesPerMegapixel: number;
  /** Range of the variables' amplitude, magnitudes. */
  variableAmplitudeMag: [number, number];
  /** Moving objects (asteroids) per square megapixel. */
  movingPerMegapixel: number;
  /** Range of the asteroids' apparent rate, degrees per day. */
  movingRateDegPerDay: [number, number];

  /** Cosmic rays per square megapixel in one science exposure. */
  cosmicRaysPerMegapixel: number;
  /** Hot pixels per square megapixel (fixed per detector). */
  hotPixelsPerMegapixel: number;
  /** Probability of a satellite streak in a science visit. */
  streakProbability: number;
  /** Give the template cosmic rays, defects and streaks too (a single deep exposure rather than a clean coadd). */
  templateArtifacts: boolean;

  /** MJD (TAI) of the first science visit. */
  startMjd: number;
  /** Time between science visits, minutes. */
  visitSpacingMinutes: number;
  /** Days between the template and the first science visit. */
  templateAgeDays: number;

  // Real-world effects (real-world.ts), all off by default.
  /** Radius of the clear circular field of view as a fraction of the detector's half-side; 0 (default) = flat response. */
  vignetteRadius: number;
  /** Width of the response's raised-cosine fall beyond vignetteRadius, pixels. */
  vignetteEdgePx: number;
  /** Relative response beyond the edge (light of sky and sources alike). */
  vignetteFloor: number;
  /** Peak surface brightness of diffuse nebulae as a fraction of the mean science sky; 0 (default) = none. */
  diffuseLightFraction: number;
  /** Gaussian sigma of a nebula, pixels (0.6-1.4 times this). */
  diffuseLightScalePx: number;
  /** Nebulae per square megapixel (at least one when diffuse light is on). */
  diffuseLightPerMegapixel: number;
  /** Offset of each science header's WCS from the truth, arcsec (random direction); the template's stays true. */
  wcsErrorArcsec: number;
  /** Rotation of each science header's WCS, degrees (random sign). */
  wcsErrorRotationDeg: number;
  /** Fractional pixel-scale error of each science header's WCS (random sign). */
  wcsErrorScale: number;
  /** Write the WCS cards (default true); false gives pairs registered only by their stars. */
  writeWcs: boolean;
  /** Write SATURATE (default true). */
  writeSaturate: boolean;
  /** Write GAIN and RDNOISE (default true). */
  writeGain: boolean;
  /** Pixel values in units of this many per ADU (default 1: ADU); the header's GAIN, SATURATE, PHOTZP follow. */
  unitScale: number;
  /** BUNIT of the pixels (default 'adu'). */
  unit: string;
}

export const DEFAULT_SIM_CONFIG: SimConfig = {
  size: 1024,
  seed: 1,
  visits: 2,
  detector: 42,
  band: 'r',
  ra: 150.1,
  dec: 2.2,
  pixelScaleArcsec: 0.2,
  distortionPx: 1.5,
  ditherPx: 40,
  rotationDeg: [0.01, 0.05],

  exposureTime: 30,
  templateDepth: 4,
  templateSeeing: 'random',
  templateFwhmPx: 0,
  fwhmRangePx: [2.5, 5],
  fwhmVariation: 0.08,
  moffatBeta: [3, 4.5],
  psfEllipticity: 0.06,

  gain: 1.5,
  readNoise: 5,
  saturation: 50000,
  zeroPointElectrons: 28,
  transparency: [0.75, 1],
  skyAdu: [400, 1200],
  skyGradient: 0.06,

  starsPerMegapixel: 2000,
  starMag: [14, 26],
  starSlope: 0.3,
  galaxiesPerMegapixel: 300,
  galaxyMag: [17, 25],
  galaxySlope: 0.35,
  sersicN: [0.5, 4],
  galaxyRadiusArcsec: 1.6,

  transientsPerMegapixel: 40,
  hostFraction: 0.6,
  transientMagSpan: [3, 0.5],
  variablesPerMegapixel: 10,
  variableAmplitudeMag: [0.1, 0.8],
  movingPerMegapixel: 3,
  movingRateDegPerDay: [0.05, 1.5],

  cosmicRaysPerMegapixel: 80,
  hotPixelsPerMegapixel: 30,
  streakProbability: 0.4,
  templateArtifacts: false,

  startMjd: 61000.2,
  visitSpacingMinutes: 30,
  templateAgeDays: 200,

  vignetteRadius: 0,
  vignetteEdgePx: 80,
  vignetteFloor: 0.15,
  diffuseLightFraction: 0,
  diffuseLightScalePx: 60,
  diffuseLightPerMegapixel: 4,
  wcsErrorArcsec: 0,
  wcsErrorRotationDeg: 0,
  wcsErrorScale: 0,
  writeWcs: true,
  writeSaturate: true,
  writeGain: true,
  unitScale: 1,
  unit: 'adu',
};

/**
 * `ap simulate --crowded`: a crowded field as the classic toolchains are benchmarked on (issue 19):
 * ~10,000 stars above the science visits' 5-sigma limit on a 4096^2 detector (3,000 per square
 * megapixel between starMag, 1.5x the default), a template twice as deep as the default (8
 * exposures) at better seeing, 3.0 px against the visits' 4.2 px, ~400 transients (24 per square
 * megapixel) and a plain TAN WCS (no distortion) with the default small dither and rotation.
 */
export const CROWDED_SIM_CONFIG: Partial<SimConfig> = {
  starsPerMegapixel: 3000,
  templateDepth: 8,
  templateSeeing: 'better',
  templateFwhmPx: 3.0,
  fwhmRangePx: [4.2, 4.2],
  transientsPerMegapixel: 24,
  distortionPx: 0,
};

/** The config completed with defaults; throws RangeError naming the first bad knob. */
export function resolveSimConfig(partial: Partial<SimConfig> = {}): SimConfig {
  const config: SimConfig = { ...DEFAULT_SIM_CONFIG, ...partial };
  const checks: Array<[keyof SimConfig, boolean, string]> = [
    [
      'size',
      Number.isInteger(config.size) && config.size >= 64 && config.size <= 16384,
      'an integer in [64, 16384]',
    ],
    ['seed', Number.isFinite(config.seed), 'a finite number'],
    [
      'visits',
      Number.isInteger(config.visits) && config.visits >= 1 && config.visits <= 100,
      'an integer in [1, 100]',
    ],
    ['exposureTime', config.exposureTime > 0, 'positive'],
    ['templateDepth', config.templateDepth > 0, 'positive'],
    [
      'templateFwhmPx',
      config.templateFwhmPx === 0 || config.templateFwhmPx > 0.5,
      '0 (drawn) or above 0.5',
    ],
    ['gain', config.gain > 0, 'positive'],
    ['readNoise', config.readNoise >= 0, 'non-negative'],
    ['saturation', config.saturation > 0, 'positive'],
    ['pixelScaleArcsec', config.pixelScaleArcsec > 0, 'positive'],
    ['hostFraction', config.hostFraction >= 0 && config.hostFraction <= 1, 'in [0, 1]'],
    [
      'streakProbability',
      config.streakProbability >= 0 && config.streakProbability <= 1,
      'in [0, 1]',
    ],
    [
      'fwhmRangePx',
      config.fwhmRangePx[0] > 0.5 && config.fwhmRangePx[1] >= config.fwhmRangePx[0],
      'an increasing pair above 0.5',
    ],
    [
      'moffatBeta',
      config.moffatBeta[0] > 1.5 && config.moffatBeta[1] >= config.moffatBeta[0],
      'an increasing pair above 1.5',
    ],
    ['vignetteRadius', config.vignetteRadius >= 0, 'non-negative'],
    ['vignetteFloor', config.vignetteFloor > 0 && config.vignetteFloor <= 1, 'in (0, 1]'],
    ['diffuseLightFraction', config.diffuseLightFraction >= 0, 'non-negative'],
    ['diffuseLightScalePx', config.diffuseLightScalePx > 0, 'positive'],
    ['wcsErrorArcsec', config.wcsErrorArcsec >= 0, 'non-negative'],
    ['wcsErrorRotationDeg', config.wcsErrorRotationDeg >= 0, 'non-negative'],
    ['wcsErrorScale', config.wcsErrorScale >= 0 && config.wcsErrorScale < 0.5, 'in [0, 0.5)'],
    ['unitScale', config.unitScale > 0 && Number.isFinite(config.unitScale), 'positive'],
    [
      'templateSeeing',
      ['better', 'worse', 'random'].includes(config.templateSeeing),
      "'better', 'worse' or 'random'",
    ],
  ];
  for (const [name, ok, what] of checks) {
    if (!ok)
      throw new RangeError(
        `sim config ${name} must be ${what}, got ${JSON.stringify(config[name])}`,
      );
  }
  return config;
}

/** Number of square megapixels of a config's detector. */
export function megapixels(config: SimConfig): number {
  return (config.size * config.size) / 1e6;
}
