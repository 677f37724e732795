import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagDefects } from '../../shared/characterize/defects.js';
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';

test('saturation grows along its column into the bleed trail, then by 1 px; NaN is NO_DATA', () => {
  const e = Exposure.blank(30, 40);
  e.info.saturation = 1000;
  for (let y = 15; y <= 18; y++) e.image.set(10, y, 1000);
  for (let y = 19; y <= 25; y++) e.image.set(10, y, 900 - 50 * (y - 19)); // trail above half the level up to y = 25
  e.image.set(10, 26, 300);
  e.image.set(3, 3, Number.NaN);
  const r = flagDefects(e);
  assert.equal(r.nNoData, 1);
  assert.ok(e.mask.get(3, 3) & MaskPlane.NO_DATA);
  for (let y = 14; y <= 26; y++)
    for (let x = 9; x <= 11; x++) assert.ok(e.mask.get(x, y) & MaskPlane.SAT, `(${x}, ${y})`);
  assert.equal(e.mask.get(10, 27) & MaskPlane.SAT, 0);
  assert.equal(e.mask.get(12, 20) & MaskPlane.SAT, 0);
  assert.equal(r.nSaturated, 3 * 13);
});

test('without a saturation level nothing is flagged SAT', () => {
  const e = Exposure.blank(8, 8);
  e.image.fill(1e9);
  assert.equal(flagDefects(e).nSaturated, 0);
  assert.ok(e.mask.data.every((m) => m === 0));
});
