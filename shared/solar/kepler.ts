/**
 * Two-body propagation of heliocentric orbits: position and velocity at a time from the elements.
 *
 * Elliptic orbits (e < NEAR_PARABOLIC_E) solve Kepler's equation M = E - e sin E by Newton's
 * method from E0 = M + e sin M (Danby 1988, "Fundamentals of Celestial Mechanics", 6.6), guarded
 * by bisection on [M - e, M + e] so that it converges for every e < 1 (Meeus, "Astronomical
 * Algorithms", 2nd ed., ch. 30). Near-parabolic, parabolic and hyperbolic orbits (e >= NEAR_PARABOLIC_E)
 * use the universal variable from perihelion with Stumpff functions (Danby 6.9; Bate, Mueller &
 * White 1971, 4.3), solved by the Laguerre-Conway iteration (Conway 1986, Celest. Mech. 39, 199),
 * which stays well conditioned as e crosses 1 where the elliptic and hyperbolic forms lose digits.
 */
import { NEAR_PARABOLIC_E, type MpcOrbit } from './orbit.js';
import { ARCSEC_PER_DEG, RAD_PER_DEG } from '../util/numeric.js';

/** Gaussian gravitational constant k (au^1.5 / day), IAU 1976: mu_sun = k^2 (the object's mass neglected). */
export const GAUSS_K = 0.01720209895;
export const MU_SUN = GAUSS_K * GAUSS_K;
/** Mean obliquity of the ecliptic at J2000.0, IAU 1976: 84381.448 arcsec (the frame of MPC elements). */
export const OBLIQUITY_J2000_DEG = 84381.448 / ARCSEC_PER_DEG;
const TWO_PI = 2 * Math.PI;
const KEPLER_TOL = 1e-14;
const MAX_ITER = 60;

/** E from M (radians) and e < 1: Newton from Danby's starter, bisection when a step leaves the bracket. */
export function solveKeplerElliptic(meanAnomaly: number, e: number): number {
  const m = meanAnomaly - TWO_PI * Math.floor((meanAnomaly + Math.PI) / TWO_PI); // in [-pi, pi)
  let lo = m - e;
  let hi = m + e;
  let E = m + e * Math.sin(m);
  for (let k = 0; k < MAX_ITER; k++) {
    const f = E - e * Math.sin(E) - m;
    if (f > 0) hi = E;
    else lo = E;
    const step = f / (1 - e * Math.cos(E));
    let next = E - step;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - E) < KEPLER_TOL) return next + (meanAnomaly - m);
    E = next;
  }
  return E + (meanAnomaly - m);
}

/** Stumpff functions c2(z), c3(z), with series near z = 0. */
export function stumpff(z: number): [number, number] {
  if (z > 1e-3) {
    const s = Math.sqrt(z);
    return [(1 - Math.cos(s)) / z, (s - Math.sin(s)) / (z * s)];
  }
  if (z < -1e-3) {
    const s = Math.sqrt(-z);
    return [(Math.cosh(s) - 1) / -z, (Math.sinh(s) - s) / (-z * s)];
  }
  return [
    1 / 2 - z / 24 + (z * z) / 720 - (z * z * z) / 40320,
    1 / 6 - z / 120 + (z * z) / 5040 - (z * z * z) / 362880,
  ];
}

/**
 * Perifocal position and velocity (x towards perihelion, y along the motion at perihelion), au and
 * au/day, dt days after perihelion, from q and e by the universal variable (any e).
 */
