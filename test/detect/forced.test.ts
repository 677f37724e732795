import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GaussianPsf, MoffatPsf } from '../../shared/detect/analytic-psf.js';
import { detectDiaSources, DEFAULT_DETECT_CONFIG } from '../../shared/detect/detect.js';
import { forcedPhotometryAtSky, measureScienceTemplateFluxes } from '../../shared/detect/forced.js';
import { measureSkySources } from '../../shared/detect/sky-sources.js';
import { MaskPlane, UNUSABLE } from '../../shared/image/mask.js';
import { makeTanWcs } from '../../shared/wcs/index.js';
import { addPointSource, noiseExposure, predictedFluxErr } from './synthetic.js';

test('sky sources: measured over predicted PSF-flux scatter is 1.00 +- 0.05 with a varying variance plane and masks', (t) => {
  const psf = new MoffatPsf(4.5, 3);
  const exposure = noiseExposure(1024, 1024, (x, y) => 40 + 0.2 * x + 0.1 * y, 51, psf);
  for (let y = 300; y < 340; y++)
    for (let x = 0; x < 1024; x++) exposure.mask.data[y * 1024 + x] |= MaskPlane.BAD;
  const sky = measureSkySources(exposure, psf, 3000, UNUSABLE, 52);
  t.diagnostic(
    `sky-source noise ratio ${sky.noiseRatio.toFixed(3)} over ${sky.count}, mean SNR ${sky.meanSnr.toFixed(3)}`,
  );
  assert.equal(sky.count, 3000);
  assert.ok(Math.abs(sky.noiseRatio - 1) <= 0.05, `noise ratio ${sky.noiseRatio}`);
  assert.ok(Math.abs(sky.meanSnr) < 0.1);
});

test('sky sources reveal correlated noise the variance plane ignores', () => {
  const psf = GaussianPsf.fromFwhm(4);
  const white = noiseExposure(512, 512, () => 100, 53, psf);
  // Each pixel the sum of 2x2 neighbours: the variance plane (x4) is right per pixel but not at the PSF scale.
  const smooth = noiseExposure(512, 512, () => 400, 54, psf);
  for (let y = 0; y < 511; y++) {
    for (let x = 0; x < 511; x++) {
      const k = y * 512 + x;
      smooth.image.data[k] =
        white.image.data[k] +
        white.image.data[k + 1] +
        white.image.data[k + 512] +
        white.image.data[k + 513];
    }
  }
  const sky = measureSkySources(smooth, psf, 1000, UNUSABLE, 55);
  assert.ok(sky.noiseRatio > 1.5, `noise ratio ${sky.noiseRatio} for correlated noise`);
});

test('detection reports sky sources, sky coordinates through the WCS, and forced photometry at sky positions', () => {
  const psf = GaussianPsf.fromFwhm(4);
  const exposure = noiseExposure(512, 512, () => 100, 56, psf);
  exposure.wcs = makeTanWcs({
    crpix: [255.5, 255.5],
    crval: [150, 2],
    cd: [
      [-5.5e-5, 0],
      [0, 5.5e-5],
    ],
  });
  const err = predictedFluxErr(psf, 0, 0, 100);
  addPointSource(exposure, psf, 200.2, 300.7, 30 * err);
  const { sources, skySources } = detectDiaSources(exposure, psf, {
    ...DEFAULT_DETECT_CONFIG,
    skySources: 500,
  });
  assert.equal(sources.length, 1);
  assert.equal(skySources.count, 500);
  assert.ok(Math.abs(skySources.noiseRatio - 1) < 0.1);
  const [s] = sources;
  const back = exposure.wcs.skyToPixel({ ra: Float64Array.of(s.ra), dec: Float64Array.of(s.dec) });
  assert.ok(Math.abs(back.x[0] - s.x) < 1e-6 && Math.abs(back.y[0] - s.y) < 1e-6);
  assert.ok(
    Math.abs(s.decErr / (5.5e-5 * s.yErr) - 1) < 1e-3,
    'decErr is yErr times the pixel scale',
  );
  const truth = exposure.wcs.pixelToSky({
    x: Float64Array.of(200.2, 5000),
    y: Float64Array.of(300.7, 10),
  });
  const [on, off] = forcedPhotometryAtSky(exposure, psf, truth.ra, truth.dec);
  assert.ok(Math.abs(on.flux / (30 * err) - 1) < 0.15 && Math.abs(on.fluxErr / err - 1) < 1e-3);
  assert.ok(Number.isNaN(off.flux) && off.ndata === 0, 'a position off the image has no flux');

  const science = noiseExposure(512, 512, () => 100, 57, psf);
  addPointSource(science, psf, 200.2, 300.7, 80 * err);
  const template = noiseExposure(512, 512, () => 100, 58, psf);
  addPointSource(template, psf, 200.2, 300.7, 50 * err);
  measureScienceTemplateFluxes(sources, { science, template });
  assert.ok(
    Math.abs(s.scienceFlux / (80 * err) - 1) < 0.05 &&
      Math.abs(s.templateFlux / (50 * err) - 1) < 0.05,
  );
  assert.ok(Math.abs(s.scienceFluxErr / err - 1) < 1e-3);
});
