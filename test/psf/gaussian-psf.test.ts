import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GaussianPsf } from '../../shared/psf/gaussian-psf.js';

test('normalised odd stamps with the sub-pixel phase, FWHM and sigma from the moments', () => {
  const psf = new GaussianPsf(4, 2.25, 0.5);
  assert.equal(psf.stampSize % 2, 1);
  const s = psf.stampAt(10.4, 20.0);
  assert.ok(Math.abs(s.data.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  const c = (s.size - 1) / 2;
  let mx = 0;
  let mxx = 0;
  for (let j = 0; j < s.size; j++) {
    for (let i = 0; i < s.size; i++) {
      mx += s.data[j * s.size + i] * (i - c);
      mxx += s.data[j * s.size + i] * (i - c - 0.4) ** 2;
    }
  }
  assert.ok(Math.abs(mx - 0.4) < 1e-3, `phase ${mx}`);
  assert.ok(Math.abs(mxx - 4) < 0.01, `ixx ${mxx}`);
  assert.ok(Math.abs(psf.sigmaAt() - Math.sqrt(3.125)) < 1e-12);
  assert.ok(Math.abs(psf.fwhmAt() - 2.3548 * Math.pow(4 * 2.25 - 0.25, 0.25)) < 1e-3);
  assert.throws(() => new GaussianPsf(1, 1, 2), RangeError);
});
