/**
 * Topocentric astrometric ephemerides of known objects: where each orbit puts its object as seen
 * from the observatory at an instant, with rates, distances, angles and the H, G magnitude.
 *
 * Light time is iterated (tau = |rho| / c, three passes: the change after the third is below a
 * microsecond for objects beyond 0.01 au). The position is astrometric (geometric, light-time
 * corrected, J2000 equatorial; no stellar aberration), the frame in which an image's WCS, fitted to
 * catalogue stars, measures its sources (Meeus, "Astronomical Algorithms", 2nd ed., ch. 33).
 */
import { hgMagnitude } from './photometry.js';
import { stateAt, MU_SUN, type PreparedOrbit } from './kepler.js';
import type { ObserverAt } from './observer.js';
import { ARCSEC_PER_DEG, DEG_PER_RAD } from '../util/numeric.js';

/** Speed of light, au/day (IAU 2012: c = 299792458 m/s, au = 149597870700 m). */
export const C_AU_PER_DAY = (299792458 * 86400) / 149597870700;
const LIGHT_TIME_PASSES = 3;

export interface Prediction {
  /** Index of the orbit in the list predicted. */
  index: number;
  /** Astrometric J2000 right ascension and declination, degrees. */
  ra: number;
  dec: number;
  /** Rates: RA (times cos Dec) and Dec, degrees per day. */
  raRate: number;
  decRate: number;
  /** Topocentric and heliocentric distances (au) at light-emission time, and their rates (au/day). */
  topoRange: number;
  topoRangeRate: number;
  helioRange: number;
  helioRangeRate: number;
  /** Sun-object-observer angle and Sun-observer-object angle, degrees. */
  phaseAngle: number;
  elongation: number;
  /** Predicted V magnitude (H, G system). */
  vMag: number;
  /** Heliocentric and topocentric state (au, au/day) at light-emission time, J2000 equatorial. */
  helio: Float64Array;
  topo: Float64Array;
  /** One-sigma uncertainty of the predicted position, arcsec (see predictionSigmaArcsec). */
  sigmaArcsec: number;
}

/** What the uncertainty of a prediction is made of (see predictionSigmaArcsec). */
export interface EphemerisErrorModel {
  /** Position error of the observer (Earth theory, site, time scales), au. Default 2e-6 (300 km: Astronomy Engine's truncated VSOP87; Meeus example 33.b is met within 2 arcsec, the book's rounding). */
  observerErrorAu: number;
  /** Floor in arcsec: the elements' own rounding and the astrometric frame. Default 0.05. */
  floorArcsec: number;
}

export const DEFAULT_ERROR_MODEL: EphemerisErrorModel = {
  observerErrorAu: 2e-6,
  floorArcsec: 0.05,
};

/** GM of Jupiter (au^3/day^2; mass ratio 1/1047.3486, IAU 2009) and its mean distance (au). */
const MU_JUPITER = MU_SUN / 1047.3486;
const A_JUPITER = 5.2026;
const ARCSEC_PER_RAD = ARCSEC_PER_DEG * DEG_PER_RAD;

/** MPC's U scale: RUNOFF < exp(U CONS) arcsec per decade, CONS = ln(648000) / 9 (MPC, "Uncertainty Parameter U"). */
const U_CONS = Math.log(648000) / 9;
const DECADE_DAYS = 3652.5;
/** Time from the last observation to the elements' epoch assumed for U's runoff (MPCORB epochs are refreshed within a year). */
const U_BASELINE_DAYS = 365.25;

/**
 * One-sigma in-orbit longitude error of an orbit of uncertainty parameter U at dtDays from its
 * epoch, arcsec: U's upper bound on the runoff per decade, exp(U CONS), grown linearly from the
 * last observation (U_BASELINE_DAYS before the epoch); 0 when U is not given.
 */
export function runoffArcsec(uParam: number | undefined, dtDays: number): number {
  if (uParam === undefined || !Number.isFinite(uParam)) return 0;
  const perDecade = Math.min(648000, Math.exp(Math.min(9, Math.max(0, uParam)) * U_CONS));
  return (perDecade * (U_BASELINE_DAYS + Math.abs(dtDays))) / DECADE_DAYS;
}

/**
 * One-sigma position error of a two-body prediction, arcsec: the observer error seen at the
 * object's distance, the floor, the neglected planetary perturbations over |t - epoch|, bounded
 * by Jupiter's tidal acceleration at conjunction, |mu_J (1/(a_J - r)^2 - 1/a_J^2)|, integrated
 * twice (1/2 a dt^2; the minimum distance to Jupiter taken as 0.5 au), and the orbit's own
 * uncertainty from MPC's U (runoffArcsec: a heliocentric along-track angle, seen from the
 * observer magnified by at most r / Delta).
 */
