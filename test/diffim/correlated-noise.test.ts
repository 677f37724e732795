// Correlated input noise (resampled or drizzled images) must never turn the difference into NaN
// (issue 15 item 4): the noise spectra of measured lags are floored (shared/diffim/noise.ts), and a
// difference with no usable pixel or a non-finite PSF is refused with DifferenceFailedError, never written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decorrelationFilter } from '../../shared/diffim/decorrelate.js';
import { DifferenceFailedError } from '../../shared/diffim/errors.js';
import { subtractImages } from '../../shared/diffim/subtract.js';
import { makePair } from './render.js';

// Lags measured on a deep correlated template (1 b 1 taps, b ~ 0.3) before the local mean: faint light and sky
// raised lags 3-4, and X(k) = x0 + 2 sum x_d cos(2 pi k d) dips to -0.17 near k = 0.4.
const MEASURED = [1.185, 0.816, 0.478, 0.389, 0.35];

test('decorrelation filter of measured lags whose spectrum dips below zero: finite everywhere', () => {
  const n = 32,
    spec = new Float64Array(2 * n * n);
  for (let i = 0; i < n * n; i++) spec[2 * i] = Math.exp(-(((i % n) / n) ** 2) * 4); // a smooth real kernel spectrum
  const phi = decorrelationFilter(spec, 1, 1, 0.2, [{ x: MEASURED, y: MEASURED }, null]);
  const bad = phi.filter((v) => !Number.isFinite(v)).length;
  assert.equal(bad, 0, `${bad} of ${phi.length} filter values non-finite`);
});

test('a noise model that makes every pixel non-finite: DifferenceFailedError naming the cause, no silent all-masked image', async () => {
  const p = makePair({
    size: 128,
    seed: 4,
    sigmaScience: 2.1,
    sigmaTemplate: 1.4,
    scale: 1,
    noiseScience: 10,
    noiseTemplate: 7,
    stars: 25,
    transients: 0,
    background: [0, 0],
  });
  // A corrupt model (e.g. a prepared template's NOISECOR HDU of NaN).
  p.template.noiseCorrelation = {
    x0: 0,
    y0: 0,
    cellSize: 128,
    nx: 1,
    ny: 1,
    cells: [{ x: [Number.NaN, 0.1], y: [1, 0.1] }],
  };
  await assert.rejects(
    subtractImages(p.science, p.template, { method: 'al' }),
    (e: unknown) =>
      e instanceof DifferenceFailedError &&
      /non-finite/.test(e.message) &&
      /usable/.test(e.message),
  );
});
