/**
 * Gain and read noise when the header has no GAIN (issue 15 item 1): for count data the sky's
 * Poisson noise gives gain = sky level / sky variance (read noise neglected: a slight
 * underestimate); for calibrated units (MJy/sr) nothing is assumed and the variance is the sky's
 * measured noise (or a noise map).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNight, renderImage } from '../../shared/sim/index.js';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { FitsHeader, readExposure, writeFits } from '../../shared/fits/index.js';
import type { Exposure } from '../../shared/image/exposure.js';

function withoutGain(e: Exposure, units: string | null): Exposure {
  const header = new FitsHeader().set('MJD-OBS', e.info.mjd);
  if (units) header.set('BUNIT', units);
  return readExposure(
    writeFits([{ data: e.image.data, width: e.width, height: e.height, header }]),
  );
}

test('no GAIN: estimated from the sky for counts (within 5 % of the truth), not for MJy/sr', () => {
  const plan = planNight({ size: 256, seed: 4, visits: 1 });
  const truth = plan.config.gain;
  const image = renderImage(plan, plan.visits[0]).image.exposure;
  const counts = withoutGain(image, null);
  const r = characterizeImage(counts);
  assert.equal(r.variance.gainEstimated, true);
  assert.equal(r.variance.origin, 'ccd');
  assert.ok(
    Math.abs(r.variance.gain / truth - 1) < 0.05,
    `estimated gain ${r.variance.gain}, true ${truth}`,
  );
  assert.equal(counts.info.gainOrigin, 'estimated');
  assert.ok(
    Math.abs(r.variance.measuredToPredicted - 1) < 0.1,
    `measured/predicted sky variance ${r.variance.measuredToPredicted}`,
  );
  const calibrated = withoutGain(image, 'MJy/sr');
  const c = characterizeImage(calibrated);
  assert.equal(c.variance.gainEstimated, false);
  assert.equal(c.variance.origin, 'measured-sky');
  assert.ok(Number.isNaN(calibrated.info.gain));
});
