/**
 * A sub-image view (a template cut out of a larger tile) keeps its WCS and PSF in the parent's
 * pixel frame (Exposure.view): the PSF characterized on the view is evaluated at parent coordinates.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { OffsetPsf } from '../../shared/psf/offset-psf.js';
import type { Psf } from '../../shared/psf/types.js';
import { simulatedVisit } from './sim-fixture.js';

test('the PSF of a characterized view is evaluated in its parent frame', () => {
  const sim = simulatedVisit({ size: 1024, seed: 11 });
  const truePsf = sim.exposure.psf as Psf;
  const [x0, y0] = [128, 192];
  const view = sim.exposure.view({ x: x0, y: y0, width: 896, height: 832 });
  view.variance.fill(Number.NaN);
  const local = characterizeImage(view).psf.psf;
  assert.ok(view.psf instanceof OffsetPsf);
  for (const [x, y] of [
    [300, 350],
    [600, 600],
    [900, 900],
    [300, 900],
    [900, 350],
    [500, 700],
  ]) {
    // The model fitted in the view's own pixels, seen from the parent frame.
    assert.deepEqual(
      view.psf.stampAt(x + 0.3, y - 0.2).data,
      local.stampAt(x + 0.3 - x0, y - 0.2 - y0).data,
    );
    const err = view.psf.fwhmAt(x, y) / truePsf.fwhmAt(x, y) - 1;
    assert.ok(Math.abs(err) < 0.02, `FWHM error ${(100 * err).toFixed(2)}% at parent (${x}, ${y})`);
  }
});
