import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { networkInputAsync } from '../../shared/pipeline/realbogus-input.js';
import { cutTriplets, normalizeCutouts, type TripletImages } from '../../shared/rb/cutouts.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { mulberry32 } from '../../shared/util/random.js';

function noisy(seed: number): Exposure {
  const e = Exposure.blank(160, 120);
  const u = mulberry32(seed);
  for (let k = 0; k < e.image.data.length; k++) {
    e.image.data[k] = 100 * (u() - 0.5);
    e.variance.data[k] = 20 + u();
  }
  return e;
}

test("networkInputAsync: the worker's input is normalizeCutouts(cutTriplets(...)), views, masks and edges included", async () => {
  const box = { x: 10, y: 5, width: 140, height: 110 };
  const images: TripletImages = {
    science: noisy(1).view(box),
    template: noisy(2).view(box),
    difference: noisy(3).view(box),
  };
  images.difference.image.set(30, 30, Number.NaN);
  images.template.mask.set(40, 35, MaskPlane.NO_DATA);
  images.difference.variance.set(41, 36, 0);
  // Parent-frame positions: inside, by a masked pixel, across the view's edge.
  const positions = [
    { x: 52.4, y: 40.6 },
    { x: 45, y: 45 },
    { x: 12, y: 118.2 },
  ];
  const expected = normalizeCutouts(cutTriplets(positions, images));
  const pool = new WorkerPool(1);
  try {
    const input = await networkInputAsync(positions, images, pool);
    assert.equal(input.count, 3);
    assert.deepEqual(input.data, expected.data);
    const none = await networkInputAsync([], images, pool);
    assert.equal(none.count, 0);
    assert.equal(none.data.length, 0);
  } finally {
    await pool.close();
  }
  assert.deepEqual((await networkInputAsync(positions, images, null)).data, expected.data);
});
