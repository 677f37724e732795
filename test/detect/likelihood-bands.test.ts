import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GaussianPsf } from '../../shared/detect/analytic-psf.js';
import {
  grownMask,
  likelihoodImage,
  likelihoodImageParallel,
} from '../../shared/detect/likelihood.js';
import { grownMaskRows } from '../../shared/detect/likelihood-worker.js';
import { MaskPlane, UNUSABLE } from '../../shared/image/mask.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { addPointSource, noiseExposure } from './synthetic.js';

const RULE = { excludeBits: UNUSABLE, growBits: MaskPlane.CR | MaskPlane.BAD, growRadius: 2.5 };

/** A field with sources and cosmic rays on and around the rows where 2 and 3 bands meet. */
function field() {
  const psf = GaussianPsf.fromFwhm(3.5);
  const whole = noiseExposure(150, 182, (x) => 40 + x / 10, 7, psf);
  for (const [x, y, f] of [
    [30, 60, 900],
    [70, 61, -700],
    [110, 91, 1200],
    [20, 121, 800],
  ])
    addPointSource(whole, psf, x, y, f);
  for (const [x, y] of [
    [40, 59],
    [41, 60],
    [90, 62],
    [12, 90],
    [100, 120],
    [101, 122],
    [5, 0],
    [149, 181],
  ])
    whole.mask.set(x, y, MaskPlane.CR);
  whole.variance.set(60, 61, 0);
  whole.image.set(61, 91, Number.NaN);
  // A view (not contiguous, not shared): the parallel path copies it.
  return { psf, exposure: whole.view({ x: 0, y: 1, width: 150, height: 180 }) };
}

test('grownMaskRows: bands of any split assemble grownMask', () => {
  const { exposure } = field();
  const whole = grownMask(exposure, RULE.growBits, RULE.growRadius);
  assert.ok(whole.some((v) => v === 1));
  for (const cuts of [
    [0, 60, 180],
    [0, 59, 61, 121, 180],
    [0, 1, 180],
  ]) {
    const parts = cuts
      .slice(1)
      .map((y1, k) => grownMaskRows(exposure.mask, RULE.growBits, RULE.growRadius, cuts[k], y1));
    const joined = new Uint8Array(whole.length);
    let at = 0;
    for (const p of parts) {
      joined.set(p, at);
      at += p.length;
    }
    assert.deepEqual(joined, whole);
  }
});

test('likelihoodImageParallel: the bands weighted, correlated and finished on 2 and 3 threads give likelihoodImage', async () => {
  const { psf, exposure } = field();
  for (const minInformation of [0, 0.5]) {
    const one = likelihoodImage(exposure, psf, RULE, minInformation);
    for (const workers of [1, 2]) {
      const pool = new WorkerPool(workers);
      try {
        const many = await likelihoodImageParallel(exposure, psf, RULE, minInformation, pool);
        assert.deepEqual(many.significance, one.significance);
        assert.deepEqual(many.inverseFluxVariance, one.inverseFluxVariance);
        assert.equal(many.kernelRadius, one.kernelRadius);
      } finally {
        await pool.close();
      }
    }
  }
});
