import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MoffatPsf, GaussianPsf } from '../../shared/detect/analytic-psf.js';
import {
  detectDiaSources,
  detectDiaSourcesParallel,
  DEFAULT_DETECT_CONFIG,
  type DetectResult,
} from '../../shared/detect/detect.js';
import { Exposure } from '../../shared/image/exposure.js';
import { fitCompleteness } from '../../shared/detect/completeness.js';
import { mulberry32 } from '../../shared/util/random.js';
import { MaskPlane, UNUSABLE } from '../../shared/image/mask.js';
import { likelihoodImage } from '../../shared/detect/likelihood.js';
import { GridPsf } from '../../shared/diffim/psf-grid.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import type { Psf } from '../../shared/psf/types.js';
import { addPointSource, gridPositions, noiseExposure, predictedFluxErr } from './synthetic.js';

const VARIANCE = 100;

/** Injected point sources of log-uniform |SNR| in [3, 50], half of them negative, on white noise. */
function injectedField(size: number, count: number, seed: number) {
  const psf = new MoffatPsf(4, 3.5);
  const exposure = noiseExposure(size, size, () => VARIANCE, seed, psf);
  const err = predictedFluxErr(psf, 0, 0, VARIANCE);
  const uniform = mulberry32(seed + 1);
  const truth = gridPositions(size, size, count, 24, seed + 2).map((p) => {
    const snr = 3 * (50 / 3) ** uniform() * (uniform() < 0.5 ? -1 : 1);
    addPointSource(exposure, psf, p.x, p.y, snr * err);
    return { ...p, snr, flux: snr * err };
  });
  return { psf, exposure, truth };
}

/** Nearest detection within `radius` px of each truth position (index or -1). */
function match(
  truth: Array<{ x: number; y: number }>,
  sources: Array<{ x: number; y: number }>,
  radius: number,
): number[] {
  return truth.map((t) => {
    let best = -1;
    let bestD = radius;
    sources.forEach((s, i) => {
      const d = Math.hypot(s.x - t.x, s.y - t.y);
      if (d < bestD) [best, bestD] = [i, d];
    });
    return best;
  });
}

test('matched-filter detection: completeness, 50% point at the threshold, flux bias, no false positives', (t) => {
  const { psf, exposure, truth } = injectedField(2048, 2000, 11);
  const { sources } = detectDiaSources(exposure, psf, { ...DEFAULT_DETECT_CONFIG, skySources: 0 });
  const matches = match(truth, sources, 2);
  const detected = matches.map(
    (m, i) => m >= 0 && Math.sign(sources[m].psfFlux) === Math.sign(truth[i].flux),
  );
  const bright = truth.map((t, i) => ({ t, i })).filter(({ t }) => Math.abs(t.snr) >= 6);
  const completeness6 = bright.filter(({ i }) => detected[i]).length / bright.length;
  assert.ok(completeness6 >= 0.97, `completeness at |SNR| >= 6 is ${completeness6}`);
  const ratios = bright
    .filter(({ i }) => detected[i])
    .map(({ t, i }) => sources[matches[i]].psfFlux / t.flux)
    .sort((a, b) => a - b);
  const bias = ratios[ratios.length >> 1] - 1;
  assert.ok(Math.abs(bias) < 0.02, `flux bias at |SNR| >= 6 is ${bias}`);
  const fit = fitCompleteness(
    truth.map((t) => Math.abs(t.snr)),
    detected,
  );
  assert.ok(Math.abs(fit.snr50 - 5) <= 0.3, `50% completeness at SNR ${fit.snr50}`);
  assert.ok(
    fit.width > 0.5 && fit.width < 1.5,
    `completeness transition width ${fit.width} (theory: 1)`,
  );
  const claimed = new Set(matches);
  const spurious = sources.filter((_, i) => !claimed.has(i));
  t.diagnostic(
    `completeness(|SNR|>=6) ${completeness6.toFixed(4)}, flux bias ${bias.toFixed(4)}, snr50 ${fit.snr50.toFixed(2)}, width ${fit.width.toFixed(2)}, spurious ${spurious.length}`,
  );
  assert.ok(spurious.length <= 3, `${spurious.length} detections match no injected source`);
  const negatives = sources.filter((s) => s.isNegative);
  assert.ok(
    negatives.length > 0 && negatives.every((s) => s.psfFlux < 0),
    'negative sources carry negative flux',
  );
});

