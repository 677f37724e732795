/**
 * Photometric calibration against a reference catalog (issue 15 item 5): the science image's zero
 * point from PSF photometry at the catalog's stars agrees with the simulator's truth, and
 * `ap process --refcat` uses it when the header has none (recorded as 'reference catalog').
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNight, renderImage } from '../../shared/sim/index.js';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { readRefcatCsv, refcatZeroPoint } from '../../shared/pipeline/refcat.js';
import { resolveZeroPoint } from '../../shared/pipeline/zero-point.js';

test('refcat zero point: within 0.02 mag of the truth; it comes before the template calibration; bad catalogs are named', () => {
  const plan = planNight({ size: 512, seed: 11, visits: 1 });
  const spec = plan.visits[0];
  const science = renderImage(plan, spec).image.exposure;
  const truth = spec.zeroPoint;
  science.info = { ...science.info, zeroPoint: Number.NaN };
  characterizeImage(science);
  const { stars } = plan.field;
  const csv = [
    'ra,dec,r_mag',
    ...Array.from(stars.ra, (ra, i) => `${ra},${stars.dec[i]},${stars.mag[i]}`),
  ].join('\n');
  const catalog = readRefcatCsv(csv, 'r');
  assert.equal(catalog.length, stars.ra.length);
  const zp = refcatZeroPoint(science, catalog);
  assert.ok(zp, 'calibrated');
  assert.ok(zp.nStars >= 10, `${zp.nStars} stars`);
  assert.ok(
    Math.abs(zp.zeroPoint - truth) < 0.02,
    `refcat ${zp.zeroPoint.toFixed(4)} vs truth ${truth.toFixed(4)}`,
  );
  const chosen = resolveZeroPoint({ zeroPoint: Number.NaN }, { zeroPoint: 30 }, 1, {
    reference: { zeroPoint: zp.zeroPoint, origin: 'reference catalog' },
  });
  assert.equal(chosen.source, 'reference catalog');
  assert.throws(
    () => readRefcatCsv('ra,dec,g_mag\n1,2,20', 'r'),
    /no magnitude column for band 'r'/,
  );
  assert.throws(() => readRefcatCsv('x,y,mag\n1,2,20', 'r'), /needs ra and dec columns/);
});
