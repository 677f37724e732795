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

test('noise correlated on the PSF scale that VARIANCE misses: the threshold rises by the sky sources noise ratio and the noise peaks go', (t) => {
  // White noise through (b 1 b) x (b 1 b) taps, VARIANCE right per pixel: the forced PSF flux's scatter
  // over its predicted error is sqrt(sum_l c(l) R(l) / R(0)), c the taps' autocorrelation and R the PSF's.
  const psf = GaussianPsf.fromFwhm(4);
  const n = 512;
  const b = 0.08;
  const white = noiseExposure(n, n, () => 1, 61, psf);
  const exposure = noiseExposure(n, n, () => 100, 62, psf);
  const taps = [b, 1, b].map((v) => v / Math.sqrt(1 + 2 * b * b));
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      let c = 0;
      for (let j = -1; j <= 1; j++)
        for (let i = -1; i <= 1; i++) {
          const k = Math.min(n - 1, Math.max(0, y + j)) * n + Math.min(n - 1, Math.max(0, x + i));
          c += taps[i + 1] * taps[j + 1] * white.image.data[k];
        }
      exposure.image.data[y * n + x] = 10 * c;
    }
  const lagC = [
    taps[0] * taps[2],
    2 * taps[0] * taps[1],
    1,
    2 * taps[0] * taps[1],
    taps[0] * taps[2],
  ];
  const stamp = psf.stampAt(0, 0);
  const s = stamp.size;
  const psfAutocorrelation = (lx: number, ly: number): number => {
    let sum = 0;
    for (let y = Math.max(0, -ly); y < Math.min(s, s - ly); y++)
      for (let x = Math.max(0, -lx); x < Math.min(s, s - lx); x++)
        sum += stamp.data[y * s + x] * stamp.data[(y + ly) * s + x + lx];
    return sum;
  };
  let ratio2 = 0;
  for (let ly = -2; ly <= 2; ly++)
    for (let lx = -2; lx <= 2; lx++)
      ratio2 += lagC[lx + 2] * lagC[ly + 2] * psfAutocorrelation(lx, ly);
  const predicted = Math.sqrt(ratio2 / psfAutocorrelation(0, 0));
  const err = predictedFluxErr(psf, 0, 0, 100);
  const truth: Array<[number, number]> = [];
  for (let k = 0; k < 16; k++) {
    truth.push([48 + (k % 4) * 138, 48 + Math.floor(k / 4) * 138]);
    addPointSource(exposure, psf, truth[k][0], truth[k][1], 30 * err);
  }
  const falseCount = (above: number): { count: number; scale: number } => {
    const r = detectDiaSources(exposure, psf, {
      ...DEFAULT_DETECT_CONFIG,
      rescaleThresholdAbove: above,
    });
    const found = truth.filter(([x, y]) => r.sources.some((d) => Math.hypot(d.x - x, d.y - y) < 2));
    assert.equal(found.length, truth.length, 'every SNR-30 source found');
    return { count: r.sources.length - found.length, scale: r.thresholdScale };
  };
  const off = falseCount(Infinity);
  const on = falseCount(DEFAULT_DETECT_CONFIG.rescaleThresholdAbove);
  t.diagnostic(
    `predicted PSF-scale noise ratio ${predicted.toFixed(3)}, threshold scale ${on.scale.toFixed(3)}; false detections ${off.count} -> ${on.count}`,
  );
  assert.ok(Math.abs(on.scale - predicted) < 0.08, `scale ${on.scale} vs ${predicted}`);
  assert.equal(off.scale, 1);
  assert.ok(off.count >= 5, `${off.count} noise peaks at 5 sigma of VARIANCE`);
  assert.ok(on.count <= 1, `${on.count} noise peaks after rescaling`);
});