test('PSF flux and centroid errors match the scatter (pulls of unit width)', (t) => {
  const psf = GaussianPsf.fromFwhm(3.5);
  const exposure = noiseExposure(1024, 1024, (x) => 50 + x / 10, 21, psf);
  const uniform = mulberry32(22);
  const truth = gridPositions(1024, 1024, 400, 20, 23).map((p) => {
    const flux = 20 * predictedFluxErr(psf, p.x, p.y, 50 + p.x / 10);
    addPointSource(exposure, psf, p.x, p.y, flux * (0.8 + 0.4 * uniform()));
    return p;
  });
  const { sources } = detectDiaSources(exposure, psf, { ...DEFAULT_DETECT_CONFIG, skySources: 0 });
  const matches = match(truth, sources, 2);
  assert.ok(
    matches.every((m) => m >= 0),
    'every SNR-20 source is found',
  );
  const std = (values: number[]) =>
    Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
  const xPull = std(matches.map((m, i) => (sources[m].x - truth[i].x) / sources[m].xErr));
  const yPull = std(matches.map((m, i) => (sources[m].y - truth[i].y) / sources[m].yErr));
  t.diagnostic(`centroid pulls ${xPull.toFixed(3)}, ${yPull.toFixed(3)}`);
  assert.ok(
    Math.abs(xPull - 1) < 0.12 && Math.abs(yPull - 1) < 0.12,
    `centroid pulls ${xPull}, ${yPull}`,
  );
  const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];
  // A pixel-integrated Gaussian has second moments sigma^2 + 1/12.
  const size = psf.sigma ** 2 + 1 / 12;
  for (const key of ['ixx', 'iyy'] as const) {
    const m = median(matches.map((i) => sources[i][key]));
    assert.ok(Math.abs(m / size - 1) < 0.05, `median ${key} ${m}, expected ${size}`);
  }
  assert.ok(Math.abs(median(matches.map((i) => sources[i].ixy))) < 0.05);
  for (const m of matches) {
    const s = sources[m];
    assert.ok(Math.abs(s.snr - s.psfFlux / s.psfFluxErr) < 1e-9);
    assert.ok(s.apFluxErr > s.psfFluxErr, 'a 12 px aperture is noisier than the PSF fit');
  }
});

test('masked pixels: EDGE and NO_DATA are not detected, SAT and CR are flagged, footprints set DETECTED bits', () => {
  const psf = GaussianPsf.fromFwhm(4);
  const exposure = noiseExposure(300, 300, () => VARIANCE, 31, psf);
  const err = predictedFluxErr(psf, 0, 0, VARIANCE);
  for (let y = 0; y < 300; y++)
    for (let x = 0; x < 8; x++) exposure.mask.data[y * 300 + x] |= MaskPlane.EDGE;
  addPointSource(exposure, psf, 3.2, 150.4, 100 * err);
  addPointSource(exposure, psf, 100.3, 100.1, 40 * err);
  exposure.mask.data[100 * 300 + 101] |= MaskPlane.SAT;
  addPointSource(exposure, psf, 200.6, 200.2, -40 * err);
  exposure.mask.data[203 * 300 + 203] |= MaskPlane.CR;
  const { sources } = detectDiaSources(exposure, psf, { ...DEFAULT_DETECT_CONFIG, skySources: 0 });
  assert.equal(sources.length, 2, `sources at ${sources.map((s) => `${s.x},${s.y}`).join(' ')}`);
  const [sat, neg] = [...sources].sort((a, b) => a.x - b.x);
  assert.ok(sat.flags.saturated && sat.flags.saturatedCenter && !sat.isNegative);
  assert.ok(neg.flags.cr && !neg.flags.crCenter && neg.isNegative && neg.snr < -30);
  assert.ok(
    Math.abs(sat.psfFlux / (40 * err) - 1) < 0.1,
    'the fit skips the saturated pixel but keeps the flux',
  );
  assert.ok(exposure.mask.get(100, 100) & MaskPlane.DETECTED);
  assert.ok(exposure.mask.get(200, 200) & MaskPlane.DETECTED_NEGATIVE);
  assert.equal(exposure.mask.get(50, 250) & (MaskPlane.DETECTED | MaskPlane.DETECTED_NEGATIVE), 0);
});

test('no detection where most of the PSF information is masked', () => {
  const psf = GaussianPsf.fromFwhm(4);
  const exposure = noiseExposure(120, 120, () => VARIANCE, 33, psf);
  for (let y = 50; y < 60; y++)
    for (let x = 50; x < 60; x++) exposure.mask.data[y * 120 + x] |= MaskPlane.BAD;
  // A bright point source straddling the block's edge: 4 of its brightest pixels are unmasked.
  addPointSource(exposure, psf, 58.6, 55, 300 * predictedFluxErr(psf, 0, 0, VARIANCE));
  const rule = { excludeBits: UNUSABLE, growBits: 0, growRadius: 0 };
  const strict = likelihoodImage(exposure, psf, rule, 0.5);
  const lax = likelihoodImage(exposure, psf, rule, 0);
  assert.equal(
    strict.significance[55 * 120 + 55],
    0,
    'inside the block the significance is suppressed',
  );
  assert.ok(
    Math.abs(lax.significance[55 * 120 + 58]) > 5,
    'without the rule the edge pixels alone make a detection',
  );
  assert.ok(
    Math.abs(strict.significance[55 * 120 + 61]) > 5,
    'just outside the block the source is still detected',
  );
  assert.ok(strict.significance[20 * 120 + 20] !== 0, 'clean pixels keep their significance');
});

