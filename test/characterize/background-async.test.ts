import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureCellsAsync } from '../../shared/characterize/background-async.js';
import { meshCells } from '../../shared/characterize/background.js';
import { Plane } from '../../shared/image/plane.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';

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
