import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AstroTime, Body, HelioVector } from 'astronomy-engine';
import {
  prepareOrbit,
  solveKeplerElliptic,
  stateAt,
  universalPerifocal,
} from '../../shared/solar/kepler.js';
import { Predictor } from '../../shared/solar/ephemeris.js';
import { observerAt } from '../../shared/solar/observer.js';
import { OrbitCatalog } from '../../shared/solar/catalog.js';
import type { MpcOrbit } from '../../shared/solar/orbit.js';
import { hgMagnitude } from '../../shared/solar/photometry.js';
import { RUBIN_SITE } from '../../shared/solar/site.js';
import {
  MJD_J2000,
  taiFromTt,
  taiFromUtc,
  taiMinusUtcSeconds,
  ttFromTai,
  utcFromTai,
} from '../../shared/solar/time.js';
import { equatorialToEcliptic, equatorialToGalactic } from '../../shared/solar/coords.js';

const DEG = Math.PI / 180;
/** MJD of a calendar date (Gregorian; day may be fractional), as Meeus gives his examples' instants. */
const mjdOf = (y: number, m: number, d: number): number =>
  Date.UTC(y, m - 1, 1) / 86400000 + 40587 + d - 1;
const arcsec = (deg: number): number => deg * 3600;

test("Kepler's equation: Meeus example 30.a (e 0.1, M 5 deg: E 5.554589254 deg) and p. 205 (e 0.99, M 0.2 rad: E 1.066997365282 rad)", () => {
  assert.ok(Math.abs(solveKeplerElliptic(5 * DEG, 0.1) / DEG - 5.554589254) < 1e-9);
  assert.ok(Math.abs(solveKeplerElliptic(0.2, 0.99) - 1.066997365282) < 1e-12);
  // Every revolution and the far side: E - e sin E = M holds to 1e-13 rad for e up to 0.9999.
  for (const e of [0, 0.3, 0.9, 0.9999]) {
    for (const m of [-7, -3.1, 0, 1e-6, 3.14159, 12.5]) {
      const E = solveKeplerElliptic(m, e);
      assert.ok(Math.abs(E - e * Math.sin(E) - m) < 1e-13, `e ${e} M ${m}: E ${E}`);
    }
  }
});

test('parabolic orbit by the universal variable: Meeus example 34.a (v 66.78862 deg, r 2.133911 au)', () => {
  const out = new Float64Array(4);
  universalPerifocal(1.487469, 1, mjdOf(1998, 8, 5) - mjdOf(1998, 4, 14.4358), out);
  assert.ok(Math.abs(Math.atan2(out[1], out[0]) / DEG - 66.78862) < 1e-5);
  assert.ok(Math.abs(Math.hypot(out[0], out[1]) - 2.133911) < 1e-6);
});

test('the universal variable agrees with the elliptic and hyperbolic Kepler equations on either side of e = 1', () => {
  const k = 0.01720209895;
  const out = new Float64Array(4);
  for (const [q, e, dt] of [
    [0.5, 0.9, 40],
    [1.2, 0.985, -300],
    [0.8, 1.0001, 500],
    [2, 1.5, -800],
  ]) {
    universalPerifocal(q, e, dt, out);
    const a = q / (1 - e);
    const n = k / Math.pow(Math.abs(a), 1.5);
    let x: number;
    let y: number;
    if (e < 1) {
      const E = solveKeplerElliptic(n * dt, e);
      x = a * (Math.cos(E) - e);
      y = a * Math.sqrt(1 - e * e) * Math.sin(E);
    } else {
      // e sinh F - F = M by bisection (independent of the solver under test).
      const M = n * dt;
      let [lo, hi] = [-50, 50];
      for (let i = 0; i < 200; i++) {
        const mid = (lo + hi) / 2;
        if (e * Math.sinh(mid) - mid > M) hi = mid;
        else lo = mid;
      }
      const F = (lo + hi) / 2;
      x = -a * (e - Math.cosh(F));
      y = -a * Math.sqrt(e * e - 1) * Math.sinh(F);
    }
    assert.ok(
      Math.hypot(out[0] - x, out[1] - y) < 1e-9 * Math.hypot(x, y),
      `q ${q} e ${e} dt ${dt}: (${out[0]}, ${out[1]}) vs (${x}, ${y})`,
    );
  }
});

