/**
 * The sky of one simulated field: static stars and galaxies, and what changes between epochs
 * (transients, variable stars, asteroids). Positions are in ICRS degrees so that every dithered
 * visit sees the same sky; brightnesses are AB magnitudes as functions of time.
 */
import { TangentPlane } from '../wcs/sphere.js';
import { megapixels, type SimConfig } from './config.js';
import { rngStream, type Rng } from './random.js';
import type { MpcOrbit } from '../solar/orbit.js';
import { drawOrbitThrough, simPrediction } from './asteroids.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

/** Stars as parallel arrays (tens of thousands of them on a large detector). */
export interface StarList {
  ra: Float64Array;
  dec: Float64Array;
  mag: Float64Array;
}

export interface Galaxy {
  id: number;
  ra: number;
  dec: number;
  mag: number;
  sersicN: number;
  /** Half-light radius (geometric mean of the axes), arcsec. */
  reArcsec: number;
  /** Minor over major axis. */
  axisRatio: number;
  /** Major-axis position angle, degrees east of north. */
  paDeg: number;
  /** Tangent-plane offset from the field centre, arcsec (east, north). */
  xi: number;
  eta: number;
}

/** A new source, absent from the template: mag(t) = mag + slopeMagPerDay (t - mjd0). */
export interface Transient {
  id: number;
  ra: number;
  dec: number;
  mag: number;
  mjd0: number;
  slopeMagPerDay: number;
  /** Host galaxy id, or -1 when hostless. */
  hostId: number;
}

/** A periodic variable star: mag(t) = mag + amplitude/2 sin(2 pi (t / period + phase)). */
export interface VariableStar {
  id: number;
  ra: number;
  dec: number;
  mag: number;
  amplitudeMag: number;
  periodDays: number;
  phase: number;
}

/** An asteroid on a two-body orbit (./asteroids.ts): `mag` is its apparent magnitude at the night's mid-time. */
export interface MovingObject {
  id: number;
  mag: number;
  orbit: MpcOrbit;
}

export interface SkyField {
  /** Field centre, degrees: the tangent point of every xi, eta. */
  ra: number;
  dec: number;
  stars: StarList;
  galaxies: Galaxy[];
  transients: Transient[];
  variables: VariableStar[];
  moving: MovingObject[];
}

/** Half-side (arcsec) of the sky square holding static sources: the detector plus dithers and a PSF margin. */
export function fieldHalfArcsec(config: SimConfig): number {
  return (config.size / 2 + config.ditherPx + 64) * config.pixelScaleArcsec;
}

/** Half-side (arcsec) of the square every visit covers: changes are placed inside it. */
export function innerHalfArcsec(config: SimConfig): number {
  return (
    Math.max(config.size / 4, config.size / 2 - config.ditherPx - 30) * config.pixelScaleArcsec
  );
}

/** A magnitude from dN/dm ~ 10^(slope m) on [lo, hi] by inverting its cumulative distribution. */
export function powerLawMag(rng: Rng, slope: number, lo: number, hi: number): number {
  const a = Math.pow(10, slope * lo);
  const b = Math.pow(10, slope * hi);
  return Math.log10(a + rng.uniform() * (b - a)) / slope;
}

/** Poisson count of sources at `perMegapixel` over a square of half-side `halfArcsec`. */
function countIn(rng: Rng, config: SimConfig, perMegapixel: number, halfArcsec: number): number {
  const sidePx = (2 * halfArcsec) / config.pixelScaleArcsec;
  return rng.poisson((perMegapixel * sidePx * sidePx) / 1e6);
}

/** Sky position (degrees) of a tangent-plane offset (arcsec) from the field centre. */
export function offsetToSky(plane: TangentPlane, xi: number, eta: number): [number, number] {
  const out = new Float64Array(2);
  plane.toSky(xi / ARCSEC_PER_DEG, eta / ARCSEC_PER_DEG, out);
  return [out[0], out[1]];
}

/**
 * Draws the field. `limitMag` is the science visits' 5-sigma point-source limit, around which
 * transient and asteroid magnitudes are spread.
 */
export function drawField(config: SimConfig, limitMag: number): SkyField {
  const plane = new TangentPlane(config.ra, config.dec);
  const outer = fieldHalfArcsec(config);
  const inner = innerHalfArcsec(config);

  const starRng = rngStream(config.seed, 'stars');
  const nStars = countIn(starRng, config, config.starsPerMegapixel, outer);
  const stars: StarList = {
    ra: new Float64Array(nStars),
    dec: new Float64Array(nStars),
    mag: new Float64Array(nStars),
  };
  for (let i = 0; i < nStars; i++) {
    [stars.ra[i], stars.dec[i]] = offsetToSky(
      plane,
      starRng.between(-outer, outer),
      starRng.between(-outer, outer),
    );
    stars.mag[i] = powerLawMag(starRng, config.starSlope, config.starMag[0], config.starMag[1]);
  }

  const galRng = rngStream(config.seed, 'galaxies');
  const nGalaxies = countIn(galRng, config, config.galaxiesPerMegapixel, outer);
  const galaxies: Galaxy[] = [];
  for (let id = 0; id < nGalaxies; id++) {
    const xi = galRng.between(-outer, outer);
    const eta = galRng.between(-outer, outer);
    const [ra, dec] = offsetToSky(plane, xi, eta);
    const mag = powerLawMag(galRng, config.galaxySlope, config.galaxyMag[0], config.galaxyMag[1]);
    // Fainter galaxies are smaller (about x2 per 5 mag), with 0.15 dex scatter.
    const reArcsec =
      config.galaxyRadiusArcsec * Math.pow(10, -0.06 * (mag - 20) + 0.15 * galRng.normal());
    galaxies.push({
      id,
      ra,
      dec,
      mag,
      sersicN: galRng.between(config.sersicN[0], config.sersicN[1]),
      reArcsec: Math.max(0.15, reArcsec),
      axisRatio: galRng.between(0.3, 1),
      paDeg: galRng.between(0, 180),
      xi,
      eta,
    });
  }

  const transients = drawTransients(config, plane, galaxies, inner, limitMag);
  const variables = drawVariables(config, plane, inner);
  const moving = drawMoving(config, plane, inner, limitMag);
  return { ra: config.ra, dec: config.dec, stars, galaxies, transients, variables, moving };
}

