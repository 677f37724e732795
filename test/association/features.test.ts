import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bandFeatures, stetsonJ, type FluxPoint } from '../../shared/association/features.js';
import { gaussian, rng } from './sky.js';

test('Stetson J (Stetson 1996) of a constant source matches its expectation, large for a variable', () => {
  const random = rng(8);
  // Unpaired form: E[sign(d^2 - 1) sqrt|d^2 - 1|] for d ~ N(0, 1), about -0.214 (not 0).
  let expectation = 0;
  for (let k = 0; k < 100_000; k++) {
    const p = gaussian(random) ** 2 - 1;
    expectation += Math.sign(p) * Math.sqrt(Math.abs(p));
  }
  expectation /= 100_000;
  const n = 400;
  const errors = Array.from({ length: n }, () => 10);
  const constant = errors.map((e) => 1000 + e * gaussian(random));
  const variable = errors.map((e, k) => 1000 + 100 * Math.sin(k / 5) + e * gaussian(random));
  const j = stetsonJ(constant, errors, 1000) as number;
  assert.ok(Math.abs(j - expectation) < 4 / Math.sqrt(n), `J = ${j}, expected ${expectation}`);
  assert.ok((stetsonJ(variable, errors, 1000) as number) > 3);
});

test('weighted mean error and chi2 behave as for Gaussian errors: sigma/sqrt(N), chi2 ~ N - 1', () => {
  const random = rng(9);
  const points: FluxPoint[] = Array.from({ length: 1000 }, (_, k) => ({
    flux: 50 + 5 * gaussian(random),
    fluxErr: 5,
    mjd: 60000 + k,
  }));
  const f = bandFeatures(points, [], []);
  assert.ok(Math.abs((f.psfFluxMeanErr as number) - 5 / Math.sqrt(1000)) < 1e-12);
  assert.ok(Math.abs((f.psfFluxMean as number) - 50) < 4 * (5 / Math.sqrt(1000)));
  assert.ok(Math.abs((f.psfFluxChi2 as number) - 999) < 5 * Math.sqrt(2 * 999));
  assert.ok(Math.abs((f.psfFluxLinearSlope as number) / 0.0005) < 4, 'no trend in flat data');
  assert.equal(f.psfFluxNdata, 1000);
  assert.equal(bandFeatures([], [], []).psfFluxMean, null);
});
