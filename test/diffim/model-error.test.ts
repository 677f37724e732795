/**
 * The model-error variance (shared/diffim/model-error.ts; ZOGY's flux-scale and astrometric
 * terms, Zackay, Ofek & Gal-Yam 2016, eqs. 30-33): on a difference whose static stars were
 * matched with a known registration error and flux-scale error, the measurement recovers both,
 * and the residuals' chi^2 on the cores becomes ~1; on a difference with no model error it
 * measures ~0 and leaves the variance as it was. The gate (most compact cores beyond the noise)
 * opens on the first, stays shut on the second, and a minority of variable stars cannot open it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exposure } from '../../shared/image/exposure.js';
import { Plane } from '../../shared/image/plane.js';
import { addModelErrorVariance, measureModelError } from '../../shared/diffim/model-error.js';
import { mulberry32 } from '../../shared/util/random.js';

const SIZE = 384;
const SIGMA = 1.5; // PSF sigma, px
const NOISE = 1;

/**
 * Static stars (template) and a difference: noise + what a shift (dx, 0) and flux error f leave;
 * the first `variables` stars change by +50 % (real changes, not model error).
 */
function pair(dx: number, f: number, seed: number, variables = 0) {
  const rand = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const template = Plane.zeros(Float32Array, SIZE, SIZE);
  const diff = Plane.zeros(Float32Array, SIZE, SIZE);
  // Per star its own shift and scale error (each drawn with the given rms per axis), as real registrations leave.
  for (let k = 0; k < 150; k++) {
    const x0 = 12 + rand() * (SIZE - 24),
      y0 = 12 + rand() * (SIZE - 24),
      flux = 2000 + 20000 * rand();
    const sx = dx * gauss(),
      sy = dx * gauss(),
      sf = f * gauss() + (k < variables ? 0.5 : 0);
    for (let y = Math.floor(y0 - 8); y <= y0 + 8; y++)
      for (let x = Math.floor(x0 - 8); x <= x0 + 8; x++) {
        const p = (xc: number, yc: number) =>
          (flux / (2 * Math.PI * SIGMA * SIGMA)) *
          Math.exp(-((x - xc) ** 2 + (y - yc) ** 2) / (2 * SIGMA * SIGMA));
        template.data[y * SIZE + x] += p(x0, y0);
        diff.data[y * SIZE + x] += (1 + sf) * p(x0 + sx, y0 + sy) - p(x0, y0);
      }
  }
  for (let i = 0; i < diff.data.length; i++) diff.data[i] += NOISE * gauss();
  const variance = Plane.zeros(Float32Array, SIZE, SIZE);
  variance.data.fill(NOISE * NOISE);
  const mask = Plane.zeros(Int32Array, SIZE, SIZE);
  return { difference: new Exposure(diff, mask, variance), template };
}

/** chi^2 per pixel of the difference over pixels where the template is bright. */
function coreChi2(e: Exposure, template: Plane<Float32Array>): number {
  let s = 0,
    n = 0;
  for (let i = 0; i < template.data.length; i++)
    if (template.data[i] > 50) {
      s += e.image.data[i] ** 2 / e.variance.data[i];
      n++;
    }
  return s / n;
}

test('model error: a registration error of 0.1 px and a flux-scale error of 3 % are measured, and the cores come to chi^2 ~ 1', () => {
  const { difference, template } = pair(0.1, 0.03, 10);
  const before = coreChi2(difference, template);
  const e = measureModelError(difference, template, 1, 2.355 * SIGMA);
  assert.ok(e.cores > 100 && e.coresBeyondNoise > 0.9, `gate: ${JSON.stringify(e)}`);
  addModelErrorVariance(difference, template, 1, e);
  assert.ok(Math.abs(e.astrometricSigmaPx - 0.1) < 0.03, `sigma_a ${e.astrometricSigmaPx}`);
  // f comes out ~0.045 on every seed: what the linear terms leave of the exact residual goes into it.
  assert.ok(e.fluxFraction > 0.02 && e.fluxFraction < 0.06, `f ${e.fluxFraction}`);
  const after = coreChi2(difference, template);
  assert.ok(before > 5 && Math.abs(after - 1) < 0.3, `core chi^2 ${before} -> ${after}`);
  assert.equal(difference.variance.get(0, 0), 1, 'blank sky untouched');
});

test('model error: a perfectly matched pair measures ~0 with the gate forced open, and its variance stays as it was', () => {
  const { difference, template } = pair(0, 0, 8);
  const e = measureModelError(difference, template, 1, 2.355 * SIGMA, { minCoresBeyondNoise: 0 });
  addModelErrorVariance(difference, template, 1, e);
  assert.ok(e.astrometricSigmaPx < 0.02 && e.fluxFraction < 0.005, JSON.stringify(e));
  let grown = 0;
  for (const v of difference.variance.data) if (v > 1.1) grown++;
  assert.ok(grown < 0.002 * SIZE * SIZE, `${grown} pixels with variance > 1.1`);
});

test('model error gate: a matched pair with 45 of its 150 stars variable (+50 %) stays at 0 (the noise alone puts no core beyond)', () => {
  const clean = pair(0, 0, 9);
  const gateClean = measureModelError(clean.difference, clean.template, 1, 2.355 * SIGMA);
  assert.ok(gateClean.cores > 100 && gateClean.coresBeyondNoise < 0.02, JSON.stringify(gateClean));
  const { difference, template } = pair(0, 0, 9, 45);
  const e = measureModelError(difference, template, 1, 2.355 * SIGMA);
  assert.ok(e.coresBeyondNoise > 0.2 && e.coresBeyondNoise < 0.5, JSON.stringify(e));
  assert.equal(e.fluxFraction, 0);
  assert.equal(e.astrometricSigmaPx, 0);
  // Forced open, the same measurement takes the variables for a flux-scale error.
  const forced = measureModelError(difference, template, 1, 2.355 * SIGMA, {
    minCoresBeyondNoise: 0,
  });
  assert.ok(forced.fluxFraction > 0.05, JSON.stringify(forced));
});
