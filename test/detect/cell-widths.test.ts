import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CachedPsf } from '../../shared/detect/cached-psf.js';
import { cellWidthsAsync } from '../../shared/detect/cell-widths.js';
import { GaussianPsf } from '../../shared/detect/analytic-psf.js';
import { PixelPsf } from '../../shared/psf/pixel-psf.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { Exposure } from '../../shared/image/exposure.js';

const SIZE = 15;

/** A pixel PSF whose core widens along x and y (basis: a Gaussian, plus wider terms times u and v). */
function wideningPsf(): PixelPsf {
  const stamp = (sigma: number) => new GaussianPsf(sigma, SIZE).stampAt(7, 7, true).data;
  const [core, wide] = [stamp(1.5), stamp(2.5)];
  const basis = new Float64Array(3 * SIZE * SIZE);
  for (let k = 0; k < SIZE * SIZE; k++) {
    basis[k] = core[k];
    basis[SIZE * SIZE + k] = 0.3 * (wide[k] - core[k]);
    basis[2 * SIZE * SIZE + k] = 0.1 * (wide[k] - core[k]);
  }
  return new PixelPsf(SIZE, 1, basis, { width: 300, height: 200 });
}

test("cellWidthsAsync: the worker's FWHM per cell is the model's here, for every cell of the image", async () => {
  const image = Exposure.blank(300, 200);
  const model = wideningPsf();
  const here = new CachedPsf(wideningPsf(), 64);
  const cached = new CachedPsf(model, 64);
  const pool = new WorkerPool(1);
  try {
    await cellWidthsAsync(cached, image, pool);
  } finally {
    await pool.close();
  }
  const { x, y } = cached.cellCentres(0, 0, 300, 200);
  assert.equal(x.length, 5 * 4);
  const widths = Array.from(x, (cx, k) => here.fwhmAt(cx + 10, y[k] - 20));
  assert.ok(Math.max(...widths) > Math.min(...widths) * 1.05, 'the FWHM varies over the image');
  x.forEach((cx, k) => assert.equal(cached.fwhmAt(cx + 10, y[k] - 20), widths[k]));
  // The known values are what fwhmAt returns: none is fitted again here.
  cached.knowFwhm([x[3]], [y[3]], [42]);
  assert.equal(cached.fwhmAt(x[3], y[3]), 42);
});

test('cellWidthsAsync: null without a worker or a stored form of the model (fwhmAt then fits here)', () => {
  const image = Exposure.blank(64, 64);
  const pool = new WorkerPool(0);
  assert.equal(cellWidthsAsync(new CachedPsf(wideningPsf(), 32), image, pool), null);
  const unstorable = {
    stampSize: 5,
    stampAt: () => ({ size: 5, data: new Float32Array(25) }),
    sigmaAt: () => 1,
    fwhmAt: () => 2.35,
  };
  const pool1 = { size: 1 } as WorkerPool;
  assert.equal(cellWidthsAsync(new CachedPsf(unstorable, 32), image, pool1), null);
});

test('cellWidthsAsync: tasks posted meanwhile run between its cells; once aborted, nothing is learnt', async () => {
  const image = Exposure.blank(300, 200);
  const cached = new CachedPsf(wideningPsf(), 16);
  const pool = new WorkerPool(1);
  const order: string[] = [];
  const stop = new AbortController();
  try {
    const widths = cellWidthsAsync(cached, image, pool, stop.signal)!;
    void widths.then(() => order.push('widths'));
    // A task posted after it: done while the widths' cells (13 x 19) are still being fitted.
    await pool.preload([new URL('../../shared/detect/cell-widths.ts', import.meta.url).href]);
    order.push('other task');
    stop.abort();
    await widths;
  } finally {
    await pool.close();
  }
  assert.deepEqual(order, ['other task', 'widths']);
  const { x, y } = cached.cellCentres(0, 0, 300, 200);
  const fresh = new CachedPsf(wideningPsf(), 16);
  assert.equal(cached.fwhmAt(x[0], y[0]), fresh.fwhmAt(x[0], y[0]), 'fitted here, as without');
});
