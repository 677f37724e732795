import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  detectPeaks,
  eitherSignSourceMask,
  findPeaks,
} from '../../shared/characterize/detect-peaks.js';

test('the sources of either sign are masked in one pass, the union of the masks of the residual and of its negation', () => {
  const w = 96;
  const h = 80;
  const residual = new Float32Array(w * h);
  // Deterministic noise (sigma 1) with a bright source of each sign.
  for (let i = 0; i < residual.length; i++) residual[i] = Math.sin(i * 12.9898) * 1.7;
  for (const [cx, cy, a] of [
    [30, 40, 60],
    [70, 25, -60],
  ])
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        residual[y * w + x] += a * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8);
  const positive = detectPeaks(residual, w, h, 1).sourceMask;
  const negative = detectPeaks(
    residual.map((v) => -v),
    w,
    h,
    1,
  ).sourceMask;
  assert.equal(positive[40 * w + 30], 1);
  assert.equal(negative[25 * w + 70], 1);
  const rowOf = (y: number): Float32Array => residual.subarray(y * w, (y + 1) * w);
  assert.deepEqual(
    eitherSignSourceMask(rowOf, w, h, 1),
    positive.map((v, i) => v | negative[i]),
  );
});

test('findPeaks finds the peaks detectPeaks finds, without drawing the source mask', () => {
  const w = 130;
  const h = 110;
  const residual = new Float32Array(w * h);
  for (let i = 0; i < residual.length; i++) residual[i] = Math.sin(i * 78.233) * 1.7;
  for (let k = 0; k < 12; k++) {
    const cx = 10 + ((k * 37) % 110);
    const cy = 8 + ((k * 53) % 95);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        residual[y * w + x] += (20 + 7 * k) * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 9);
  }
  for (const bin of [1, 2, 3]) {
    const expected = detectPeaks(residual, w, h, 1, { bin }).peaks;
    assert.ok(expected.length >= 8, `bin ${bin}: ${expected.length} peaks`);
    assert.deepEqual(findPeaks(residual, w, h, 1, { bin }), expected);
  }
});
