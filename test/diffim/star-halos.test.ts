/**
 * Bright stars' unmatched wings (star-halos.ts): a ring common to every bright star, its amplitude
 * as the star's flux, is removed from the difference; a transient on a ring keeps its flux; a
 * difference whose stars match (noise alone around them) is left as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subtractStarHalos } from '../../shared/diffim/star-halos.js';
import { Plane, type ImageF } from '../../shared/image/plane.js';
import { Rng } from '../../shared/sim/random.js';

const SIZE = 256;
const FWHM = 4;
const SIGMA = FWHM / 2.3548;
const STARS = [
  { x: 60, y: 60, flux: 4e5 },
  { x: 190, y: 70, flux: 2e5 },
  { x: 70, y: 190, flux: 3e5 },
  { x: 180, y: 180, flux: 1e5 },
  { x: 128, y: 128, flux: 2.5e5 },
];
/** The wing left per unit flux at radius r: a negative ring beyond the kernel's reach. */
const ring = (r: number): number => -2e-5 * Math.exp(-(((r - 20) / 6) ** 2));
const gauss = (dx: number, dy: number): number =>
  Math.exp(-(dx * dx + dy * dy) / (2 * SIGMA * SIGMA)) / (2 * Math.PI * SIGMA * SIGMA);

type Star = { x: number; y: number; flux: number };

function scene(withRing: boolean, transient: Star | null, stars: Star[] = STARS) {
  const rng = new Rng(3, 'star-halos-test');
  const difference = Plane.zeros(Float32Array, SIZE, SIZE);
  const matched = Plane.zeros(Float32Array, SIZE, SIZE);
  const ones = (): ImageF => {
    const p = Plane.zeros(Float32Array, SIZE, SIZE);
    p.data.fill(1);
    return p;
  };
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++) {
      let d = rng.normal();
      let m = rng.normal();
      for (const s of stars) {
        const r = Math.hypot(x - s.x, y - s.y);
        m += s.flux * gauss(x - s.x, y - s.y);
        if (withRing) d += s.flux * ring(r);
      }
      if (transient) d += transient.flux * gauss(x - transient.x, y - transient.y);
      difference.set(x, y, d);
      matched.set(x, y, m);
    }
  return {
    difference,
    mask: Plane.zeros(Int32Array, SIZE, SIZE),
    variance: ones(),
    matched: { image: matched, variance: ones(), mask: Plane.zeros(Int32Array, SIZE, SIZE) },
  };
}

/** Mean of the difference over the stars' annuli 16-24 px, sigma. */
function ringMean(d: ImageF, stars: Star[] = STARS): number {
  let [sum, n] = [0, 0];
  for (const s of stars)
    for (let y = s.y - 24; y <= s.y + 24; y++)
      for (let x = s.x - 24; x <= s.x + 24; x++) {
        const r = Math.hypot(x - s.x, y - s.y);
        if (r < 16 || r > 24) continue;
        sum += d.get(x, y);
        n++;
      }
  return sum / n;
}

test('the bright stars ring is fitted and removed, a transient on it keeps its flux', () => {
  const transient = { x: 80, y: 60, flux: 400 };
  const s = scene(true, transient);
  const before = ringMean(s.difference);
  assert.ok(before < -2, `the ring is there: ${before.toFixed(2)} sigma`);
  const r = subtractStarHalos(s.difference, s.mask, s.variance, s.matched, FWHM);
  assert.ok(r.applied, `applied (significance ${r.significance.toFixed(1)})`);
  assert.equal(r.stars, STARS.length);
  const after = ringMean(s.difference);
  assert.ok(Math.abs(after) < 0.1, `ring left ${after.toFixed(3)} sigma`);
  // The transient's flux in a 2-FWHM aperture, against what it had on the unringed scene.
  const clean = scene(false, transient).difference;
  let [got, want] = [0, 0];
  for (let y = transient.y - 8; y <= transient.y + 8; y++)
    for (let x = transient.x - 8; x <= transient.x + 8; x++) {
      got += s.difference.get(x, y);
      want += clean.get(x, y);
    }
  assert.ok(
    Math.abs(got - want) < 0.05 * transient.flux,
    `transient ${got.toFixed(0)} vs ${want.toFixed(0)}`,
  );
});

test('a difference whose stars match is left as it was', () => {
  const s = scene(false, null);
  const copy = s.difference.clone();
  const r = subtractStarHalos(s.difference, s.mask, s.variance, s.matched, FWHM);
  assert.equal(r.applied, false, `significance ${r.significance.toFixed(1)}`);
  assert.deepEqual(s.difference.data, copy.data);
});

test('overlapping rings (a cluster of bright stars) are removed once, not once per star', () => {
  const cluster = [
    { x: 100, y: 100, flux: 3e5 },
    { x: 125, y: 105, flux: 2e5 },
    { x: 110, y: 128, flux: 2.5e5 },
    { x: 140, y: 130, flux: 1.5e5 },
    { x: 95, y: 150, flux: 2e5 },
    { x: 150, y: 90, flux: 1e5 },
  ];
  const s = scene(true, null, cluster);
  const before = ringMean(s.difference, cluster);
  const r = subtractStarHalos(s.difference, s.mask, s.variance, s.matched, FWHM);
  assert.ok(r.applied);
  const after = ringMean(s.difference, cluster);
  assert.ok(
    Math.abs(after) < 0.05 * Math.abs(before),
    `ring ${before.toFixed(2)} -> ${after.toFixed(3)} sigma`,
  );
});