test("the Earth's heliocentric distance (VSOP87 via Astronomy Engine): Meeus example 25.b, R 0.99760775 au on 1992 Oct 13.0 TT, within 5e-6 au", () => {
  const earth = HelioVector(
    Body.Earth,
    AstroTime.FromTerrestrialTime(mjdOf(1992, 10, 13) - MJD_J2000),
  );
  assert.ok(Math.abs(Math.hypot(earth.x, earth.y, earth.z) - 0.99760775) < 5e-6);
});

test('comet Encke: Meeus example 33.b (1990 Oct 6.0 TT, geocentric, light time: RA 10h34m14.2s, Dec +19d09m31s, elongation 40.51 deg) within 2 arcsec', () => {
  const a = 2.2091404;
  const e = 0.8502196;
  const peri = mjdOf(1990, 10, 28.54502);
  const encke: MpcOrbit = {
    designation: '2P',
    epoch_mjd: peri,
    a,
    q: a * (1 - e),
    e,
    i: 11.94524,
    node: 334.75006,
    argperi: 186.23352,
    mean_anomaly: 0,
    peri_time: peri,
    h: 11,
    g: 0.15,
  };
  const p = new Predictor(observerAt(mjdOf(1990, 10, 6), null)).predict(prepareOrbit(encke), 0);
  const ra = (10 + 34 / 60 + 14.2 / 3600) * 15;
  const dec = 19 + 9 / 60 + 31 / 3600;
  assert.ok(
    Math.abs(arcsec(p.ra - ra) * Math.cos(dec * DEG)) < 2,
    `RA off by ${arcsec(p.ra - ra)} arcsec`,
  );
  assert.ok(Math.abs(arcsec(p.dec - dec)) < 2, `Dec off by ${arcsec(p.dec - dec)} arcsec`);
  assert.ok(Math.abs(p.elongation - 40.51) < 0.01);
  console.log(
    `Encke: RA ${(arcsec(p.ra - ra) * Math.cos(dec * DEG)).toFixed(2)} arcsec, Dec ${arcsec(p.dec - dec).toFixed(2)} arcsec from Meeus`,
  );
  // The same orbit given by its time of perihelion only (no mean anomaly) gives the same place.
  const q = new Predictor(observerAt(mjdOf(1990, 10, 6), null)).predict(
    prepareOrbit({ ...encke, mean_anomaly: Number.NaN }),
    0,
  );
  assert.ok(Math.abs(arcsec(q.ra - p.ra)) < 1e-6);
});

test('topocentric parallax: a near-Earth object moves between geocentre and site by a sizeable fraction of R_earth / Delta, never more', () => {
  const mjd = 61000.3;
  // An orbit crossing near the Earth's position at mjd: the Earth's own elements shifted outward.
  const orbit: MpcOrbit = {
    designation: 'NEO',
    epoch_mjd: mjd,
    a: 1.05,
    q: 0.95,
    e: 1 - 0.95 / 1.05,
    i: 3,
    node: 10,
    argperi: 50,
    mean_anomaly: 20,
    peri_time: Number.NaN,
    h: 20,
    g: 0.15,
  };
  const prepared = prepareOrbit(orbit);
  const geo = new Predictor(observerAt(mjd, null)).predict(prepared, 0);
  const topo = new Predictor(observerAt(mjd, RUBIN_SITE)).predict(prepared, 0);
  const shift = arcsec(
    Math.hypot((topo.ra - geo.ra) * Math.cos(geo.dec * DEG), topo.dec - geo.dec),
  );
  const bound = arcsec(6378.137 / 149597870.7 / geo.topoRange / DEG);
  assert.ok(
    shift > 0.05 * bound && shift <= bound * 1.01,
    `parallax ${shift} arcsec, bound ${bound}`,
  );
});

test('rates: the predicted RA and Dec rates match finite differences of the positions', () => {
  const mjd = 61000.2;
  const orbit: MpcOrbit = {
    designation: 'MB',
    epoch_mjd: mjd - 50,
    a: 2.6,
    q: 2.6 * 0.85,
    e: 0.15,
    i: 8,
    node: 80,
    argperi: 120,
    mean_anomaly: 200,
    peri_time: Number.NaN,
    h: 17,
    g: 0.15,
  };
  const prepared = prepareOrbit(orbit);
  const at = (t: number) => new Predictor(observerAt(t, RUBIN_SITE)).predict(prepared, 0);
  const p = at(mjd);
  const h = 1 / 1440;
  const [a, b] = [at(mjd - h), at(mjd + h)];
  const raRate = ((b.ra - a.ra) * Math.cos(p.dec * DEG)) / (2 * h);
  const decRate = (b.dec - a.dec) / (2 * h);
  // Earth rotation makes the topocentric rate wobble; the two agree to 0.5 % of the rate.
  const rate = Math.hypot(p.raRate, p.decRate);
  assert.ok(
    Math.hypot(raRate - p.raRate, decRate - p.decRate) < 0.005 * rate,
    `${raRate},${decRate} vs ${p.raRate},${p.decRate}`,
  );
});

