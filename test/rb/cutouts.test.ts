import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';
import {
  CHANNELS,
  CUTOUT_LENGTH,
  CUTOUT_SIZE,
  augmentInto,
  cutTriplets,
  normalizeCutouts,
} from '../../shared/rb/cutouts.js';

const HALF = (CUTOUT_SIZE - 1) / 2;
const at = (data: Float32Array, n: number, i: number, j: number, c: number): number =>
  data[n * CUTOUT_LENGTH + (j * CUTOUT_SIZE + i) * CHANNELS + c];

function images(size = 100): { science: Exposure; template: Exposure; difference: Exposure } {
  const make = (value: (x: number, y: number) => number): Exposure => {
    const e = Exposure.blank(size, size);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) e.image.set(x, y, value(x, y));
    e.variance.fill(4);
    return e;
  };
  return {
    science: make((x, y) => x + 1000 * y),
    template: make((x, y) => -(x + 1000 * y)),
    difference: make((x, y) => 2 * x + y),
  };
}

test('a cutout is centred on the nearest pixel, holds the three planes and the difference S/N', () => {
  const imgs = images();
  const raw = cutTriplets([{ x: 40.4, y: 60.6 }], imgs);
  assert.equal(raw.count, 1);
  assert.equal(at(raw.data, 0, HALF, HALF, 0), 40 + 1000 * 61);
  assert.equal(at(raw.data, 0, HALF, HALF, 1), -(40 + 1000 * 61));
  assert.equal(at(raw.data, 0, HALF + 3, HALF - 2, 2), 2 * 43 + 59);
  assert.equal(at(raw.data, 0, HALF + 3, HALF - 2, 3), (2 * 43 + 59) / 2);
});

test('pixels off the image or flagged NO_DATA are zero; views cut in their parent frame', () => {
  const imgs = images();
  imgs.template.mask.set(5, 5, MaskPlane.NO_DATA);
  const raw = cutTriplets([{ x: 5, y: 5 }], imgs);
  assert.equal(at(raw.data, 0, HALF - 10, HALF, 0), 0, 'x = -5 is off the image');
  assert.equal(at(raw.data, 0, HALF, HALF, 1), 0, 'NO_DATA template pixel');
  assert.equal(at(raw.data, 0, HALF, HALF, 0), 5 + 5000);
  const box = { x: 20, y: 30, width: 60, height: 60 };
  const view = {
    science: imgs.science.view(box),
    template: imgs.template.view(box),
    difference: imgs.difference.view(box),
  };
  assert.deepEqual(
    cutTriplets([{ x: 50, y: 60 }], view).data,
    cutTriplets([{ x: 50, y: 60 }], imgs).data,
  );
});

test('normalisation: each image plane has median 0 and RMS 1 and is scale-free; S/N becomes asinh(S/N)', () => {
  const imgs = images();
  const raw = cutTriplets([{ x: 50, y: 50 }], imgs);
  const norm = normalizeCutouts(raw);
  for (let c = 0; c < 3; c++) {
    const values = Array.from(
      { length: CUTOUT_SIZE * CUTOUT_SIZE },
      (_, k) => norm.data[k * CHANNELS + c],
    );
    const rms = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    assert.ok(Math.abs(rms - 1) < 1e-5, `plane ${c} rms ${rms}`);
    assert.ok(
      Math.abs([...values].sort((a, b) => a - b)[values.length >> 1]) < 1e-5,
      `plane ${c} median`,
    );
  }
  const scaled = { ...raw, data: raw.data.map((v, i) => (i % CHANNELS < 3 ? 7.5 * v + 3 : v)) };
  const normScaled = normalizeCutouts(scaled);
  for (let i = 0; i < norm.data.length; i++)
    assert.ok(Math.abs(normScaled.data[i] - norm.data[i]) < 1e-4);
  assert.ok(
    Math.abs(at(norm.data, 0, HALF, HALF, 3) - Math.asinh(at(raw.data, 0, HALF, HALF, 3))) < 1e-6,
  );
});

test('augmentation: the 8 symmetries of the square are distinct, k = 0 is the identity and 4 quarter turns come back', () => {
  const src = new Float32Array(CUTOUT_LENGTH).map((_, i) => i);
  const outs = Array.from({ length: 8 }, (_, k) => {
    const out = new Float32Array(CUTOUT_LENGTH);
    augmentInto(src, 0, k, out, 0);
    return out;
  });
  assert.deepEqual(outs[0], src);
  assert.equal(new Set(outs.map((o) => o.slice(0, CHANNELS * 3).join(','))).size, 8);
  let turned = src;
  for (let t = 0; t < 4; t++) {
    const next = new Float32Array(CUTOUT_LENGTH);
    augmentInto(turned, 0, 1, next, 0);
    turned = next;
  }
  assert.deepEqual(turned, src);
  assert.equal(
    outs[1][(CUTOUT_SIZE - 1) * CUTOUT_SIZE * CHANNELS],
    src[0],
    'a quarter turn moves a corner to the next corner',
  );
  assert.equal(outs[4][(CUTOUT_SIZE - 1) * CHANNELS], src[0], 'a flip mirrors left and right');
});
