/**
 * What each simulated image looks like before any pixel is drawn: pointing and distortion (WCS),
 * PSF, sky, transparency, zero point, epoch, satellite streak; and the detector's fixed defects.
 */
import { cdMatrix, makeSipWcs, type Wcs } from '../wcs/index.js';
import { TangentPlane } from '../wcs/sphere.js';
import type { SimConfig } from './config.js';
import { MoffatPsf } from './moffat.js';
import { rngStream, type Rng } from './random.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

/** A satellite trail crossing the image: through (x, y) at angle (radians from +x). */
export interface Streak {
  id: number;
  x: number;
  y: number;
  angle: number;
  /** Flux per unit length along the trail, ADU per pixel. */
  fluxPerPixel: number;
}

export interface ImageSpec {
  /** File stem: 'template' or 'science-<k>'. */
  name: string;
  /** VISIT card: 0 for the template, k for science-k. */
  visit: number;
  isTemplate: boolean;
  /** Exposure midpoint, MJD (TAI). */
  mjd: number;
  exposureTime: number;
  /** Fraction of the light that reaches the detector (photometric scale). */
  transparency: number;
  /** PHOTZP: AB magnitude of 1 ADU. */
  zeroPoint: number;
  /** Mean sky, ADU per pixel. */
  skyAdu: number;
  /** Sky(u, v) = skyAdu (1 + skyGradU u + skyGradV v), u, v in [-1, 1] across the detector. */
  skyGradU: number;
  skyGradV: number;
  psf: MoffatPsf;
  wcs: Wcs;
  streak: Streak | null;
  /** Cosmic rays and detector defects are drawn in this image. */
  artifacts: boolean;
}

/** Fixed per detector: the same in every exposure it takes. */
export interface Defects {
  hotPixels: Array<{ x: number; y: number; electronsPerSecond: number }>;
  /** A hot column segment from y0 to y1 inclusive. */
  badColumn: { x: number; y0: number; y1: number; electronsPerSecond: number };
}

/** SIP terms of the camera distortion: a radial term reaching distortionPx at the corners, plus a small quadratic. */
function cameraDistortion(config: SimConfig): {
  a: Record<string, number>;
  b: Record<string, number>;
} {
  const rng = rngStream(config.seed, 'camera');
  const half = (config.size - 1) / 2;
  const k = (config.distortionPx * (rng.uniform() < 0.5 ? -1 : 1)) / Math.pow(half * Math.SQRT2, 3);
  const quad = config.distortionPx / 3 / (half * half);
  const c1 = quad * rng.between(-1, 1);
  const c2 = quad * rng.between(-1, 1);
  return {
    a: { '3_0': k, '1_2': k, '2_0': c1, '0_2': c2 },
    b: { '2_1': k, '0_3': k, '1_1': c1, '0_2': c2 },
  };
}

function visitWcs(config: SimConfig, rng: Rng): Wcs {
  const plane = new TangentPlane(config.ra, config.dec);
  const pointing = new Float64Array(2);
  const scaleDeg = config.pixelScaleArcsec / ARCSEC_PER_DEG;
  plane.toSky(
    rng.between(-1, 1) * config.ditherPx * scaleDeg,
    rng.between(-1, 1) * config.ditherPx * scaleDeg,
    pointing,
  );
  const rotation =
    rng.between(config.rotationDeg[0], config.rotationDeg[1]) * (rng.uniform() < 0.5 ? -1 : 1);
  const centre = (config.size - 1) / 2;
  return makeSipWcs({
    crpix: [centre, centre],
    crval: [pointing[0], pointing[1]],
    cd: cdMatrix(config.pixelScaleArcsec, rotation),
    ...cameraDistortion(config),
  });
}

function psfFor(config: SimConfig, rng: Rng, fwhm: number): MoffatPsf {
  const camera = rngStream(config.seed, 'camera-psf');
  const astig = config.psfEllipticity * camera.between(0.5, 1);
  const fv = config.fwhmVariation;
  const phi = rng.between(0, 2 * Math.PI);
  return new MoffatPsf({
    size: config.size,
    fwhm,
    beta: rng.between(config.moffatBeta[0], config.moffatBeta[1]),
    gradU: 0.25 * fv * Math.cos(phi),
    gradV: 0.25 * fv * Math.sin(phi),
    curvature: 0.25 * fv * (rng.uniform() < 0.5 ? -1 : 1),
    e1c: (config.psfEllipticity / 3) * rng.between(-1, 1),
    e2c: (config.psfEllipticity / 3) * rng.between(-1, 1),
    astig,
  });
}

