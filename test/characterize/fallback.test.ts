/** Few stars, no stars, crowded fields, missing data: the model degrades as documented and says so. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';
import type { Psf } from '../../shared/psf/types.js';
import { simulatedVisit } from './sim-fixture.js';

test('a handful of stars: a constant pixel model, flagged as a fallback', () => {
  const sim = simulatedVisit({ size: 512, seed: 31, starsPerMegapixel: 150 });
  const truth = sim.exposure.psf as Psf;
  const { psf } = characterizeImage(sim.exposure);
  assert.equal(psf.kind, 'pixel');
  assert.equal(psf.degree, 0);
  assert.equal(psf.fallback, true);
  assert.ok(psf.nStars >= 3 && psf.nStars < 24, `${psf.nStars} stars`);
  assert.ok(
    Math.abs(psf.fwhmPx / truth.fwhmAt(255.5, 255.5) - 1) < 0.05,
    `FWHM ${psf.fwhmPx} vs ${truth.fwhmAt(255.5, 255.5)}`,
  );
});

test('no stars at all: the analytic Gaussian of the default FWHM, flagged', () => {
  const exposure = Exposure.blank(256, 256);
  let s = 5;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  for (let i = 0; i < exposure.image.data.length; i++)
    exposure.image.data[i] = 100 + 5 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  exposure.info.gain = 4;
  const result = characterizeImage(exposure, { defaultFwhmPx: 4.5 });
  assert.equal(result.psf.kind, 'gaussian');
  assert.equal(result.psf.fallback, true);
  assert.equal(result.psf.nStars, 0);
  assert.ok(Math.abs(result.psf.fwhmPx - 4.5) < 0.05, `FWHM ${result.psf.fwhmPx}`);
  assert.ok(
    Math.abs(result.variance.measuredToPredicted - 1) < 0.05,
    'sky noise 5 ADU at gain 4 and sky 100 is Poisson',
  );
});

test('a crowded field (5x the default star density): FWHM within 2% everywhere, chi2/dof < 1.2', () => {
  const size = 1024;
  const sim = simulatedVisit({ size, seed: 31, starsPerMegapixel: 10000 });
  const truth = sim.exposure.psf as Psf;
  const { psf } = characterizeImage(sim.exposure);
  assert.equal(psf.degree, 2);
  assert.ok(psf.nStars > 200, `${psf.nStars} stars`);
  for (let j = 0; j <= 4; j++) {
    for (let i = 0; i <= 4; i++) {
      const x = ((size - 1) * i) / 4;
      const y = ((size - 1) * j) / 4;
      const err = psf.psf.fwhmAt(x, y) / truth.fwhmAt(x, y) - 1;
      assert.ok(Math.abs(err) < 0.02, `FWHM error ${(100 * err).toFixed(2)}% at (${x}, ${y})`);
    }
  }
  assert.ok(psf.chi2PerDof < 1.2, `chi2/dof ${psf.chi2PerDof}`);
});

test('a third of the image missing (NaN): NO_DATA, background and PSF from the rest, a given variance kept', () => {
  const size = 1024;
  const sim = simulatedVisit({ size, seed: 5 });
  const exposure = sim.exposure;
  const given = exposure.variance.data.slice();
  const truth = exposure.psf as Psf;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < 300; x++) exposure.image.data[y * size + x] = Number.NaN;
  const result = characterizeImage(exposure);
  assert.equal(result.defects.nNoData, 300 * size);
  assert.ok(exposure.mask.get(10, 500) & MaskPlane.NO_DATA);
  let worst = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 300; x < size; x++) {
      const i = y * size + x;
      worst = Math.max(
        worst,
        Math.abs(result.background.map.data[i] - sim.background.data[i]) / Math.sqrt(given[i]),
      );
    }
  }
  assert.ok(worst < 0.2, `background error ${worst.toFixed(3)} sigma`);
  assert.equal(result.variance.origin, 'file');
  assert.deepEqual(exposure.variance.data, given);
  assert.ok(
    Math.abs(result.variance.measuredToPredicted - 1) < 0.03,
    `measured/predicted ${result.variance.measuredToPredicted}`,
  );
  assert.equal(result.psf.kind, 'pixel');
  assert.ok(Math.abs(result.psf.psf.fwhmAt(700, 500) / truth.fwhmAt(700, 500) - 1) < 0.02);
});
