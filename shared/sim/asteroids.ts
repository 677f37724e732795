/**
 * The simulator's asteroids on real two-body orbits from a main-belt-like population, and their
 * elements as the orbit catalogue (`orbits.csv`, shared/solar's MPC columns).
 *
 * Each asteroid is placed at a drawn sky position of the field at the night's mid-time: a
 * heliocentric distance r on an orbit with a in [2.1, 3.3] au and e in [0, 0.25] fixes the distance
 * along the line of sight; the orbit plane contains that position and is tilted by up to
 * MAX_TILT_DEG from the ecliptic, prograde; the velocity has the vis-viva speed and the flight-path
 * angle of (a, e) at r. The state, at light-emission time, is turned into osculating elements at
 * that epoch, and every image then renders the asteroid where shared/solar predicts it (light time
 * and the observatory's parallax included). H follows from the drawn apparent magnitude at the
 * mid-time's geometry (G = 0.15; the band's colour taken as V - band = 0).
 */
import { elementsFromState, MU_SUN, OBLIQUITY_J2000_DEG, prepareOrbit } from '../solar/kepler.js';
import { C_AU_PER_DAY, Predictor, type Prediction } from '../solar/ephemeris.js';
import { observerAt } from '../solar/observer.js';
import type { MpcOrbit } from '../solar/orbit.js';
import { absoluteMagnitude } from '../solar/photometry.js';
import { RUBIN_SITE, type Site } from '../solar/site.js';
import { ttFromTai } from '../solar/time.js';
import type { Rng } from './random.js';
import { RAD_PER_DEG } from '../util/numeric.js';

/** The simulated observatory (written as OBSGEO-B/L/H). */
export const SIM_SITE: Site = RUBIN_SITE;
const SEMI_MAJOR_AU: [number, number] = [2.1, 3.3];
const MAX_E = 0.25;
const MAX_TILT_DEG = 20;
const SLOPE_G = 0.15;

/** A main-belt-like orbit through the direction (ra, dec) seen from SIM_SITE at mjdTai, with apparent V `mag` there. */
export function drawOrbitThrough(
  rng: Rng,
  designation: string,
  ra: number,
  dec: number,
  mjdTai: number,
  mag: number,
): MpcOrbit {
  const obs = observerAt(ttFromTai(mjdTai), SIM_SITE);
  const u = [
    Math.cos(dec * RAD_PER_DEG) * Math.cos(ra * RAD_PER_DEG),
    Math.cos(dec * RAD_PER_DEG) * Math.sin(ra * RAD_PER_DEG),
    Math.sin(dec * RAD_PER_DEG),
  ];
  const o = obs.position;
  const a = rng.between(...SEMI_MAJOR_AU);
  const e = rng.between(0, MAX_E);
  // r between perihelion and aphelion, and beyond the observer (the line of sight must reach it).
  const r = Math.max(
    a * (1 - e) + 1e-6,
    Math.min(a * (1 + e) - 1e-6, rng.between(a * (1 - e), a * (1 + e))),
  );
  const ou = o[0] * u[0] + o[1] * u[1] + o[2] * u[2];
  const delta = -ou + Math.sqrt(ou * ou - (o[0] ** 2 + o[1] ** 2 + o[2] ** 2) + r * r);
  const p = [o[0] + delta * u[0], o[1] + delta * u[1], o[2] + delta * u[2]];
  const ph = p.map((c) => c / r);
  // Orbit normal: the ecliptic pole made perpendicular to the position, then turned about it.
  const pole = [
    0,
    -Math.sin(OBLIQUITY_J2000_DEG * RAD_PER_DEG),
    Math.cos(OBLIQUITY_J2000_DEG * RAD_PER_DEG),
  ];
  const along = pole[0] * ph[0] + pole[1] * ph[1] + pole[2] * ph[2];
  const n0 = pole.map((c, k) => c - along * ph[k]);
  const n0n = Math.hypot(n0[0], n0[1], n0[2]);
  const tilt = rng.between(-MAX_TILT_DEG, MAX_TILT_DEG) * RAD_PER_DEG;
  const t0 = [
    ph[1] * n0[2] - ph[2] * n0[1],
    ph[2] * n0[0] - ph[0] * n0[2],
    ph[0] * n0[1] - ph[1] * n0[0],
  ].map((c) => c / n0n);
  const normal = n0.map((c, k) => (c / n0n) * Math.cos(tilt) + t0[k] * Math.sin(tilt));
  const tangential = [
    normal[1] * ph[2] - normal[2] * ph[1],
    normal[2] * ph[0] - normal[0] * ph[2],
    normal[0] * ph[1] - normal[1] * ph[0],
  ];
  const speed = Math.sqrt(MU_SUN * (2 / r - 1 / a));
  const vt = Math.sqrt(MU_SUN * a * (1 - e * e)) / r;
  const vr = (rng.uniform() < 0.5 ? -1 : 1) * Math.sqrt(Math.max(0, speed * speed - vt * vt));
  const state = [...p, ...tangential.map((c, k) => vt * c + vr * ph[k])];
  const emission = ttFromTai(mjdTai) - delta / C_AU_PER_DAY;
  const orbit = elementsFromState(designation, state, emission, 0, SLOPE_G);
  const at = new Predictor(obs).predict(prepareOrbit(orbit), 0);
  return {
    ...orbit,
    h: absoluteMagnitude(mag, SLOPE_G, at.helioRange, at.topoRange, at.phaseAngle),
  };
}

/** Predicts one orbit from SIM_SITE at mjdTai (TAI). */
export function simPrediction(orbit: MpcOrbit, mjdTai: number): Prediction {
  return new Predictor(observerAt(ttFromTai(mjdTai), SIM_SITE)).predict(prepareOrbit(orbit), 0);
}