export function universalPerifocal(q: number, e: number, dt: number, out: Float64Array): void {
  const sqrtMu = GAUSS_K;
  const alpha = (1 - e) / q; // 1/a
  const v0 = Math.sqrt((MU_SUN * (1 + e)) / q);
  const beta = 1 - alpha * q; // = e
  const target = sqrtMu * dt;
  // Start: the parabolic-scale guess, bounded (Conway's iteration converges from any start).
  let chi = Math.cbrt((6 * target) / Math.max(beta, 1e-12));
  if (Math.abs(target / q) < Math.abs(chi)) chi = target / q;
  const n = 5;
  for (let k = 0; k < MAX_ITER; k++) {
    const z = alpha * chi * chi;
    const [c2, c3] = stumpff(z);
    const f = q * chi + beta * chi * chi * chi * c3 - target;
    const fp = q + beta * chi * chi * c2;
    const fpp = beta * chi * (1 - z * c3);
    const disc = Math.sqrt(Math.abs((n - 1) * (n - 1) * fp * fp - n * (n - 1) * f * fpp));
    const step = (n * f) / (fp + Math.sign(fp) * disc);
    chi -= step;
    if (Math.abs(step) <= KEPLER_TOL * Math.max(1, Math.abs(chi))) break;
  }
  const z = alpha * chi * chi;
  const [c2, c3] = stumpff(z);
  const r = q + beta * chi * chi * c2;
  const f = 1 - (chi * chi * c2) / q;
  const g = dt - (chi * chi * chi * c3) / sqrtMu;
  const fdot = (sqrtMu * chi * (z * c3 - 1)) / (r * q);
  const gdot = 1 - (chi * chi * c2) / r;
  out[0] = f * q;
  out[1] = g * v0;
  out[2] = fdot * q;
  out[3] = gdot * v0;
}

/** An orbit with its orientation and constants computed once, ready to propagate many times. */
export interface PreparedOrbit {
  orbit: MpcOrbit;
  /** Perifocal unit vectors P (to perihelion) and Q, J2000 equatorial. */
  p: Float64Array;
  qv: Float64Array;
  /** Semi-major axis (au) and mean motion (rad/day) of an elliptic orbit; NaN otherwise. */
  a: number;
  meanMotion: number;
  /** Mean anomaly (rad) at epochMjd of an elliptic orbit. */
  meanAnomalyEpoch: number;
  epochMjd: number;
  elliptic: boolean;
}

export function prepareOrbit(orbit: MpcOrbit): PreparedOrbit {
  const om = orbit.argperi * RAD_PER_DEG;
  const node = orbit.node * RAD_PER_DEG;
  const inc = orbit.i * RAD_PER_DEG;
  const eps = OBLIQUITY_J2000_DEG * RAD_PER_DEG;
  const [co, so, cn, sn, ci, si, ce, se] = [
    Math.cos(om),
    Math.sin(om),
    Math.cos(node),
    Math.sin(node),
    Math.cos(inc),
    Math.sin(inc),
    Math.cos(eps),
    Math.sin(eps),
  ];
  // Ecliptic perifocal vectors, then rotated about x by the obliquity to the equator.
  const toEquatorial = (x: number, y: number, z: number): Float64Array =>
    Float64Array.of(x, y * ce - z * se, y * se + z * ce);
  const p = toEquatorial(co * cn - so * sn * ci, co * sn + so * cn * ci, so * si);
  const qv = toEquatorial(-so * cn - co * sn * ci, -so * sn + co * cn * ci, co * si);
  const elliptic = orbit.e < NEAR_PARABOLIC_E;
  const a = elliptic ? orbit.q / (1 - orbit.e) : Number.NaN;
  const meanMotion = elliptic ? GAUSS_K / Math.pow(a, 1.5) : Number.NaN;
  // The mean anomaly at epoch where given, else from the time of perihelion.
  const useM = Number.isFinite(orbit.mean_anomaly) && Number.isFinite(orbit.epoch_mjd);
  const epochMjd = useM ? orbit.epoch_mjd : orbit.peri_time;
  const meanAnomalyEpoch = useM ? orbit.mean_anomaly * RAD_PER_DEG : 0;
  return { orbit, p, qv, a, meanMotion, meanAnomalyEpoch, epochMjd, elliptic };
}

/**
 * Heliocentric J2000 equatorial position (au) and velocity (au/day) at mjdTt, written to
 * out[0..2] and out[3..5]. `scratch` is 4 doubles of working space.
 */
