// The warped variance's rescale to PSF scales with half of its rows on a pool worker gives the
// same numbers (plane and lags) as on one thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exposure, type NoiseCorrelation } from '../../shared/image/exposure.js';
import { Plane } from '../../shared/image/plane.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import {
  rescaleVarianceToPsfScales,
  rescaleVarianceToPsfScalesAsync,
} from '../../shared/warp/index.js';
import type { WarpResult } from '../../shared/warp/warp.js';

/** A warp's result of `width` x `height` pixels on shared memory, its noise model in cells of 16 px offset by 5. */
function warped(width: number, height: number): WarpResult {
  const plane = () =>
    new Plane(new Float32Array(new SharedArrayBuffer(4 * width * height)), width, height);
  const [image, variance] = [plane(), plane()];
  for (let i = 0; i < width * height; i++) variance.data[i] = 1 + ((i * 37) % 101) / 7;
  const mask = new Plane(new Int32Array(width * height), width, height);
  const [nx, ny] = [Math.ceil(width / 16) + 1, Math.ceil(height / 16) + 1];
  const noise: NoiseCorrelation = {
    x0: -5,
    y0: -5,
    cellSize: 16,
    nx,
    ny,
    cells: Array.from({ length: nx * ny }, (_v, k) => ({
      x: [1, 0.1 + k / 1000, 0.01],
      y: [1, 0.2 - k / 2000],
    })),
  };
  const exposure = new Exposure(image, mask, variance, null, null, undefined, noise);
  return {
    exposure,
    coverageFraction: 1,
    covarianceFactor: 0.8,
    interpLength: 32,
    maxMappingErrorPx: 0,
    threads: 1,
    timings: { mappingMs: 0, resampleMs: 0, totalMs: 0 },
  };
}

test('rescaleVarianceToPsfScalesAsync, its rows shared with a pool worker, gives the single thread numbers', async () => {
  const pool = new WorkerPool(1);
  try {
    const one = warped(70, 45);
    const two = warped(70, 45);
    rescaleVarianceToPsfScales(one);
    await rescaleVarianceToPsfScalesAsync(two, pool);
    assert.deepEqual(two.exposure.variance.data, one.exposure.variance.data);
    assert.deepEqual(two.exposure.noiseCorrelation, one.exposure.noiseCorrelation);
    assert.notDeepEqual(one.exposure.variance.data, warped(70, 45).exposure.variance.data);
  } finally {
    await pool.close();
  }
});
