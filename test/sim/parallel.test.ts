import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNight, renderImage, renderImageAsync } from '../../shared/sim/night.js';
import { SkyWorker } from '../../shared/sim/parallel.js';
import { renderStaticHalf } from '../../shared/sim/render.js';

test('the sky worker draws the same pixels as the calling thread', async () => {
  const plan = planNight({ size: 256, seed: 21, visits: 1 });
  const worker = new SkyWorker(plan.config);
  try {
    const spec = plan.visits[0];
    const fromWorker = await worker.render(spec.visit, 256);
    const here = new Float32Array(256 * 256);
    renderStaticHalf(plan.field, spec, 256, here, 1);
    assert.ok(
      here.some((v) => v > 0),
      'some odd-indexed source lands on the image',
    );
    assert.deepEqual(fromWorker, here);
    const parallel = await renderImageAsync(plan, plan.template, worker);
    const serial = renderImage(plan, plan.template);
    assert.deepEqual(parallel.image.exposure.image.data, serial.image.exposure.image.data);
    assert.deepEqual(parallel.image.noiseless.data, serial.image.noiseless.data);
  } finally {
    await worker.close();
  }
});