test('the two-thread matched filter gives the same sources as the single-thread one', async () => {
  const { psf, exposure } = injectedField(512, 120, 81);
  const copy = new Exposure(
    exposure.image.clone(),
    exposure.mask.clone(),
    exposure.variance.clone(),
  );
  const one = detectDiaSources(exposure, psf, { ...DEFAULT_DETECT_CONFIG, skySources: 0 });
  const two = await detectDiaSourcesParallel(copy, psf, {
    ...DEFAULT_DETECT_CONFIG,
    skySources: 0,
  });
  assert.ok(one.sources.length > 50);
  assert.deepEqual(two.sources, one.sources);
  assert.deepEqual(copy.mask.data, exposure.mask.data);
});

/** A 3 x 3 grid of `psf`'s stamps over a 512 px field, as the subtraction's GridPsf. */
function gridOf(psf: Psf): GridPsf {
  const at = [0, 255.5, 511];
  return new GridPsf(
    at,
    at,
    at.flatMap((y) => at.map((x) => Float32Array.from(psf.stampAt(x, y, true).data))),
    psf.stampSize,
  );
}

/** detectDiaSources and, on a copy, detectDiaSourcesParallel with one worker, with `psf` as a GridPsf; the worker's tasks. */
async function onOneAndTwoThreads(
  exposure: Exposure,
  psf: Psf,
  config: typeof DEFAULT_DETECT_CONFIG,
): Promise<{ one: DetectResult; two: DetectResult; tasks: string[] }> {
  const grid = gridOf(psf);
  const copy = new Exposure(
    exposure.image.clone(),
    exposure.mask.clone(),
    exposure.variance.clone(),
  );
  const one = detectDiaSources(exposure, grid, config);
  const pool = new WorkerPool(1);
  const tasks: string[] = [];
  const run = pool.runTask.bind(pool);
  pool.runTask = (task, args) => (tasks.push(task.fn), run(task, args));
  try {
    return { one, two: await detectDiaSourcesParallel(copy, grid, config, pool), tasks };
  } finally {
    await pool.close();
  }
}

test("with the subtraction's grid PSF, half the footprints measured on a worker: the same sources, in the same order", async () => {
  const { psf, exposure } = injectedField(512, 120, 82);
  // Negative sources too, and a dipole, so that footprints stay on this thread.
  for (const [x, y] of [
    [100.3, 400.6],
    [300.8, 90.2],
  ])
    addPointSource(exposure, psf, x, y, -40 * predictedFluxErr(psf, 0, 0, VARIANCE));
  addPointSource(exposure, psf, 250, 250, 60 * predictedFluxErr(psf, 0, 0, VARIANCE));
  addPointSource(exposure, psf, 253, 250, -60 * predictedFluxErr(psf, 0, 0, VARIANCE));
  const { one, two, tasks } = await onOneAndTwoThreads(exposure, psf, {
    ...DEFAULT_DETECT_CONFIG,
    skySources: 0,
  });
  assert.ok(one.sources.length > 50);
  assert.ok(one.sources.some((s) => s.isNegative) && one.sources.some((s) => s.isDipole));
  assert.deepEqual(two.sources, one.sources);
  assert.ok(tasks.includes('measureFootprintsShared'), tasks.join());
});

test("with the subtraction's grid PSF, the sky sources measured half on a worker: the same figures", async () => {
  const { psf, exposure } = injectedField(512, 120, 83);
  const { one, two, tasks } = await onOneAndTwoThreads(exposure, psf, {
    ...DEFAULT_DETECT_CONFIG,
    skySources: 301,
  });
  assert.ok(one.skySources.count > 250, String(one.skySources.count));
  assert.deepEqual(two.skySources, one.skySources);
  assert.equal(two.thresholdScale, one.thresholdScale);
  assert.deepEqual(two.sources, one.sources);
  assert.ok(tasks.includes('skyFluxesShared'), tasks.join());
});

test("INEXACT_PSF pixels (a template's bright source missing a large share of its inputs): a 10 sigma residual is not detected, a 60 sigma change is", () => {
  const psf = GaussianPsf.fromFwhm(4);
  const found = (snr: number, flagged: boolean) => {
    const exposure = noiseExposure(120, 120, () => VARIANCE, 35, psf);
    addPointSource(exposure, psf, 60, 60, snr * predictedFluxErr(psf, 0, 0, VARIANCE));
    if (flagged)
      for (let y = 50; y <= 70; y++)
        for (let x = 50; x <= 70; x++) exposure.mask.data[y * 120 + x] |= MaskPlane.INEXACT_PSF;
    const config = { ...DEFAULT_DETECT_CONFIG, skySources: 0 };
    return detectDiaSources(exposure, psf, config).sources.filter(
      (s) => Math.hypot(s.x - 60, s.y - 60) < 3,
    ).length;
  };
  assert.equal(found(10, false), 1, 'the residual is detected without the flag');
  assert.equal(found(10, true), 0, 'and not with it');
  assert.equal(found(60, true), 1, 'a large change under the flag is detected');
});