export function stateAt(
  o: PreparedOrbit,
  mjdTt: number,
  out: Float64Array,
  scratch: Float64Array,
): void {
  let x: number;
  let y: number;
  let vx: number;
  let vy: number;
  const e = o.orbit.e;
  if (o.elliptic) {
    const E = solveKeplerElliptic(o.meanAnomalyEpoch + o.meanMotion * (mjdTt - o.epochMjd), e);
    const cE = Math.cos(E);
    const sE = Math.sin(E);
    const b = o.a * Math.sqrt(1 - e * e);
    const eDot = o.meanMotion / (1 - e * cE);
    x = o.a * (cE - e);
    y = b * sE;
    vx = -o.a * sE * eDot;
    vy = b * cE * eDot;
  } else {
    universalPerifocal(o.orbit.q, e, mjdTt - o.orbit.peri_time, scratch);
    [x, y, vx, vy] = [scratch[0], scratch[1], scratch[2], scratch[3]];
  }
  for (let k = 0; k < 3; k++) {
    out[k] = o.p[k] * x + o.qv[k] * y;
    out[k + 3] = o.p[k] * vx + o.qv[k] * vy;
  }
}

/**
 * Osculating elements (MPC form, J2000 ecliptic, degrees) of a heliocentric J2000 equatorial state
 * (au, au/day) at mjdTt: the inverse of stateAt for elliptic orbits (Danby 1988, 6.8).
 */
export function elementsFromState(
  designation: string,
  state: ArrayLike<number>,
  mjdTt: number,
  h: number,
  g: number,
): MpcOrbit {
  const eps = OBLIQUITY_J2000_DEG * RAD_PER_DEG;
  const [ce, se] = [Math.cos(eps), Math.sin(eps)];
  const ecl = (x: number, y: number, z: number): [number, number, number] => [
    x,
    y * ce + z * se,
    -y * se + z * ce,
  ];
  const r = ecl(state[0], state[1], state[2]);
  const v = ecl(state[3], state[4], state[5]);
  const cross = (a: number[], b: number[]): [number, number, number] => [
    a[1] * b[2] - a[2] * b[1],
    a[2] * b[0] - a[0] * b[2],
    a[0] * b[1] - a[1] * b[0],
  ];
  const dot = (a: number[], b: number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const rn = Math.sqrt(dot(r, r));
  const hv = cross(r, v);
  const hn = Math.sqrt(dot(hv, hv));
  const vxh = cross(v, hv);
  const ev = [
    vxh[0] / MU_SUN - r[0] / rn,
    vxh[1] / MU_SUN - r[1] / rn,
    vxh[2] / MU_SUN - r[2] / rn,
  ];
  const e = Math.sqrt(dot(ev, ev));
  const a = 1 / (2 / rn - dot(v, v) / MU_SUN);
  const inc = Math.acos(hv[2] / hn);
  const node = Math.atan2(hv[0], -hv[1]);
  const nv = [Math.cos(node), Math.sin(node), 0];
  // Argument of perihelion and true anomaly measured in the orbit plane (w = h x n, in-plane, 90 deg ahead of the node).
  const wv = cross(hv, nv).map((c) => c / hn);
  const argperi = Math.atan2(dot(ev, wv), dot(ev, nv));
  const u = Math.atan2(dot(r, wv), dot(r, nv));
  const nu = u - argperi;
  const E = 2 * Math.atan(Math.sqrt((1 - e) / (1 + e)) * Math.tan(nu / 2));
  const M = E - e * Math.sin(E);
  const n = GAUSS_K / Math.pow(a, 1.5);
  const wrap = (rad: number): number => (((rad / RAD_PER_DEG) % 360) + 360) % 360;
  return {
    designation,
    epoch_mjd: mjdTt,
    a,
    q: a * (1 - e),
    e,
    i: inc / RAD_PER_DEG,
    node: wrap(node),
    argperi: wrap(argperi),
    mean_anomaly: wrap(M),
    peri_time: mjdTt - M / n,
    h,
    g,
  };
}