function drawTransients(
  config: SimConfig,
  plane: TangentPlane,
  galaxies: Galaxy[],
  inner: number,
  limitMag: number,
): Transient[] {
  const rng = rngStream(config.seed, 'transients');
  const count = Math.round(config.transientsPerMegapixel * megapixels(config));
  // Candidate hosts, each used once (two supernovae in one galaxy on one night would be a rarity).
  const hosts = galaxies.filter(
    (g) => Math.abs(g.xi) < inner && Math.abs(g.eta) < inner && g.mag < config.galaxyMag[1] - 1,
  );
  const transients: Transient[] = [];
  for (let id = 0; id < count; id++) {
    let xi = rng.between(-inner, inner);
    let eta = rng.between(-inner, inner);
    let hostId = -1;
    if (hosts.length > 0 && rng.uniform() < config.hostFraction) {
      const [host] = hosts.splice(rng.int(hosts.length), 1);
      // Offset along the host's own ellipse, 0.2 to 1.5 half-light radii from the nucleus.
      const r = host.reArcsec * rng.between(0.2, 1.5);
      const phi = rng.between(0, 2 * Math.PI);
      const along = (r / Math.sqrt(host.axisRatio)) * Math.cos(phi);
      const across = r * Math.sqrt(host.axisRatio) * Math.sin(phi);
      const pa = (host.paDeg * Math.PI) / 180;
      xi = host.xi + along * Math.sin(pa) - across * Math.cos(pa);
      eta = host.eta + along * Math.cos(pa) + across * Math.sin(pa);
      hostId = host.id;
    }
    const [ra, dec] = offsetToSky(plane, xi, eta);
    transients.push({
      id,
      ra,
      dec,
      mag: rng.between(
        limitMag - config.transientMagSpan[0],
        limitMag + config.transientMagSpan[1],
      ),
      mjd0: config.startMjd,
      slopeMagPerDay: rng.between(-0.5, 0.5),
      hostId,
    });
  }
  return transients;
}

function drawVariables(config: SimConfig, plane: TangentPlane, inner: number): VariableStar[] {
  const rng = rngStream(config.seed, 'variables');
  const count = Math.round(config.variablesPerMegapixel * megapixels(config));
  return Array.from({ length: count }, (_, id) => {
    const [ra, dec] = offsetToSky(plane, rng.between(-inner, inner), rng.between(-inner, inner));
    return {
      id,
      ra,
      dec,
      mag: rng.between(17, 22.5),
      amplitudeMag: rng.between(config.variableAmplitudeMag[0], config.variableAmplitudeMag[1]),
      periodDays: rng.between(0.1, 3),
      phase: rng.uniform(),
    };
  });
}

/** Tries per asteroid to draw an orbit whose apparent rate lies in config.movingRateDegPerDay. */
const RATE_TRIES = 20;

function drawMoving(
  config: SimConfig,
  plane: TangentPlane,
  inner: number,
  limitMag: number,
): MovingObject[] {
  const rng = rngStream(config.seed, 'moving');
  // At least one asteroid whenever any are asked for, however small the detector.
  const count =
    config.movingPerMegapixel > 0
      ? Math.max(1, Math.round(config.movingPerMegapixel * megapixels(config)))
      : 0;
  // Placed at the middle of the science visits, inside the common footprint.
  const midMjd = config.startMjd + ((config.visits - 1) * config.visitSpacingMinutes) / 2880;
  const sky = new Float64Array(2);
  const [lo, hi] = config.movingRateDegPerDay;
  return Array.from({ length: count }, (_, id) => {
    const mag = rng.between(limitMag - 3, limitMag - 0.5);
    plane.toSky(
      rng.between(-inner, inner) / ARCSEC_PER_DEG,
      rng.between(-inner, inner) / ARCSEC_PER_DEG,
      sky,
    );
    const designation = `SIM${config.seed}D${config.detector}A${id}`;
    let orbit = drawOrbitThrough(rng, designation, sky[0], sky[1], midMjd, mag);
    for (let k = 1; k < RATE_TRIES; k++) {
      const p = simPrediction(orbit, midMjd);
      const rate = Math.hypot(p.raRate, p.decRate);
      if (rate >= lo && rate <= hi) break;
      orbit = drawOrbitThrough(rng, designation, sky[0], sky[1], midMjd, mag);
    }
    return { id, mag, orbit };
  });
}

/** Magnitude of a variable star at time mjd. */
export function variableMag(v: VariableStar, mjd: number): number {
  return v.mag + (v.amplitudeMag / 2) * Math.sin(2 * Math.PI * (mjd / v.periodDays + v.phase));
}

/** Magnitude of a transient at time mjd (it exists only in the science visits). */
export function transientMag(t: Transient, mjd: number): number {
  return t.mag + t.slopeMagPerDay * (mjd - t.mjd0);
}
