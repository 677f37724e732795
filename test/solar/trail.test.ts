import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plane } from '../../shared/image/plane.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { MoffatPsf } from '../../shared/sim/moffat.js';
import { rngStream } from '../../shared/sim/random.js';
import { addTrail } from '../../shared/sim/render.js';
import { fitTrail } from '../../shared/solar/trail.js';

const SIZE = 101;
const SKY = 400;
const psf = new MoffatPsf({
  size: SIZE,
  fwhm: 3.5,
  beta: 3.5,
  gradU: 0,
  gradV: 0,
  curvature: 0,
  e1c: 0.02,
  e2c: -0.01,
  astig: 0,
});

/** One realisation: the simulator's trail (ap simulate's renderer) on a flat sky with its Gaussian noise. */
function trailImage(seed: number, lengthPx: number, angleDeg: number, flux: number) {
  const rng = rngStream(seed, 'trail-test');
  const [cx, cy] = [50 + rng.uniform(), 50 + rng.uniform()];
  const hx = (lengthPx / 2) * Math.cos((angleDeg * Math.PI) / 180);
  const hy = (lengthPx / 2) * Math.sin((angleDeg * Math.PI) / 180);
  const light = new Float32Array(SIZE * SIZE);
  const half = (psf.stampSize - 1) / 2;
  addTrail(light, SIZE, { psf, skyAdu: SKY }, [cx - hx, cy - hy], [cx + hx, cy + hy], flux, half);
  const noisy = light.map((v) => v + Math.sqrt(SKY) * rng.normal());
  return {
    image: new Plane(noisy, SIZE, SIZE),
    variance: new Plane(new Float32Array(SIZE * SIZE).fill(SKY), SIZE, SIZE),
    mask: Plane.zeros(Int32Array, SIZE, SIZE),
    truth: { cx, cy, hx, hy },
  };
}

/** Signed difference of two trail angles (mod 180), degrees. */
function angleDiff(a: number, b: number): number {
  return ((((a - b) % 180) + 270) % 180) - 90;
}

test('trailed-PSF fit (Veres et al. 2012) recovers the simulator trail: length within 0.4 px, angle within 1.5 deg, both within 3 sigma; the flux unbiased', () => {
  const flux = 20000;
  const fluxRatios: number[] = [];
  const pulls: number[] = [];
  let seed = 1;
  for (const lengthPx of [6, 12, 24]) {
    for (const angleDeg of [15, 70, 130, 160]) {
      const { image, variance, mask, truth } = trailImage(seed++, lengthPx, angleDeg, flux);
      // Started as the pipeline starts it: from a prediction 15 % long, 8 degrees off, 0.4 px away.
      const off = ((angleDeg + 8) * Math.PI) / 180;
      const fit = fitTrail(image, variance, mask, psf, {
        x: truth.cx + 0.4,
        y: truth.cy - 0.3,
        dx: 1.15 * lengthPx * Math.cos(off),
        dy: 1.15 * lengthPx * Math.sin(off),
      });
      assert.ok(fit, `no fit for L ${lengthPx}`);
      const dL = fit.lengthPx - lengthPx;
      const dA = angleDiff(fit.angleDeg, angleDeg);
      const where = `L ${lengthPx} px, angle ${angleDeg}: got ${fit.lengthPx.toFixed(2)} +- ${fit.lengthErrPx.toFixed(2)}, ${fit.angleDeg.toFixed(2)} +- ${fit.angleErrDeg.toFixed(2)}`;
      assert.ok(Math.abs(dL) < 0.4 && Math.abs(dL) < 3 * fit.lengthErrPx, where);
      assert.ok(Math.abs(dA) < 1.5 && Math.abs(dA) < 3 * fit.angleErrDeg + 0.1, where);
      assert.ok(Math.hypot(fit.x - truth.cx, fit.y - truth.cy) < 0.2, `centre: ${where}`);
      assert.ok(
        fit.chi2 / fit.ndata < 1.2 && fit.chi2 / fit.ndata > 0.8,
        `chi2/n ${fit.chi2 / fit.ndata}`,
      );
      fluxRatios.push(fit.flux / flux);
      pulls.push((fit.flux - flux) / fit.fluxErr);
    }
  }
  const mean = fluxRatios.reduce((s, r) => s + r, 0) / fluxRatios.length;
  const sd = Math.sqrt(
    fluxRatios.reduce((s, r) => s + (r - mean) ** 2, 0) / (fluxRatios.length - 1),
  );
  // Unbiased: the mean flux within 1 % and within 3 standard errors of the truth.
  assert.ok(Math.abs(mean - 1) < 0.01, `mean flux ratio ${mean}`);
  assert.ok(
    Math.abs(mean - 1) < (3 * sd) / Math.sqrt(fluxRatios.length),
    `mean flux ratio ${mean} +- ${sd}`,
  );
  // The flux errors are honest: the pulls scatter by about one.
  const pullRms = Math.sqrt(pulls.reduce((s, p) => s + p * p, 0) / pulls.length);
  assert.ok(pullRms > 0.5 && pullRms < 1.6, `flux pull rms ${pullRms}`);
});

test('a trail shorter than the PSF: the flux and centre still fitted with PSF-fit errors, the shape errors unknown rather than invented', () => {
  const { image, variance, mask, truth } = trailImage(99, 0, 0, 20000);
  const fit = fitTrail(image, variance, mask, psf, { x: truth.cx, y: truth.cy, dx: 1.5, dy: 0.5 });
  assert.ok(fit);
  assert.ok(
    Math.abs(fit.flux / 20000 - 1) < 3 * (fit.fluxErr / 20000),
    `flux ${fit.flux} +- ${fit.fluxErr}`,
  );
  assert.ok(fit.fluxErr > 0 && Number.isFinite(fit.xErr) && fit.xErr > 0);
  assert.ok(fit.lengthPx < 1.5, `length ${fit.lengthPx}`);
  assert.ok(
    Number.isNaN(fit.angleErrDeg) || fit.angleErrDeg > 10,
    `angle error ${fit.angleErrDeg}`,
  );
});

test('trailed-PSF fit: masked pixels are left out and flag the trail; no usable pixel, no fit', () => {
  const { image, variance, mask, truth } = trailImage(7, 12, 40, 20000);
  const start = { x: truth.cx, y: truth.cy, dx: 2 * truth.hx, dy: 2 * truth.hy };
  const clean = fitTrail(image, variance, mask, psf, start);
  assert.equal(clean?.edge, false);
  mask.set(Math.round(truth.cx + truth.hx), Math.round(truth.cy + truth.hy), MaskPlane.CR);
  const hit = fitTrail(image, variance, mask, psf, start);
  assert.equal(hit?.edge, true);
  assert.equal(hit?.ndata, (clean?.ndata ?? 0) - 1);
  mask.data.fill(MaskPlane.NO_DATA);
  assert.equal(fitTrail(image, variance, mask, psf, start), null);
});
