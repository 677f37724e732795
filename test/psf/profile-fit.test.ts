import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitProfile } from '../../shared/psf/profile-fit.js';
import { GaussianPsf } from '../../shared/psf/gaussian-psf.js';
import { MoffatPsf } from '../../shared/sim/moffat.js';

test('the pixel-free Moffat FWHM of pixel-integrated Moffat stamps is recovered to 0.5%', () => {
  for (const fwhm of [2.5, 3.5, 5]) {
    for (const beta of [2.5, 4.5]) {
      const psf = MoffatPsf.uniform(100, fwhm, beta, 0.06, -0.03);
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
  const m = MoffatPsf.uniform(100, 3, 3).stampAt(50, 50, true);
  assert.ok(fitProfile(m.data, m.size, 3, 'gaussian').fwhm > 3);
});
