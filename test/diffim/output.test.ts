/**
 * The output stage (shared/diffim/output.ts) split with a pool worker: the no-data pass in two
 * halves, the halo stars and the model error's compact pixels (two passes) on the worker, give the very
 * planes, figures and model error of the one-thread run; compactPixels' box means, the interior
 * without per-pixel clipping, select what the per-pixel clipped means select.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subtractImages } from '../../shared/diffim/subtract.js';
import { finishDifference, type DifferencePlanes } from '../../shared/diffim/output.js';
import { DEFAULT_SUBTRACT_CONFIG } from '../../shared/diffim/config.js';
import { compactPixels, compactPixelsInTwo } from '../../shared/diffim/model-error.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { Plane } from '../../shared/image/plane.js';
import { sharedCopy } from '../../shared/util/shared-plane.js';
import { mulberry32 } from '../../shared/util/random.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { makePair } from './render.js';

test('the output stage gives the same planes, figures and model error with a worker as on one thread', async () => {
  const p = makePair({
    size: 320,
    seed: 5,
    sigmaScience: 2,
    sigmaTemplate: 1.4,
    scale: 1.1,
    noiseScience: 10,
    noiseTemplate: 7,
    stars: 60,
    transients: 3,
    background: [0, 0],
  });
  const r = await subtractImages(p.science, p.template, { method: 'al', fftSize: 128 });
  const d = r.difference;
  // Non-finite pixels and NO_DATA bits in both halves of the rows.
  for (const [x, y] of [
    [10, 20],
    [200, 250],
  ]) {
    d.image.set(x, y, Number.NaN);
    d.variance.set(x + 1, y, Number.POSITIVE_INFINITY);
    d.mask.set(x + 2, y, d.mask.get(x + 2, y) | MaskPlane.NO_DATA);
  }
  const planes = (): DifferencePlanes => ({
    image: sharedCopy(d.image),
    mask: sharedCopy(d.mask),
    variance: sharedCopy(d.variance),
  });
  const ctx = {
    science: p.science,
    template: p.template,
    method: r.method,
    differencePsf: r.differencePsf,
    fwhmPx: Math.max(r.stats.scienceFwhmPx, r.stats.templateFwhmPx),
    scale: r.kernelSum,
  };
  const cfg = {
    ...DEFAULT_SUBTRACT_CONFIG,
    modelError: { ...DEFAULT_SUBTRACT_CONFIG.modelError, minCoresBeyondNoise: 0 },
  };
  const pool = new WorkerPool(1);
  try {
    const serial = await finishDifference(planes(), ctx, cfg, null, true);
    const threaded = await finishDifference(planes(), ctx, cfg, pool, true);
    for (const k of ['image', 'mask', 'variance'] as const)
      assert.deepEqual(threaded.difference[k].data, serial.difference[k].data, k);
    const figures = (o: typeof serial) => ({ ...o, difference: null });
    assert.deepEqual(figures(threaded), figures(serial));
    assert.ok(serial.modelError && serial.modelError.pixels > 0, 'the model error was measured');
  } finally {
    await pool.close();
  }
});

test('compactPixels: the box means, clipped only near the edges, select as per-pixel clipped means do; the same on a worker', async () => {
  const rand = mulberry32(3);
  const [w, h] = [37, 29];
  const template = Plane.zeros(Float32Array, w, h);
  const variance = Plane.zeros(Float32Array, w, h);
  for (let i = 0; i < w * h; i++) {
    template.data[i] = rand() < 0.1 ? 400 * rand() : rand() - 0.5;
    variance.data[i] = 0.5 + rand();
  }
  const pool = new WorkerPool(1);
  try {
    for (const fwhmPx of [1.5, 1.75]) {
      // Box sides 6 and 7 (compactBoxFwhm 4): even and odd.
      const side = Math.max(3, Math.round(4 * fwhmPx));
      const half = Math.floor(side / 2);
      const expected: number[] = [];
      for (let y = 0; y < h; y++)
        for (let x = 0; x < w; x++) {
          let sum = 0;
          const [x0, x1] = [Math.max(0, x - half), Math.min(w, x + half + 1)];
          const [y0, y1] = [Math.max(0, y - half), Math.min(h, y + half + 1)];
          for (let v = y0; v < y1; v++) for (let u = x0; u < x1; u++) sum += template.get(u, v);
          const compact = template.get(x, y) - sum / ((x1 - x0) * (y1 - y0));
          if (compact > 0 && compact * compact > 100 * variance.get(x, y)) expected.push(y * w + x);
        }
      const found = compactPixels(template, variance, 1, fwhmPx);
      assert.deepEqual([...found], expected, `side ${side}`);
      // On a worker in two passes, the second resuming the first's sums; started or not.
      for (const started of [true, false]) {
        const passes = compactPixelsInTwo(
          sharedCopy(template),
          sharedCopy(variance),
          1,
          fwhmPx,
          {},
          pool,
        );
        if (started) passes.start();
        const remote = await passes.result();
        assert.deepEqual([...remote], expected, `side ${side}, on a worker`);
      }
    }
  } finally {
    await pool.close();
  }
});
