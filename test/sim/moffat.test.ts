import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addMoffat,
  moffatAlpha,
  moffatShape,
  MoffatPsf,
  type MoffatField,
} from '../../shared/sim/moffat.js';

const FIELD: MoffatField = {
  size: 1000,
  fwhm: 3.5,
  beta: 3.5,
  gradU: 0.02,
  gradV: -0.015,
  curvature: 0.02,
  e1c: 0.01,
  e2c: -0.01,
  astig: 0.05,
};

function centroid(data: Float32Array, size: number): [number, number] {
  let s = 0;
  let sx = 0;
  let sy = 0;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      s += data[j * size + i];
      sx += data[j * size + i] * i;
      sy += data[j * size + i] * j;
    }
  }
  return [sx / s, sy / s];
}

test('PSF stamps are normalised, odd-sized and keep the sub-pixel phase', () => {
  const psf = new MoffatPsf(FIELD);
  assert.equal(psf.stampSize % 2, 1);
  const half = (psf.stampSize - 1) / 2;
  for (const [x, y] of [
    [100.3, 200.8],
    [500, 500],
    [950.45, 12.2],
  ]) {
    const stamp = psf.stampAt(x, y);
    assert.equal(stamp.size, psf.stampSize);
    assert.ok(Math.abs(stamp.data.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    const [cx, cy] = centroid(stamp.data, stamp.size);
    // Centroid lands at the phase (x - round(x)); the truncated wings of an elliptical profile shift it by < 0.01 px.
    assert.ok(Math.abs(cx - half - (x - Math.round(x))) < 0.01, `x phase at ${x}: ${cx - half}`);
    assert.ok(Math.abs(cy - half - (y - Math.round(y))) < 0.01, `y phase at ${y}: ${cy - half}`);
    const [ccx, ccy] = centroid(psf.stampAt(x, y, true).data, stamp.size);
    assert.ok(Math.abs(ccx - half) < 0.01 && Math.abs(ccy - half) < 0.01);
  }
});

test("the FWHM of a rendered round Moffat is Moffat's 2 alpha sqrt(2^(1/beta) - 1)", () => {
  for (const [fwhm, beta] of [
    [2.5, 3],
    [4, 4.5],
  ]) {
    // Render 10x finer (a 10x wider profile at unit flux) and find the half-maximum crossing along x.
    const scale = 10;
    const size = 401;
    const c = (size - 1) / 2;
    const img = new Float64Array(size * size);
    addMoffat(img, size, size, c, c, moffatShape(fwhm * scale, beta, 0, 0), 1, size);
    const row = img.subarray(c * size, (c + 1) * size);
    const peak = row[c];
    let i = c;
    while (row[i + 1] > peak / 2) i++;
    const crossing = i + (row[i] - peak / 2) / (row[i] - row[i + 1]);
    const measured = (2 * (crossing - c)) / scale;
    assert.ok(
      Math.abs(measured / fwhm - 1) < 0.005,
      `fwhm ${fwhm} beta ${beta}: measured ${measured}`,
    );
    assert.ok(
      Math.abs(moffatAlpha(fwhm, beta) * 2 * Math.sqrt(2 ** (1 / beta) - 1) - fwhm) < 1e-12,
    );
  }
});

test('a Moffat holds its flux: the infinite-plane normalisation (beta - 1) / (pi alpha^2)', () => {
  const size = 801;
  const c = 400;
  const img = new Float64Array(size * size);
  const shape = moffatShape(3, 4.5, 0.1, 0.7);
  addMoffat(img, size, size, c + 0.3, c - 0.2, shape, 1000, 400);
  const total = img.reduce((a, b) => a + b, 0);
  // The light beyond r = 400 px is (1 + r^2/alpha^2)^(1 - beta) ~ 1e-13 of the total; what is
  // missing is the midpoint rule's error on the sub-sampled peak, below 0.1%.
  assert.ok(Math.abs(total - 1000) < 1, `total ${total}`);
});

test('FWHM and sigma vary across the detector as configured, and sigma matches the stamp moments', () => {
  const psf = new MoffatPsf(FIELD);
  const corners = [
    [0, 0],
    [999, 0],
    [0, 999],
    [999, 999],
  ].map(([x, y]) => psf.fwhmAt(x, y));
  const centre = psf.fwhmAt(499.5, 499.5);
  assert.ok(Math.abs(centre - FIELD.fwhm) < 1e-9);
  const spread = (Math.max(...corners, centre) - Math.min(...corners, centre)) / centre;
  assert.ok(spread > 0.03 && spread < 0.15, `FWHM spread ${spread}`);
  // The Gaussian-equivalent sigma of a Moffat lies between the FWHM's Gaussian sigma and
  // the untruncated moment alpha / sqrt(2 (beta - 2)).
  const sigma = psf.sigmaAt(499.5, 499.5);
  const alpha = moffatAlpha(FIELD.fwhm, FIELD.beta);
  assert.ok(
    sigma > FIELD.fwhm / 2.3548 && sigma < alpha / Math.sqrt(2 * (FIELD.beta - 2)),
    `sigma ${sigma}`,
  );
});
