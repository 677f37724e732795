/**
 * characterizeImageAsync runs characterizeImage on a worker thread: the exposure must come back
 * changed exactly as the calling thread would change it, and the result must be the same.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import {
  characterizeImageAsync,
  noiseCorrelationAsync,
} from '../../shared/characterize/characterize-async.js';
import { characterizeNoiseCorrelation } from '../../shared/characterize/noise-correlation-estimate.js';
import { LanczosTable } from '../../shared/warp/index.js';
import { Exposure } from '../../shared/image/exposure.js';
import { OffsetPsf } from '../../shared/psf/offset-psf.js';
import { PixelPsf } from '../../shared/psf/pixel-psf.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { sharedCopy } from '../../shared/util/shared-plane.js';
import { poolHelper } from '../../shared/util/shared-bands.js';
import { simulatedVisit } from './sim-fixture.js';

const pool = new WorkerPool(1);
after(() => pool.close());

const copy = (e: Exposure): Exposure =>
  new Exposure(e.image.clone(), e.mask.clone(), e.variance.clone(), e.wcs, null, { ...e.info });
/** `e`'s planes on shared memory, as read from FITS (no WCS, no PSF). */
const sharedExposure = (e: Exposure): Exposure =>
  new Exposure(sharedCopy(e.image), sharedCopy(e.mask), sharedCopy(e.variance), null, null, {
    ...e.info,
  });

test('on a worker: the same planes, PSF and figures as on the calling thread, for a view too', async () => {
  const sim = simulatedVisit({ size: 768, seed: 5 });
  sim.exposure.variance.fill(Number.NaN);
  const box = { x: 64, y: 32, width: 640, height: 704 };
  const here = copy(sim.exposure).view(box);
  const there = copy(sim.exposure).view(box);
  const expected = characterizeImage(here);
  const got = await characterizeImageAsync(there, {}, pool);

  assert.deepEqual(
    there.image.clone().data,
    here.image.clone().data,
    'background-subtracted image',
  );
  assert.deepEqual(there.mask.clone().data, here.mask.clone().data, 'mask bits');
  assert.deepEqual(there.variance.clone().data, here.variance.clone().data, 'derived variance');
  assert.deepEqual(got.background.map.data, expected.background.map.data);
  assert.deepEqual(got.background.meshSky, expected.background.meshSky);
  assert.equal(got.crPixels, expected.crPixels);
  assert.deepEqual(got.variance, expected.variance);
  assert.deepEqual(got.sources, expected.sources);
  assert.ok(got.psf.psf instanceof PixelPsf && got.psf.nStars > 10);
  assert.equal(got.psf.fwhmPx, expected.psf.fwhmPx);
  assert.deepEqual(got.psf.stars, expected.psf.stars);
  assert.ok(there.psf instanceof OffsetPsf && here.psf instanceof OffsetPsf);
  for (const [x, y] of [
    [100, 100],
    [400, 500],
    [690, 720],
  ])
    assert.deepEqual(
      there.psf.stampAt(x + 0.3, y - 0.4).data,
      here.psf.stampAt(x + 0.3, y - 0.4).data,
    );
});

test('planes on shared memory (as read from FITS) are characterized in place, with the same result', async () => {
  const sim = simulatedVisit({ size: 512, seed: 8 });
  sim.exposure.variance.fill(Number.NaN);
  const here = copy(sim.exposure);
  const there = sharedExposure(sim.exposure);
  const planes = [there.image.data, there.mask.data, there.variance.data];
  const expected = characterizeImage(here);
  const got = await characterizeImageAsync(there, {}, pool);
  assert.ok(
    planes.every((p, i) => p === [there.image, there.mask, there.variance][i].data),
    'the exposure keeps its arrays',
  );
  assert.deepEqual(there.image.data, here.image.data, 'background-subtracted image');
  assert.deepEqual(there.mask.data, here.mask.data, 'mask bits');
  assert.deepEqual(there.variance.data, here.variance.data, 'derived variance');
  assert.deepEqual(got.sources, expected.sources);
  assert.equal(got.psf.fwhmPx, expected.psf.fwhmPx);
});

