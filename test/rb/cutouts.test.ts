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
  reverseTimeInPlace,
  zoomInPlace,
  addSkyResidualInPlace,
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

test('normalisation subtracts the median of a sorted copy exactly: ties, -0 before +0 (the selection that replaced the sort)', () => {
  const pixels = CUTOUT_SIZE * CUTOUT_SIZE;
  // Planes whose middle value is a tie, a -0 among +0s, a +0 among -0s, and random values.
  const planes = [
    (k: number) => Math.round(Math.sin(k) * 3),
    (k: number) => (k < pixels / 2 - 2 ? -1 - k : k % 3 === 0 ? -0 : k % 3 === 1 ? 0 : 1 + k),
    (k: number) => (k < pixels / 2 - 2 ? -1 - k : k % 2 ? -0 : 0),
    (k: number) => Math.fround(Math.sin(k * 12.9898) * 43758.5453) % 1,
  ];
  const raw = { count: planes.length, data: new Float32Array(planes.length * CUTOUT_LENGTH) };
  planes.forEach((f, n) => {
    for (let k = 0; k < pixels; k++)
      for (let c = 0; c < CHANNELS; c++) raw.data[n * CUTOUT_LENGTH + k * CHANNELS + c] = f(k + c);
  });
  const norm = normalizeCutouts(raw).data;
  for (let n = 0; n < raw.count; n++)
    for (let c = 0; c < 3; c++) {
      const plane = Float32Array.from(
        { length: pixels },
        (_, k) => raw.data[n * CUTOUT_LENGTH + k * CHANNELS + c],
      );
      const median = Float32Array.from(plane).sort()[pixels >> 1];
      let sumSq = 0;
      for (const v of plane) sumSq += (v - median) ** 2;
      const scale = 1 / Math.sqrt(sumSq / pixels);
      for (let k = 0; k < pixels; k++)
        assert.ok(
          Object.is(
            norm[n * CUTOUT_LENGTH + k * CHANNELS + c],
            Math.fround((plane[k] - median) * scale),
          ),
          `cutout ${n} plane ${c} pixel ${k}`,
        );
    }
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

test('time reversal: the normalised cutout of the swapped pair with the negated difference, twice the identity', () => {
  const imgs = images();
  const raw = cutTriplets([{ x: 50, y: 50 }], imgs);
  const swapped = raw.data.map((_, i) => {
    const c = i % CHANNELS;
    return c === 0 ? raw.data[i + 1] : c === 1 ? raw.data[i - 1] : -raw.data[i];
  });
  const reversed = normalizeCutouts(raw).data;
  reverseTimeInPlace(reversed, 0);
  const expected = normalizeCutouts({ count: 1, data: swapped }).data;
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(reversed[i] - expected[i]) < 1e-5);
  reverseTimeInPlace(reversed, 0);
  assert.deepEqual(reversed, normalizeCutouts(raw).data);
});

test('zoom: scale 1 is the identity; a Gaussian PSF zoomed by s has s times its second-moment width', () => {
  const sigma = 2;
  const data = new Float32Array(2 * CUTOUT_LENGTH);
  for (let j = 0; j < CUTOUT_SIZE; j++)
    for (let i = 0; i < CUTOUT_SIZE; i++)
      for (let c = 0; c < CHANNELS; c++)
        data[CUTOUT_LENGTH + (j * CUTOUT_SIZE + i) * CHANNELS + c] = Math.exp(
          -((i - HALF) ** 2 + (j - HALF) ** 2) / (2 * sigma ** 2),
        );
  const scratch = new Float32Array(CUTOUT_LENGTH);
  const copy = data.slice();
  zoomInPlace(copy, 1, 1, scratch);
  for (let i = 0; i < copy.length; i++) assert.ok(Math.abs(copy[i] - data[i]) < 1e-6);
  const width = (d: Float32Array, c: number): number => {
    let w = 0;
    let wrr = 0;
    for (let j = 0; j < CUTOUT_SIZE; j++)
      for (let i = 0; i < CUTOUT_SIZE; i++) {
        const v = at(d, 1, i, j, c);
        w += v;
        wrr += v * ((i - HALF) ** 2 + (j - HALF) ** 2);
      }
    return Math.sqrt(wrr / w / 2);
  };
  for (const scale of [0.7, 1.6]) {
    const zoomed = data.slice();
    zoomInPlace(zoomed, 1, scale, scratch);
    for (let c = 0; c < CHANNELS; c++)
      assert.ok(Math.abs(width(zoomed, c) / (scale * sigma) - 1) < 0.03, `scale ${scale}`);
    assert.deepEqual(zoomed.subarray(0, CUTOUT_LENGTH), data.subarray(0, CUTOUT_LENGTH));
  }
});

test('sky residual: the plane lands on the S/N plane and, times sqrt(variance), on the difference; missing pixels stay 0', () => {
  const imgs = images();
  imgs.difference.mask.set(30, 50, MaskPlane.NO_DATA);
  const raw = cutTriplets([{ x: 50, y: 50 }], imgs);
  const out = raw.data.slice();
  addSkyResidualInPlace(out, 0, { offset: 0.5, gradX: 0.2, gradY: -0.1 });
  for (const [i, j] of [
    [0, 0],
    [HALF, HALF],
    [CUTOUT_SIZE - 1, 7],
  ]) {
    const level = 0.5 + (0.2 * (i - HALF)) / HALF - (0.1 * (j - HALF)) / HALF;
    assert.ok(Math.abs(at(out, 0, i, j, 3) - at(raw.data, 0, i, j, 3) - level) < 1e-5);
    // variance 4: the noise is 2 ADU.
    assert.ok(Math.abs(at(out, 0, i, j, 2) - at(raw.data, 0, i, j, 2) - 2 * level) < 1e-4);
    for (const c of [0, 1]) assert.equal(at(out, 0, i, j, c), at(raw.data, 0, i, j, c));
  }
  const masked = [30 - 50 + HALF, HALF] as const;
  assert.equal(at(out, 0, ...masked, 2), 0);
  assert.equal(at(out, 0, ...masked, 3), 0);
});

test("local-background normalisation: a pedestal under the difference leaves the input unchanged, where 'median' moves the S/N plane", () => {
  // A PSF-like change on flat sky, then the same on a pedestal of 0.4 sigma with a gradient.
  const imgs = images();
  for (let y = 0; y < 100; y++)
    for (let x = 0; x < 100; x++)
      imgs.difference.image.set(x, y, 40 * Math.exp(-((x - 50) ** 2 + (y - 50) ** 2) / 18));
  const raw = cutTriplets([{ x: 50, y: 50 }], imgs);
  const lifted = raw.data.slice();
  addSkyResidualInPlace(lifted, 0, { offset: 0.4, gradX: 0, gradY: 0 });
  const onPedestal = { count: 1, data: lifted };
  const flat = normalizeCutouts(raw, 'local-background').data;
  const moved = normalizeCutouts(onPedestal, 'local-background').data;
  for (let k = 0; k < CUTOUT_SIZE * CUTOUT_SIZE; k++)
    for (let c = 0; c < CHANNELS; c++)
      assert.ok(Math.abs(flat[k * CHANNELS + c] - moved[k * CHANNELS + c]) < 1e-4, `${k} ${c}`);
  // The old normalisation keeps the pedestal in the S/N plane: asinh(S/N + 0.4).
  const old = normalizeCutouts(onPedestal).data;
  assert.ok(Math.abs(old[3] - Math.asinh(at(raw.data, 0, 0, 0, 3) + 0.4)) < 1e-5);
  assert.ok(Math.abs(moved[3] - Math.asinh(at(raw.data, 0, 0, 0, 3))) < 1e-4);
  // The science and template planes are normalised as 'median' does.
  const median = normalizeCutouts(raw).data;
  for (let k = 0; k < CUTOUT_SIZE * CUTOUT_SIZE; k++)
    for (const c of [0, 1]) assert.equal(flat[k * CHANNELS + c], median[k * CHANNELS + c]);
});

test('local-background normalisation: the annulus median comes off the difference and its S/N; missing pixels sit at 0; odd under time reversal', () => {
  const imgs = images();
  imgs.difference.mask.set(30, 50, MaskPlane.NO_DATA);
  const raw = cutTriplets([{ x: 50, y: 50 }], imgs);
  const norm = normalizeCutouts(raw, 'local-background').data;
  // difference 2x + y about (50, 50): the annulus is symmetric, so its median is the centre's value.
  assert.ok(Math.abs(at(norm, 0, HALF, HALF, 2)) < 1e-5);
  assert.ok(Math.abs(at(norm, 0, HALF, HALF, 3)) < 1e-5);
  const masked = [30 - 50 + HALF, HALF] as const;
  assert.equal(at(norm, 0, ...masked, 3), 0);
  assert.ok(Math.abs(at(norm, 0, ...masked, 2)) < 1e-6);
  const swapped = raw.data.map((_, i) => {
    const c = i % CHANNELS;
    return c === 0 ? raw.data[i + 1] : c === 1 ? raw.data[i - 1] : -raw.data[i];
  });
  const reversed = norm.slice();
  reverseTimeInPlace(reversed, 0);
  const expected = normalizeCutouts({ count: 1, data: swapped }, 'local-background').data;
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(reversed[i] - expected[i]) < 1e-5);
});