export function predictionSigmaArcsec(
  helioRange: number,
  topoRange: number,
  dtDays: number,
  model: EphemerisErrorModel,
  uParam?: number,
): number {
  const d = Math.max(0.5, Math.abs(A_JUPITER - helioRange));
  const accel = MU_JUPITER * Math.abs(1 / (d * d) - 1 / (A_JUPITER * A_JUPITER));
  const drift = 0.5 * accel * dtDays * dtDays;
  const err = Math.hypot(model.observerErrorAu, drift) / topoRange;
  const orbit = (runoffArcsec(uParam, dtDays) * helioRange) / topoRange;
  return Math.hypot(model.floorArcsec, err * ARCSEC_PER_RAD, orbit);
}

/** Working memory of one predictor (reused across orbits: no allocation per prediction). */
export class Predictor {
  private readonly state = new Float64Array(6);
  private readonly scratch = new Float64Array(4);
  private readonly rho = new Float64Array(3);

  constructor(
    readonly observer: ObserverAt,
    readonly errorModel: EphemerisErrorModel = DEFAULT_ERROR_MODEL,
  ) {}

  /** Astrometric RA, Dec (degrees) only, light-time corrected: the fast path of a field search. */
  radec(o: PreparedOrbit, out: Float64Array): void {
    const rho = this.lightTimeState(o);
    out[0] = wrap360(Math.atan2(rho[1], rho[0]) * DEG_PER_RAD);
    out[1] = Math.asin(rho[2] / Math.hypot(rho[0], rho[1], rho[2])) * DEG_PER_RAD;
  }

  /** The full prediction of one orbit. */
  predict(o: PreparedOrbit, index: number): Prediction {
    const rho = this.lightTimeState(o);
    const s = this.state;
    const helio = Float64Array.from(s);
    const topo = Float64Array.of(
      rho[0],
      rho[1],
      rho[2],
      s[3] - this.observer.velocity[0],
      s[4] - this.observer.velocity[1],
      s[5] - this.observer.velocity[2],
    );
    const range = Math.hypot(topo[0], topo[1], topo[2]);
    const r = Math.hypot(helio[0], helio[1], helio[2]);
    const ra = Math.atan2(topo[1], topo[0]);
    const dec = Math.asin(topo[2] / range);
    // Rates: the topocentric velocity projected on the east and north unit vectors.
    const [sa, ca, sd, cd] = [Math.sin(ra), Math.cos(ra), Math.sin(dec), Math.cos(dec)];
    const east = -sa * topo[3] + ca * topo[4];
    const north = -ca * sd * topo[3] - sa * sd * topo[4] + cd * topo[5];
    const obs = this.observer.position;
    const elongCos =
      -(topo[0] * obs[0] + topo[1] * obs[1] + topo[2] * obs[2]) /
      (range * Math.hypot(obs[0], obs[1], obs[2]));
    const phaseCos = (helio[0] * topo[0] + helio[1] * topo[1] + helio[2] * topo[2]) / (r * range);
    const phaseAngle = Math.acos(Math.min(1, Math.max(-1, phaseCos))) * DEG_PER_RAD;
    return {
      index,
      ra: wrap360(ra * DEG_PER_RAD),
      dec: dec * DEG_PER_RAD,
      raRate: (east / range) * DEG_PER_RAD,
      decRate: (north / range) * DEG_PER_RAD,
      topoRange: range,
      topoRangeRate: (topo[0] * topo[3] + topo[1] * topo[4] + topo[2] * topo[5]) / range,
      helioRange: r,
      helioRangeRate: (helio[0] * helio[3] + helio[1] * helio[4] + helio[2] * helio[5]) / r,
      phaseAngle,
      elongation: Math.acos(Math.min(1, Math.max(-1, elongCos))) * DEG_PER_RAD,
      vMag: hgMagnitude(o.orbit.h, o.orbit.g, r, range, phaseAngle),
      helio,
      topo,
      sigmaArcsec: predictionSigmaArcsec(
        r,
        range,
        this.observer.mjdTt - o.orbit.epoch_mjd,
        this.errorModel,
        o.orbit.u_param,
      ),
    };
  }

  /** Topocentric vector (au) of the object at light-emission time; leaves its heliocentric state in this.state. */
  private lightTimeState(o: PreparedOrbit): Float64Array {
    const obs = this.observer.position;
    const s = this.state;
    let tau = 0;
    const rho = this.rho;
    for (let pass = 0; pass < LIGHT_TIME_PASSES; pass++) {
      stateAt(o, this.observer.mjdTt - tau, s, this.scratch);
      rho[0] = s[0] - obs[0];
      rho[1] = s[1] - obs[1];
      rho[2] = s[2] - obs[2];
      tau = Math.hypot(rho[0], rho[1], rho[2]) / C_AU_PER_DAY;
    }
    return rho;
  }
}

function wrap360(deg: number): number {
  return ((deg % 360) + 360) % 360;
}