test("on the calling thread with the pool's worker helping (shared-bands.ts): the same planes and figures as alone", () => {
  const sim = simulatedVisit({ size: 512, seed: 9 });
  sim.exposure.variance.fill(Number.NaN);
  const here = copy(sim.exposure);
  const helped = sharedExposure(sim.exposure);
  const expected = characterizeImage(here);
  const got = characterizeImage(helped, {}, undefined, undefined, poolHelper(pool));
  assert.deepEqual(helped.image.data, here.image.data, 'background-subtracted image');
  assert.deepEqual(helped.mask.data, here.mask.data, 'mask bits');
  assert.deepEqual(helped.variance.data, here.variance.data, 'derived variance');
  assert.deepEqual(got.background.map.data, expected.background.map.data);
  assert.deepEqual(got.background.meshSky, expected.background.meshSky);
  assert.equal(got.crPixels, expected.crPixels);
  assert.deepEqual(got.sources, expected.sources);
  assert.deepEqual(got.psf.stars, expected.psf.stars);
});

test('without pool workers it characterizes on the calling thread', async () => {
  const sim = simulatedVisit({ size: 512, seed: 6 });
  const simulatedPsf = sim.exposure.psf;
  const before = sim.exposure.image.get(10, 10);
  const result = await characterizeImageAsync(sim.exposure, { setPsf: false }, new WorkerPool(0));
  assert.ok(result.psf.nStars > 0);
  assert.equal(sim.exposure.psf, simulatedPsf, 'setPsf false leaves the PSF');
  assert.ok(
    Math.abs(sim.exposure.image.get(10, 10) - (before - result.background.map.get(10, 10))) < 1e-3,
    'background subtracted in place',
  );
});

/** A simulated visit shifted by half a pixel in x with Lanczos-3: a resampling signature in its noise. */
function shiftedVisit(): ReturnType<typeof simulatedVisit> {
  const sim = simulatedVisit({ size: 512, seed: 7 });
  const taps = new Float64Array(6);
  new LanczosTable('lanczos3').weights(0.5, taps);
  const img = sim.exposure.image;
  for (let y = 0; y < img.height; y++) {
    const row = img.row(y),
      src = Float64Array.from(row);
    for (let x = 0; x < img.width; x++) {
      let s = 0;
      for (let k = 0; k < 6; k++)
        s += taps[k] * src[Math.min(img.width - 1, Math.max(0, x + k - 2))];
      row[x] = s;
    }
  }
  return sim;
}

test('noiseCorrelationAsync on a worker sets the blank-sky noise-correlation model the calling thread would find', async () => {
  const sim = shiftedVisit();
  const here = copy(sim.exposure),
    there = copy(sim.exposure);
  characterizeImage(here);
  const expected = characterizeNoiseCorrelation(here, here.psf!.fwhmAt(256, 256)).model;
  const result = await characterizeImageAsync(there, {}, pool);
  await noiseCorrelationAsync(there, result.psf.psf, pool);
  assert.ok(expected, 'the shift leaves a model to find');
  assert.deepEqual(there.noiseCorrelation, here.noiseCorrelation);
});

test('noiseCorrelationAsync with a given FWHM (as runDiff gives the centre-pixel FWHM of the template) masks stars by it, as characterizeNoiseCorrelation does', async () => {
  const sim = shiftedVisit();
  const here = copy(sim.exposure),
    there = copy(sim.exposure);
  const fwhm = 2.5 * characterizeImage(here).psf.fwhmPx;
  const expected = characterizeNoiseCorrelation(here, fwhm);
  const atDefault = characterizeNoiseCorrelation(copy(here), here.psf!.fwhmAt(256, 256));
  assert.notDeepEqual(expected.covX, atDefault.covX, 'the wider mask changes the estimate');
  const result = await characterizeImageAsync(there, {}, pool);
  const model = await noiseCorrelationAsync(there, result.psf.psf, pool, fwhm);
  assert.ok(expected.model && atDefault.model, 'a model at either FWHM');
  assert.notDeepEqual(expected.model, atDefault.model);
  assert.deepEqual(model, expected.model);
  assert.deepEqual(there.noiseCorrelation, here.noiseCorrelation);
});

test('an alternative chosen while the worker flags the defects: the overrides chosen, as on the calling thread', async () => {
  const sim = simulatedVisit({ size: 384, seed: 9 });
  const fine = { background: { meshSize: 32 } };
  for (const choose of [true, false]) {
    const here = copy(sim.exposure);
    const there = copy(sim.exposure);
    const expected = characterizeImage(here, choose ? fine : {});
    let calls = 0;
    const got = await characterizeImageAsync(there, {}, pool, {
      overrides: fine,
      chosen: () => (calls++, choose),
    });
    assert.equal(calls, 1);
    assert.deepEqual(got.background.meshSky, expected.background.meshSky);
    assert.deepEqual(there.image.clone().data, here.image.clone().data);
    assert.deepEqual(got.psf.stars, expected.psf.stars);
  }
});
