/**
 * Acceptance of the whole characterisation on a simulated 1024 x 1024 visit with a sky gradient,
 * a spatially varying Moffat PSF, cosmic rays, hot pixels, a hot column and saturated stars.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  characterizeImage,
  type CharacterizeResult,
} from '../../shared/characterize/characterize.js';
import { MaskPlane } from '../../shared/image/mask.js';
import type { Psf } from '../../shared/psf/types.js';
import type { SimulatedImage } from '../../shared/sim/night.js';
import { simulatedVisit, sourceCentres } from './sim-fixture.js';

const SIZE = 1024;
let sim: SimulatedImage;
let truePsf: Psf;
let trueVariance: Float32Array;
let skyImage: Float32Array;
let result: CharacterizeResult;

describe('characterizeImage on a simulated visit', () => {
  before(() => {
    sim = simulatedVisit({ size: SIZE, seed: 11 });
    truePsf = sim.exposure.psf as Psf;
    trueVariance = sim.exposure.variance.data.slice();
    skyImage = sim.exposure.image.data.slice();
    sim.exposure.variance.fill(Number.NaN); // "derive it"
    result = characterizeImage(sim.exposure);
  });

  test('background map within 0.2 sigma of the true sky everywhere', () => {
    const bg = result.background.map.data;
    const sky = sim.background.data;
    let worst = 0;
    for (let i = 0; i < bg.length; i++)
      worst = Math.max(worst, Math.abs(bg[i] - sky[i]) / Math.sqrt(trueVariance[i]));
    assert.ok(worst < 0.2, `worst background error ${worst.toFixed(3)} sigma`);
  });

  test('the image is background-subtracted in place', () => {
    const i = 500 * SIZE + 500;
    assert.ok(
      Math.abs(sim.exposure.image.data[i] - (skyImage[i] - result.background.map.data[i])) < 1e-3,
    );
  });

  test('derived variance matches the measured blank-sky pixel variance to 3%', () => {
    assert.equal(result.variance.origin, 'ccd');
    assert.ok(
      Math.abs(result.variance.measuredToPredicted - 1) < 0.03,
      `measured/predicted ${result.variance.measuredToPredicted}`,
    );
    // And the plane itself agrees with the simulator's true variance on the sky.
    const v = sim.exposure.variance.data;
    let ratio = 0;
    let n = 0;
    for (let i = 0; i < v.length; i += 101) {
      if (sim.noiseless.data[i] - sim.background.data[i] > 0.1 * Math.sqrt(trueVariance[i]))
        continue;
      ratio += v[i] / trueVariance[i];
      n++;
    }
    assert.ok(
      Math.abs(ratio / n - 1) < 0.03,
      `derived/true sky variance ${(ratio / n).toFixed(4)}`,
    );
  });

  test('at least 95% of detectable cosmic-ray and hot pixels are flagged', () => {
    const mask = sim.exposure.mask.data;
    let detectable = 0;
    let flagged = 0;
    for (let i = 0; i < mask.length; i++) {
      if (
        !(sim.crMask.data[i] & (MaskPlane.CR | MaskPlane.BAD)) ||
        sim.crMask.data[i] & MaskPlane.SAT
      )
        continue;
      // A deposit below 5 sigma is indistinguishable from noise in one image.
      if (skyImage[i] - sim.noiseless.data[i] < 5 * Math.sqrt(trueVariance[i])) continue;
      detectable++;
      if (mask[i] & (MaskPlane.CR | MaskPlane.BAD)) flagged++;
    }
    assert.ok(detectable > 200, `only ${detectable} artifact pixels simulated`);
    assert.ok(flagged / detectable >= 0.95, `${flagged}/${detectable} flagged`);
    assert.ok(result.crCount > 0 && result.crPixels >= flagged);
  });

  test('fewer than 0.1% of real sources have their central pixel flagged', () => {
    const centres = sourceCentres(sim, 5);
    const mask = sim.exposure.mask.data;
    const wrong = centres.filter(
      (i) => mask[i] & MaskPlane.CR && !(sim.crMask.data[i] & (MaskPlane.CR | MaskPlane.BAD)),
    );
    assert.ok(centres.length > 200, `${centres.length} sources`);
    assert.ok(
      wrong.length / centres.length < 0.001,
      `${wrong.length} of ${centres.length} source centres flagged CR`,
    );
  });

  test('saturated pixels are flagged SAT, with their bleed trails', () => {
    const mask = sim.exposure.mask.data;
    let truth = 0;
    let hit = 0;
    for (let i = 0; i < mask.length; i++) {
      if (!(sim.crMask.data[i] & MaskPlane.SAT)) continue;
      truth++;
      if (mask[i] & MaskPlane.SAT) hit++;
    }
    assert.ok(truth > 0, 'the simulation has saturated stars');
    assert.equal(hit, truth);
  });

  test('PSF model: FWHM within 2% of the truth over the detector, residual chi2/dof < 1.2 below SNR 200', () => {
    const psf = result.psf;
    assert.equal(psf.kind, 'pixel');
    assert.equal(psf.degree, 2);
    assert.equal(psf.fallback, false);
    assert.ok(psf.nStars >= 30, `${psf.nStars} stars`);
    for (let j = 0; j <= 4; j++) {
      for (let i = 0; i <= 4; i++) {
        const x = ((SIZE - 1) * i) / 4;
        const y = ((SIZE - 1) * j) / 4;
        const err = psf.psf.fwhmAt(x, y) / truePsf.fwhmAt(x, y) - 1;
        assert.ok(Math.abs(err) < 0.02, `FWHM error ${(100 * err).toFixed(2)}% at (${x}, ${y})`);
      }
    }
    assert.ok(psf.chi2PerDof < 1.2, `chi2/dof ${psf.chi2PerDof}`);
    assert.ok(psf.chi2PerDof > 0.8, `chi2/dof ${psf.chi2PerDof} too low: variance overestimated`);
    assert.equal(sim.exposure.psf, psf.psf);
  });

  test('every stage is timed', () => {
    for (const stage of [
      'defects',
      'background',
      'variance',
      'cosmicRays',
      'starSelect',
      'psf',
      'total',
    ] as const) {
      assert.ok(result.timingsMs[stage] >= 0, stage);
    }
  });
});
