import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MoffatPsf } from '../../shared/detect/analytic-psf.js';
import { DEFAULT_FAKES_CONFIG, runFakes } from '../../shared/detect/fakes.js';
import { mulberry32 } from '../../shared/util/random.js';
import type { Exposure } from '../../shared/image/exposure.js';
import { Exposure as ExposureClass } from '../../shared/image/exposure.js';
import { Plane } from '../../shared/image/plane.js';
import { gaussian, noiseExposure } from './synthetic.js';

const SIZE = 1536;
const SKY_VARIANCE = 60;

/** Adds round exponential-profile galaxies (scale length 3 px) convolved roughly with the PSF. */
function addGalaxies(
  exposure: Exposure,
  galaxies: Array<{ x: number; y: number; flux: number }>,
): void {
  for (const g of galaxies) {
    const r0 = 3;
    for (let y = Math.max(0, Math.floor(g.y - 25)); y <= Math.min(SIZE - 1, g.y + 25); y++) {
      for (let x = Math.max(0, Math.floor(g.x - 25)); x <= Math.min(SIZE - 1, g.x + 25); x++) {
        const r = Math.hypot(x - g.x, y - g.y);
        exposure.image.data[y * SIZE + x] +=
          (g.flux / (2 * Math.PI * (r0 + 1) ** 2)) * Math.exp(-r / (r0 + 1));
      }
    }
  }
}

test('fake injection on a same-PSF pair: completeness, 50% point, flux bias, purity', async (t) => {
  const psf = new MoffatPsf(4, 3.5);
  const random = mulberry32(61);
  const galaxies = Array.from({ length: 300 }, () => ({
    x: 40 + random() * (SIZE - 80),
    y: 40 + random() * (SIZE - 80),
    flux: 3000 + 20000 * random(),
  }));
  // The host adds its own Poisson noise to both images (gain 1): variance = sky + galaxy.
  const science = noiseExposure(SIZE, SIZE, () => SKY_VARIANCE, 62, psf);
  const template = noiseExposure(SIZE, SIZE, () => SKY_VARIANCE, 63, psf);
  const model = new ExposureClass(
    Plane.zeros(Float32Array, SIZE, SIZE),
    Plane.zeros(Int32Array, SIZE, SIZE),
    Plane.zeros(Float32Array, SIZE, SIZE),
  );
  addGalaxies(model, galaxies);
  const normal = gaussian(64);
  for (const e of [science, template]) {
    for (let k = 0; k < SIZE * SIZE; k++) {
      const m = model.image.data[k];
      e.image.data[k] += m + Math.sqrt(m) * normal();
      e.variance.data[k] += m;
    }
  }
  // Same PSF and scale: the difference is the pixel difference, variances add.
  const differencer = (s: Exposure) => {
    const difference = noiseExposure(SIZE, SIZE, () => 0, 65, psf);
    for (let k = 0; k < SIZE * SIZE; k++) {
      difference.image.data[k] = s.image.data[k] - template.image.data[k];
      difference.variance.data[k] = s.variance.data[k] + template.variance.data[k];
    }
    return { difference, differencePsf: psf };
  };
  const { report, fakes } = await runFakes(science, psf, differencer, {
    config: { ...DEFAULT_FAKES_CONFIG, count: 400, seed: 66 },
    real: [],
  });
  t.diagnostic(JSON.stringify({ ...report, bins: undefined, outcomes: undefined }));
  assert.equal(report.injected, 400);
  assert.ok(report.onHost >= 150, `${report.onHost} fakes on hosts`);
  assert.ok(fakes.every((f) => f.snr >= 3 && f.snr <= 50));
  assert.ok(report.completenessAboveCut >= 0.97, `completeness ${report.completenessAboveCut}`);
  assert.ok(Math.abs(report.snr50 - 5) <= 0.3, `snr50 ${report.snr50}`);
  assert.ok(Math.abs(report.fluxBias) < 0.02, `flux bias ${report.fluxBias}`);
  assert.ok(report.purityRaw.purity >= 0.99, `purity ${JSON.stringify(report.purityRaw)}`);
  assert.equal(report.purityAfterRb, null, 'no real/bogus scores, no after-cut purity');
  assert.ok(report.bins.reduce((s, b) => s + b.injected, 0) === 400);
});
