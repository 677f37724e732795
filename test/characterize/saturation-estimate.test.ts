/**
 * Saturation without a SATURATE card (issue 15 item 1): a uint16 BZERO pair with no WCS, GAIN or
 * SATURATE, already aligned, whose bright stars are clipped at a full well. Unflagged, their flat
 * cores leave paired positive/negative residuals; estimated from the histogram's pile-up and
 * flagged SAT, they do not, and the estimate is recorded (SATURATE comment and SATEST card).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FitsHeader,
  readExposure,
  readExposureWithHeader,
  readFits,
  writeFits,
} from '../../shared/fits/index.js';
import { planNight, renderImage } from '../../shared/sim/index.js';
import { estimateSaturation } from '../../shared/characterize/saturation-estimate.js';
import { runDiff, diffToFits } from '../../shared/diffim/pipeline.js';
import { detectDiaSources } from '../../shared/detect/detect.js';
import type { Exposure } from '../../shared/image/exposure.js';

const FULL_WELL = 20000;

/** An image as a bare uint16 file: pixels rounded and clipped at the full well, BZERO 32768, only time and band cards. */
function bareUint16(e: Exposure): Uint8Array {
  const data = Uint16Array.from(e.image.data, (v) =>
    Math.max(0, Math.min(FULL_WELL, Math.round(v))),
  );
  const header = new FitsHeader()
    .set('MJD-OBS', e.info.mjd)
    .set('FILTER', e.info.band)
    .set('EXPTIME', e.info.exposureTime);
  return writeFits([{ data, width: e.width, height: e.height, header }]);
}

test('estimateSaturation: an integer full scale and flat-topped cores pile up; an unsaturated image has no level', () => {
  // Gaussian sky noise (sigma 30; Irwin-Hall sum of 12 uniforms from a fixed 32-bit LCG): its tail thins out.
  let seed = 7;
  const uniform = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const sky = Float32Array.from({ length: 200 * 200 }, () =>
    Math.round(1000 + 30 * (Array.from({ length: 12 }, uniform).reduce((a, b) => a + b) - 6)),
  );
  assert.ok(Number.isNaN(estimateSaturation(sky).level), 'no pile-up: no level');
  const stars = sky.slice();
  for (const c of [5050, 15120, 30180]) for (let k = 0; k < 12; k++) stars[c + k] = 65535;
  // The brightest unsaturated pixels thin out below the pile-up.
  for (let k = 0; k < 30; k++) stars[100 + k] = 20000 + k * 1500;
  const est = estimateSaturation(stars);
  assert.ok(est.level > 64000 && est.level <= 65535, `level ${est.level}`);
  assert.equal(est.nPixels, 36);
});

test('a uint16 BZERO pair without SATURATE, WCS or GAIN: saturation estimated and flagged, no star residuals', async (t) => {
  // Already aligned: the template rendered on the science image's grid.
  const plan = planNight({ size: 512, seed: 15, visits: 1 });
  const images = [plan.visits[0], { ...plan.template, wcs: plan.visits[0].wcs }].map(
    (spec) => renderImage(plan, spec).image.exposure,
  );
  const files = images.map(bareUint16);
  // Pixels clipped at the full well in either image, and the detections on them.
  const clipped: Array<[number, number]> = [];
  for (const e of images)
    e.image.data.forEach(
      (v, i) => v >= FULL_WELL && clipped.push([i % e.width, Math.floor(i / e.width)]),
    );
  const onClipped = (s: { x: number; y: number }) =>
    clipped.some(([x, y]) => Math.hypot(s.x - x, s.y - y) < 6);
  const header = readFits(files[0])[0].header;
  assert.equal(header.get('BZERO'), 32768);
  assert.ok(!header.has('SATURATE') && !header.has('GAIN') && !header.has('CTYPE1'));
  const strong = async (estimate: boolean) => {
    const [science, template] = files.map((f) => readExposure(f));
    const r = await runDiff(science, template, {
      characterizeOverrides: { defects: { estimateSaturation: estimate } },
      threads: 1,
    });
    const found = detectDiaSources(r.difference, r.differencePsf).sources.filter(
      (s) => Math.abs(s.snr) >= 6,
    );
    return { r, science, found };
  };
  const blind = await strong(false);
  const fixed = await strong(true);
  const [blindStars, fixedStars] = [blind, fixed].map((r) => r.found.filter(onClipped).length);
  t.diagnostic(
    `|SNR| >= 6: ${blind.found.length} without the estimate (${blindStars} on saturated stars), ${fixed.found.length} with it (${fixedStars}); level ${fixed.science.info.saturation}`,
  );
  assert.ok(clipped.length > 0, 'some stars are saturated');
  assert.ok(
    Math.abs(fixed.science.info.saturation - FULL_WELL) <= 1,
    `estimated ${fixed.science.info.saturation}`,
  );
  assert.ok(blindStars >= 3, `saturated stars leave residuals when unflagged (${blindStars})`);
  assert.equal(fixedStars, 0, 'flagged SAT, saturated stars leave no DIASource');
  // Recorded: the difference says the level was estimated.
  const back = readExposureWithHeader(diffToFits(fixed.r)).header;
  assert.equal(back.get('SATEST'), true);
  assert.match(back.getComment('SATURATE') ?? '', /estimated/);
});
