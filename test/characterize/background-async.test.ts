import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureCellsAsync, sourceMaskAsync } from '../../shared/characterize/background-async.js';
import { meshCells } from '../../shared/characterize/background.js';
import { Plane } from '../../shared/image/plane.js';
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

test('measuring again only the cells whose exclusions changed gives the cells measured afresh', async () => {
  const w = 160;
  const h = 128;
  const image = Plane.zeros(Float32Array, w, h);
  for (let i = 0; i < w * h; i++) image.data[i] = 10 + Math.sin(i * 12.9898) * 3 + (i % w) / 40;
  const before = new Uint8Array(w * h);
  const after = new Uint8Array(w * h);
  // A source in cell (1, 1); cell (3, 2) emptied below the usable fraction.
  for (let y = 40; y < 52; y++) for (let x = 40; x < 50; x++) after[y * w + x] = 1;
  for (let y = 64; y < 96; y++) for (let x = 96; x < 128; x++) after[y * w + x] = 1;
  const config = { meshSize: 32 };
  const fresh = meshCells(image, config);
  await measureCellsAsync(image, after, fresh, null);
  const nx = fresh.nx;
  const changed = new Uint8Array(nx * fresh.ny);
  changed[nx + 1] = 1;
  changed[2 * nx + 3] = 1;
  for (const pool of [null, new WorkerPool(1)]) {
    try {
      const again = meshCells(image, config);
      await measureCellsAsync(image, before, again, pool);
      const first = again.sky[nx + 1];
      await measureCellsAsync(image, after, again, pool, changed);
      assert.notEqual(again.sky[nx + 1], first);
      assert.ok(Number.isNaN(again.sky[2 * nx + 3]) && Number.isNaN(again.sig[2 * nx + 3]));
      assert.deepEqual(again.sky, fresh.sky);
      assert.deepEqual(again.sig, fresh.sig);
    } finally {
      await pool?.close();
    }
  }
});