function streakFor(config: SimConfig, rng: Rng, visit: number): Streak | null {
  if (rng.uniform() >= config.streakProbability) return null;
  return {
    id: visit,
    x: rng.between(0.2, 0.8) * config.size,
    y: rng.between(0.2, 0.8) * config.size,
    angle: rng.between(0, Math.PI),
    fluxPerPixel: rng.between(100, 1500) * (config.exposureTime / 30),
  };
}

function imageSpec(config: SimConfig, visit: number, fwhm: number, rng: Rng): ImageSpec {
  const isTemplate = visit === 0;
  const exposureTime = config.exposureTime * (isTemplate ? config.templateDepth : 1);
  const transparency = rng.between(config.transparency[0], config.transparency[1]);
  const skyAngle = rng.between(0, 2 * Math.PI);
  const norm = Math.abs(Math.cos(skyAngle)) + Math.abs(Math.sin(skyAngle));
  const artifacts = !isTemplate || config.templateArtifacts;
  return {
    name: isTemplate ? 'template' : `science-${visit}`,
    visit,
    isTemplate,
    mjd: isTemplate
      ? config.startMjd - config.templateAgeDays
      : config.startMjd + ((visit - 1) * config.visitSpacingMinutes) / 1440,
    exposureTime,
    transparency,
    zeroPoint:
      config.zeroPointElectrons + 2.5 * Math.log10((exposureTime * transparency) / config.gain),
    skyAdu: rng.between(config.skyAdu[0], config.skyAdu[1]) * (exposureTime / config.exposureTime),
    skyGradU: (0.5 * config.skyGradient * Math.cos(skyAngle)) / norm,
    skyGradV: (0.5 * config.skyGradient * Math.sin(skyAngle)) / norm,
    psf: psfFor(config, rng, fwhm),
    wcs: visitWcs(config, rng),
    streak: artifacts ? streakFor(config, rng, visit) : null,
    artifacts,
  };
}

/** The template and science image specs; the template's seeing is better or worse than every visit's. */
export function planImages(config: SimConfig): { template: ImageSpec; visits: ImageSpec[] } {
  const seeing = rngStream(config.seed, 'seeing');
  const fwhms = Array.from({ length: config.visits }, () =>
    seeing.between(config.fwhmRangePx[0], config.fwhmRangePx[1]),
  );
  const better =
    config.templateSeeing === 'random'
      ? seeing.uniform() < 0.5
      : config.templateSeeing === 'better';
  const drawn = better
    ? Math.max(1.5, Math.min(...fwhms) * seeing.between(0.7, 0.88))
    : Math.max(...fwhms) * seeing.between(1.12, 1.3);
  const templateFwhm = config.templateFwhmPx > 0 ? config.templateFwhmPx : drawn;
  const visits = fwhms.map((fwhm, k) =>
    imageSpec(config, k + 1, fwhm, rngStream(config.seed, `visit-${k + 1}`)),
  );
  return {
    template: imageSpec(config, 0, templateFwhm, rngStream(config.seed, 'visit-0')),
    visits,
  };
}

/** Hot pixels and one hot column segment, drawn from the detector number (the same for every seed). */
export function detectorDefects(config: SimConfig): Defects {
  const rng = rngStream(config.detector, 'defects');
  const count = Math.round((config.hotPixelsPerMegapixel * config.size * config.size) / 1e6);
  const hotPixels = Array.from({ length: count }, () => ({
    x: rng.int(config.size),
    y: rng.int(config.size),
    electronsPerSecond: Math.exp(rng.between(Math.log(5), Math.log(500))),
  }));
  const y0 = rng.int(Math.floor(config.size / 2));
  return {
    hotPixels,
    badColumn: {
      x: Math.floor(rng.between(0.1, 0.9) * config.size),
      y0,
      y1: config.size - 1,
      electronsPerSecond: rng.between(30, 100),
    },
  };
}
