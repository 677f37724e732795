import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GaussianPsf } from '../../shared/detect/analytic-psf.js';
import { forcedPsfFlux } from '../../shared/detect/psf-fit.js';
import { Exposure } from '../../shared/image/exposure.js';
import { gaussian, gridPositions } from './synthetic.js';

/**
 * Bright point sources with their own Poisson noise, the variance plane derived from the noisy
 * pixels as characterization derives it (sky + max(data, 0) / gain): a pixel that fluctuates up
 * gets a larger variance, so weights 1 / V taken pixel by pixel pull the flux low. Weights must
 * not depend on the pixel's own noise (Horne 1986, PASP 98, 609: the variance from the model).
 */
function poissonStars(dataVariance: boolean) {
  const size = 640;
  const sky = 100;
  const flux = 4000;
  const psf = GaussianPsf.fromFwhm(4);
  const exposure = Exposure.blank(size, size);
  const mean = new Float64Array(size * size);
  const stars = gridPositions(size, size, 324, 16, 71);
  for (const s of stars) {
    const stamp = psf.stampAt(s.x, s.y);
    const r = (stamp.size - 1) / 2;
    for (let j = 0; j < stamp.size; j++)
      for (let i = 0; i < stamp.size; i++)
        mean[(Math.round(s.y) + j - r) * size + Math.round(s.x) + i - r] +=
          flux * stamp.data[j * stamp.size + i];
  }
  const normal = gaussian(72);
  for (let k = 0; k < mean.length; k++) {
    const d = mean[k] + Math.sqrt(sky + mean[k]) * normal();
    exposure.image.data[k] = d;
    exposure.variance.data[k] = sky + (dataVariance ? Math.max(d, 0) : mean[k]);
  }
  const fits = stars.map((s) => forcedPsfFlux(exposure, psf, s.x, s.y, 0));
  const ratios = fits.map((f) => f.flux / flux);
  const n = ratios.length;
  const bias = ratios.reduce((a, r) => a + r, 0) / n - 1;
  const std = Math.sqrt(ratios.reduce((a, r) => a + (r - 1 - bias) ** 2, 0) / (n - 1));
  const meanErr = fits.reduce((a, f) => a + f.fluxErr, 0) / n / flux;
  return { bias, error: std / Math.sqrt(n), std, meanErr };
}

for (const dataVariance of [true, false]) {
  test(`forced PSF flux of Poisson-noisy stars is unbiased, variance plane from the ${dataVariance ? 'data' : 'truth'}`, (t) => {
    const r = poissonStars(dataVariance);
    t.diagnostic(
      `bias ${(100 * r.bias).toFixed(3)} +- ${(100 * r.error).toFixed(3)} %, scatter ${(100 * r.std).toFixed(2)} %, mean fluxErr ${(100 * r.meanErr).toFixed(2)} %`,
    );
    assert.ok(Math.abs(r.bias) < 3 * r.error, `bias ${r.bias} +- ${r.error}`);
    // The reported error is the scatter's.
    assert.ok(Math.abs(r.meanErr / r.std - 1) < 0.12, `fluxErr ${r.meanErr} vs scatter ${r.std}`);
  });
}
