import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GaussianPsf } from '../../shared/detect/analytic-psf.js';
import { detectDiaSources, DEFAULT_DETECT_CONFIG } from '../../shared/detect/detect.js';
import { addPointSource, noiseExposure, predictedFluxErr } from './synthetic.js';

const VARIANCE = 100;

test('dipoles: merged lobes are fitted for separation, fluxes and angle to 10%', (t) => {
  const psf = GaussianPsf.fromFwhm(4);
  const exposure = noiseExposure(600, 600, () => VARIANCE, 41, psf);
  const err = predictedFluxErr(psf, 0, 0, VARIANCE);
  const cases = [
    { x: 100.3, y: 100.7, sep: 4, angle: 30, pos: 60, neg: -60 },
    { x: 300.6, y: 120.2, sep: 6, angle: -100, pos: 50, neg: -35 },
    { x: 480.1, y: 130.5, sep: 8, angle: 170, pos: 30, neg: -45 },
    { x: 150.8, y: 400.4, sep: 5, angle: 80, pos: 100, neg: -90 },
    { x: 420.2, y: 420.9, sep: 10, angle: 0, pos: 40, neg: -40 },
  ];
  for (const c of cases) {
    const a = (c.angle * Math.PI) / 180;
    const dx = (c.sep / 2) * Math.cos(a);
    const dy = (c.sep / 2) * Math.sin(a);
    addPointSource(exposure, psf, c.x + dx, c.y + dy, c.pos * err);
    addPointSource(exposure, psf, c.x - dx, c.y - dy, c.neg * err);
  }
  addPointSource(exposure, psf, 300.2, 300.1, 40 * err);
  const { sources } = detectDiaSources(exposure, psf, { ...DEFAULT_DETECT_CONFIG, skySources: 0 });
  assert.equal(
    sources.length,
    cases.length + 1,
    'one source per dipole plus the lone point source',
  );
  for (const c of cases) {
    const s = sources.find((d) => Math.hypot(d.x - c.x, d.y - c.y) < 2);
    assert.ok(s?.isDipole, `dipole at ${c.x},${c.y} found`);
    const meanFlux = ((c.pos - c.neg) / 2) * err;
    t.diagnostic(
      `sep ${c.sep}: fitted ${s.dipoleSep.toFixed(2)}, mean flux ${(s.dipoleMeanFlux / meanFlux).toFixed(3)} of truth, angle ${s.dipoleAngle.toFixed(1)}`,
    );
    assert.ok(Math.abs(s.dipoleSep / c.sep - 1) < 0.1, `separation ${s.dipoleSep} vs ${c.sep}`);
    assert.ok(
      Math.abs(s.dipoleMeanFlux / meanFlux - 1) < 0.1,
      `mean flux ${s.dipoleMeanFlux} vs ${meanFlux}`,
    );
    assert.ok(
      Math.abs(s.dipoleFluxDiff - (c.pos + c.neg) * err) < 0.1 * meanFlux,
      `flux difference ${s.dipoleFluxDiff}`,
    );
    const dAngle = ((s.dipoleAngle - c.angle + 540) % 360) - 180;
    assert.ok(Math.abs(dAngle) < 10, `angle ${s.dipoleAngle} vs ${c.angle}`);
    if (c.pos + c.neg !== 0) assert.equal(s.isNegative, c.pos + c.neg < 0);
  }
  const lone = sources.find((d) => Math.hypot(d.x - 300.2, d.y - 300.1) < 1);
  assert.ok(lone && !lone.isDipole && Number.isNaN(lone.dipoleSep));
});

test('a faint negative neighbour of a bright source is not called a dipole', () => {
  const psf = GaussianPsf.fromFwhm(4);
  const exposure = noiseExposure(200, 200, () => VARIANCE, 43, psf);
  const err = predictedFluxErr(psf, 0, 0, VARIANCE);
  addPointSource(exposure, psf, 100, 100, 200 * err);
  addPointSource(exposure, psf, 108, 100, -5.5 * err);
  const { sources } = detectDiaSources(exposure, psf, {
    ...DEFAULT_DETECT_CONFIG,
    skySources: 0,
    dipoleLobeMinSnr: 8,
  });
  assert.ok(sources.every((s) => !s.isDipole));
  assert.ok(sources.some((s) => s.snr > 150));
});

test('a negative and a positive change 3.7 FWHM apart are two sources, not one dipole between them', () => {
  // Seed 8 of `ap simulate`: a fading variable and a new transient 16 px apart (FWHM 4.3) had touching
  // footprints and were fitted as one dipole at their midpoint, 8 px from either: one false positive, two misses.
  const psf = GaussianPsf.fromFwhm(4);
  const exposure = noiseExposure(200, 200, () => VARIANCE, 53, psf);
  const err = predictedFluxErr(psf, 0, 0, VARIANCE);
  const changes = [
    { x: 92.6, y: 100.3, snr: -26 },
    { x: 107.4, y: 100.3, snr: 20 },
  ];
  for (const c of changes) addPointSource(exposure, psf, c.x, c.y, c.snr * err);
  const { sources, footprints } = detectDiaSources(exposure, psf, {
    ...DEFAULT_DETECT_CONFIG,
    skySources: 0,
  });
  assert.equal(footprints.length, 2, 'a positive and a negative footprint');
  assert.equal(sources.length, 2, 'one source per change');
  for (const c of changes) {
    const s = sources.find((d) => Math.hypot(d.x - c.x, d.y - c.y) < 1);
    assert.ok(s && !s.isDipole, `change at ${c.x} measured on its own`);
    assert.ok(Math.abs(s.snr / c.snr - 1) < 0.2, `SNR ${s.snr} vs ${c.snr}`);
  }
});
