import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subtractImages } from '../../shared/diffim/subtract.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { makePair } from './render.js';

test('tiled stages give the same difference on worker threads as on one thread', async () => {
  const p = makePair({
    size: 320,
    seed: 4,
    sigmaScience: 2,
    sigmaTemplate: 1.4,
    scale: 1.1,
    noiseScience: 10,
    noiseTemplate: 7,
    stars: 60,
    transients: 3,
    background: [0, 0],
  });
  const pool = new WorkerPool(1);
  try {
    for (const method of ['al', 'zogy'] as const) {
      const cfg = { method, fftSize: 128, psfGrid: 2 };
      const serial = await subtractImages(p.science, p.template, cfg);
      const threaded = await subtractImages(p.science, p.template, cfg, { pool });
      let worst = 0;
      for (let i = 0; i < serial.difference.image.data.length; i++)
        worst = Math.max(
          worst,
          Math.abs(serial.difference.image.data[i] - threaded.difference.image.data[i]),
        );
      assert.ok(worst < 1e-3, `${method}: max difference ${worst}`);
      // The kernel fit's stamps, prepared on both threads, give the very same kernel.
      assert.equal(threaded.kernelSum, serial.kernelSum, method);
      assert.deepEqual(threaded.stats.candidates, serial.stats.candidates, method);
      if (serial.score && threaded.score) {
        let w2 = 0;
        for (let i = 0; i < serial.score.data.length; i++)
          w2 = Math.max(w2, Math.abs(serial.score.data[i] - threaded.score.data[i]));
        assert.ok(w2 < 1e-4, `S_corr max difference ${w2}`);
      }
    }
  } finally {
    await pool.close();
  }
});