test('H, G magnitudes (Bowell et al. 1989): at zero phase V = H + 5 log10(r Delta); fainter with phase, more so for small G', () => {
  assert.ok(Math.abs(hgMagnitude(15, 0.15, 2, 1, 0) - (15 + 5 * Math.log10(2))) < 1e-12);
  assert.ok(hgMagnitude(15, 0.15, 2, 1, 20) > hgMagnitude(15, 0.15, 2, 1, 10));
  assert.ok(hgMagnitude(15, 0.05, 2, 1, 20) > hgMagnitude(15, 0.4, 2, 1, 20));
});

test('time scales: TAI - UTC 25 s in 1990 and 37 s since 2017; TT = TAI + 32.184 s; UTC <-> TAI round trip', () => {
  assert.equal(taiMinusUtcSeconds(48170), 25);
  assert.equal(taiMinusUtcSeconds(61000), 37);
  assert.ok(Math.abs((ttFromTai(61000) - 61000) * 86400 - 32.184) < 1e-6);
  assert.ok(Math.abs(taiFromTt(ttFromTai(61000.25)) - 61000.25) < 1e-12);
  assert.ok(Math.abs(utcFromTai(taiFromUtc(61000.75)) - 61000.75) < 1e-12);
});

test('ecliptic and galactic coordinates: the north ecliptic pole and the galactic centre', () => {
  const nep = equatorialToEcliptic(270, 66.560708);
  assert.ok(Math.abs(nep.beta - 90) < 1e-5);
  const gc = equatorialToGalactic(266.40499, -28.93617);
  assert.ok(
    Math.abs(((gc.l + 180) % 360) - 180) < 1e-3 && Math.abs(gc.b) < 1e-3,
    `${gc.l} ${gc.b}`,
  );
});

test('OrbitCatalog.predictInCone returns the objects in the cone and only those', () => {
  const mjd = 61000.2;
  const base: MpcOrbit = {
    designation: 'A',
    epoch_mjd: mjd,
    a: 2.6,
    q: 2.21,
    e: 0.15,
    i: 8,
    node: 80,
    argperi: 120,
    mean_anomaly: 200,
    peri_time: Number.NaN,
    h: 17,
    g: 0.15,
  };
  const orbits = Array.from({ length: 50 }, (_, k) => ({
    ...base,
    designation: `A${k}`,
    mean_anomaly: 200 + k * 0.02,
  }));
  const catalog = new OrbitCatalog(orbits);
  const centre = new Predictor(observerAt(ttFromTai(mjd), RUBIN_SITE)).predict(
    catalog.prepared[25],
    25,
  );
  const found = catalog.predictInCone(
    { ra: centre.ra, dec: centre.dec, radiusDeg: 0.05 },
    mjd,
    RUBIN_SITE,
  );
  assert.ok(found.some((p) => p.index === 25));
  assert.ok(found.length > 0 && found.length < 50);
  for (const p of found)
    assert.ok(
      Math.hypot((p.ra - centre.ra) * Math.cos(centre.dec * DEG), p.dec - centre.dec) <=
        0.05 + 1e-9,
    );
  assert.ok(
    found.every((p) => p.sigmaArcsec > 0 && p.sigmaArcsec < 1),
    'orbits at the epoch predict to better than an arcsec',
  );
  assert.equal(new Set(catalog.ssObjectIds).size, 50);
});

test('stateAt keeps the energy integral of the two-body problem (v^2/2 - mu/r = -mu/2a)', () => {
  const o = prepareOrbit({
    designation: 'E',
    epoch_mjd: 60000,
    a: 3,
    q: 2.4,
    e: 0.2,
    i: 20,
    node: 30,
    argperi: 40,
    mean_anomaly: 50,
    peri_time: Number.NaN,
    h: 15,
    g: 0.15,
  });
  const s = new Float64Array(6);
  stateAt(o, 60400, s, new Float64Array(4));
  const mu = 0.01720209895 ** 2;
  const energy = (s[3] ** 2 + s[4] ** 2 + s[5] ** 2) / 2 - mu / Math.hypot(s[0], s[1], s[2]);
  assert.ok(Math.abs(energy + mu / 6) < 1e-14);
});
