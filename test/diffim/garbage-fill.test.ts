/**
 * A cosmic ray on a bright star's wing in a science that is convolved (AL-CONVSCI): read as 0, the
 * masked hit was a hole of the star's light that the kernel spread into a negative blob beside its
 * mask (two false DIASources on `ap simulate` seed 7); filled from its neighbours it leaves noise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subtractImages } from '../../shared/diffim/subtract.js';
import {
  fillGarbage,
  fillGarbageAsync,
  withGarbageFilled,
} from '../../shared/diffim/garbage-fill.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { Plane } from '../../shared/image/plane.js';
import { brightestInside, makePair } from './render.js';

test('fillGarbage fills a masked blob from its neighbours ring by ring and leaves deeper garbage 0', async () => {
  const image = Plane.zeros(Float32Array, 16, 16);
  const mask = Plane.zeros(Int32Array, 16, 16);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) image.set(x, y, 10 + x);
  for (let y = 4; y <= 6; y++) for (let x = 4; x <= 6; x++) mask.set(x, y, MaskPlane.CR);
  image.set(5, 5, 1e6);
  const one = fillGarbage(image, mask, MaskPlane.CR, 1);
  assert.equal(one.indices.length, 9);
  assert.equal(image.get(5, 5), 1e6, 'the input is left as it was');
  // Written into a view of the image (its own pixel grid), and put back bit for bit after.
  const whole = Plane.zeros(Float32Array, 20, 18);
  const view = whole.view({ x: 2, y: 1, width: 16, height: 16 });
  for (let y = 0; y < 16; y++) view.row(y).set(image.row(y));
  view.set(4, 4, Number.NaN);
  const before = new Uint32Array(whole.data.buffer).slice();
  await withGarbageFilled(view, one, async () => {
    assert.equal(view.get(5, 5), 0, 'the centre is two rings deep');
    assert.ok(Math.abs(view.get(4, 5) - 13) < 1e-5, `edge pixel ${view.get(4, 5)}`);
    assert.ok(Number.isFinite(view.get(4, 4)));
  });
  assert.deepEqual(new Uint32Array(whole.data.buffer), before, 'the pixels are put back');
  const two = fillGarbage(image, mask, MaskPlane.CR, 2);
  // The rings are symmetric about the centre, so a linear gradient is filled exactly there.
  const centre = two.values[two.indices.indexOf(5 * 16 + 5)];
  assert.ok(Math.abs(centre - 15) < 1e-5, `centre ${centre}`);
  await assert.rejects(
    withGarbageFilled(view, two, () => Promise.reject(new Error('convolution failed'))),
    /convolution failed/,
  );
  assert.deepEqual(new Uint32Array(whole.data.buffer), before, 'put back when the use throws');
});

test('fillGarbageAsync on a pool worker gives the fill of fillGarbage', async () => {
  const image = Plane.zeros(Float32Array, 40, 30);
  const mask = Plane.zeros(Int32Array, 40, 30);
  for (let i = 0; i < image.data.length; i++) image.data[i] = Math.sin(i) * 100;
  for (let y = 0; y < 30; y++) for (let x = 0; x < 6; x++) mask.set(x, y, MaskPlane.NO_DATA);
  mask.set(20, 15, MaskPlane.CR);
  const pool = new WorkerPool(1);
  try {
    const far = await fillGarbageAsync(image, mask, MaskPlane.NO_DATA | MaskPlane.CR, 3, pool);
    assert.deepEqual(far, fillGarbage(image, mask, MaskPlane.NO_DATA | MaskPlane.CR, 3));
  } finally {
    await pool.close();
  }
});

test('a cosmic ray on a bright star wing leaves no negative blob on an AL-CONVSCI difference', async () => {
  const p = makePair({
    size: 192,
    seed: 5,
    sigmaScience: 1.4,
    sigmaTemplate: 2.0,
    scale: 1,
    noiseScience: 8,
    noiseTemplate: 6,
    stars: 30,
    transients: 0,
    background: [4, 6],
  });
  const { science } = p;
  const star = brightestInside(p.stars, 192, 40);
  const x = Math.round(star.x) + 2,
    y = Math.round(star.y);
  // A 2 x 2 hit on the wing, masked CR as the science's characterization would.
  for (const [dx, dy] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ]) {
    science.image.set(x + dx, y + dy, science.image.get(x + dx, y + dy) + 5000);
    science.mask.set(x + dx, y + dy, science.mask.get(x + dx, y + dy) | MaskPlane.CR);
  }
  const wing = (science.image.get(x, y) - 5000) / Math.sqrt(science.variance.get(x, y));
  assert.ok(wing > 20, `no premise: the wing is ${wing.toFixed(1)} sigma`);
  const r = await subtractImages(science, p.template, { method: 'auto' });
  assert.equal(r.method, 'AL-CONVSCI');
  const d = r.difference;
  let worst = 0;
  for (let v = y - 6; v <= y + 7; v++)
    for (let u = x - 6; u <= x + 7; u++) {
      if (d.mask.get(u, v) & MaskPlane.CR) continue;
      worst = Math.min(worst, d.image.get(u, v) / Math.sqrt(d.variance.get(u, v)));
    }
  assert.ok(worst > -5, `a ${worst.toFixed(1)} sigma hole beside the hit`);
});
