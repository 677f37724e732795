import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plane } from '../../shared/image/plane.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { MoffatPsf } from '../../shared/sim/moffat.js';
import { rngStream } from '../../shared/sim/random.js';
import { addTrail } from '../../shared/sim/render.js';
import { fitTrail } from '../../shared/solar/trail.js';
import { measureKnownObjectTrails } from '../../shared/solar/trail-measure.js';
import { TanWcs } from '../../shared/wcs/tangent-wcs.js';
import { Exposure } from '../../shared/image/exposure.js';
import { emptyVisitInfo } from '../../shared/image/visit-info.js';
import { AB_MAG_OF_1_NJY } from '../../shared/association/calibration.js';
import type { DiaSource } from '../../shared/apdb/types.js';

const SIZE = 101;
const SKY = 400;
const psf = MoffatPsf.uniform(SIZE, 3.5, 3.5, 0.02, -0.01);

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

test('a brighter neighbour 9 px away: subtracted first (DAOPHOT-style), the trail keeps its own length and flux; left in, it draws the trail out to it', () => {
  const { image, variance, mask, truth } = trailImage(5, 1, 30, 4000);
  const neighbour = { x: truth.cx + 2.4, y: truth.cy + 8.7, flux: 22000 };
  const stamp = psf.stampAt(neighbour.x, neighbour.y);
  const half = (stamp.size - 1) / 2;
  for (let b = 0; b < stamp.size; b++) {
    for (let a = 0; a < stamp.size; a++) {
      const [x, y] = [Math.round(neighbour.x) - half + a, Math.round(neighbour.y) - half + b];
      image.set(x, y, image.get(x, y) + neighbour.flux * stamp.data[b * stamp.size + a]);
    }
  }
  const start = { x: truth.cx, y: truth.cy, dx: 2 * truth.hx, dy: 2 * truth.hy };
  const alone = fitTrail(image, variance, mask, psf, { ...start, neighbours: [neighbour] });
  assert.ok(alone);
  assert.ok(alone.lengthPx < 2.5, `length with the neighbour subtracted ${alone.lengthPx}`);
  assert.ok(Math.abs(alone.flux / 4000 - 1) < 3 * (alone.fluxErr / 4000), `flux ${alone.flux}`);
  const drawn = fitTrail(image, variance, mask, psf, start);
  assert.ok(drawn && drawn.lengthPx > 5, `length with the neighbour left in ${drawn?.lengthPx}`);
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

test('trail fields on the sky: a known object fitted from its predicted motion gets trailLength (arcsec), trailAngle (bearing east of north), trailRa/Dec and trailFlux (nJy) of the truth through a rotated WCS', () => {
  const scale = 0.2 / 3600;
  const rot = (35 * Math.PI) / 180;
  const wcs = new TanWcs({
    crpix: [50, 50],
    crval: [150, 20],
    cd: [
      [-scale * Math.cos(rot), scale * Math.sin(rot)],
      [scale * Math.sin(rot), scale * Math.cos(rot)],
    ],
  });
  // Motion over a 30 s exposure: 2.4" on the sky at bearing 60 deg (east of north).
  const exposureTime = 30;
  const bearing = 60;
  const lengthArcsec = 2.4;
  const rate = (lengthArcsec / 3600) * (86400 / exposureTime);
  const ephRateRa = rate * Math.sin((bearing * Math.PI) / 180);
  const ephRateDec = rate * Math.cos((bearing * Math.PI) / 180);
  const half = (s: number) => ({
    ra: Float64Array.of(
      150 + (s * ephRateRa * exposureTime) / 86400 / 2 / Math.cos((20 * Math.PI) / 180),
    ),
    dec: Float64Array.of(20 + (s * ephRateDec * exposureTime) / 86400 / 2),
  });
  const [a, b] = [wcs.skyToPixel(half(-1)), wcs.skyToPixel(half(1))];
  const flux = 20000;
  const light = new Float32Array(SIZE * SIZE);
  addTrail(
    light,
    SIZE,
    { psf, skyAdu: SKY },
    [a.x[0], a.y[0]],
    [b.x[0], b.y[0]],
    flux,
    (psf.stampSize - 1) / 2,
  );
  const rng = rngStream(5, 'trail-sky');
  const image = new Plane(
    light.map((v) => v + Math.sqrt(SKY) * rng.normal()),
    SIZE,
    SIZE,
  );
  const exposure = new Exposure(
    image,
    Plane.zeros(Int32Array, SIZE, SIZE),
    new Plane(new Float32Array(SIZE * SIZE).fill(SKY), SIZE, SIZE),
    wcs,
    psf,
    { ...emptyVisitInfo(), exposureTime, zeroPoint: AB_MAG_OF_1_NJY },
  );
  const source = { diaSourceId: 1, x: 50.3, y: 49.8, trailNdata: 0 } as DiaSource;
  const other = { diaSourceId: 2, x: 20, y: 20, trailNdata: 0 } as DiaSource;
  const matches = new Map([[1, { ssSource: { ephRateRa, ephRateDec }, mpc_orbits: {} }]]);
  assert.equal(measureKnownObjectTrails([source, other], matches, exposure, psf), 1);
  assert.equal(other.trailLength, undefined);
  const where = JSON.stringify(source);
  assert.ok(Math.abs(Number(source.trailLength) - lengthArcsec) < 0.1, where);
  assert.ok(Math.abs(Number(source.trailAngle) - bearing) < 1.5, where);
  assert.ok(Math.abs(Number(source.trailFlux) - flux) < 3 * Number(source.trailFluxErr), where);
  assert.ok(
    Math.abs(Number(source.trailRa) - 150) * Math.cos((20 * Math.PI) / 180) * 3600 < 0.05,
    where,
  );
  assert.ok(Math.abs(Number(source.trailDec) - 20) * 3600 < 0.05, where);
  assert.ok(Number(source.trailDecErr) > 0 && Number(source.trailAngleErr) > 0);
  assert.equal(source.trail_flag_edge, false);
});
