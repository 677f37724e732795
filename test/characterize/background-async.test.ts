import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceMaskAsync } from '../../shared/characterize/background-async.js';
import { detectPeaks } from '../../shared/characterize/detect-peaks.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';

test('the negative sources are read from the residual itself, the same mask as a negated copy, on a worker or not', async () => {
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
  const negated = residual.map((v) => -v);
  const expected = detectPeaks(negated, w, h, 1).sourceMask;
  assert.equal(expected[25 * w + 70], 1);
  assert.equal(expected[40 * w + 30], 0);
  assert.deepEqual(await sourceMaskAsync(residual, w, h, 1, {}, -1, null), expected);
  const pool = new WorkerPool(1);
  try {
    assert.deepEqual(await sourceMaskAsync(residual, w, h, 1, {}, -1, pool), expected);
    const positive = await sourceMaskAsync(residual, w, h, 1, {}, 1, pool);
    assert.deepEqual(positive, detectPeaks(residual, w, h, 1).sourceMask);
    assert.equal(positive[40 * w + 30], 1);
  } finally {
    await pool.close();
  }
});
