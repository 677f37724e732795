import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitProfile } from '../../shared/psf/profile-fit.js';
import { GaussianPsf } from '../../shared/psf/gaussian-psf.js';
import { MoffatPsf } from '../../shared/sim/moffat.js';

test('the pixel-free Moffat FWHM of pixel-integrated Moffat stamps is recovered to 0.5%', () => {
  for (const fwhm of [2.5, 3.5, 5]) {
    for (const beta of [2.5, 4.5]) {
      const psf = new MoffatPsf({
        size: 100,
        fwhm,
        beta,
        gradU: 0,
        gradV: 0,
        curvature: 0,
        e1c: 0.06,
        e2c: -0.03,
        astig: 0,
      });
      const stamp = psf.stampAt(50.2, 49.7);
      const fit = fitProfile(stamp.data, stamp.size, fwhm * 1.2);
      assert.ok(Math.abs(fit.fwhm / fwhm - 1) < 0.005, `FWHM ${fwhm}, beta ${beta}: ${fit.fwhm}`);
      assert.ok(Math.abs(fit.beta / beta - 1) < 0.05, `beta ${fit.beta}`);
      assert.ok(
        Math.abs(fit.dx - 0.2) < 0.01 && Math.abs(fit.dy + 0.3) < 0.01,
        `centre (${fit.dx}, ${fit.dy})`,
      );
    }
  }
});

test("a Gaussian fit to a sampled Gaussian returns its FWHM; pixelisation widens a Moffat's Gaussian-core FWHM", () => {
  const g = GaussianPsf.fromFwhm(4.2);
  const stamp = g.stampAt(0, 0, true);
  assert.ok(Math.abs(fitProfile(stamp.data, stamp.size, 3, 'gaussian').fwhm - 4.2) < 1e-3);
  const m = new MoffatPsf({
    size: 100,
    fwhm: 3,
    beta: 3,
    gradU: 0,
    gradV: 0,
    curvature: 0,
    e1c: 0,
    e2c: 0,
    astig: 0,
  }).stampAt(50, 50, true);
  assert.ok(fitProfile(m.data, m.size, 3, 'gaussian').fwhm > 3);
});
