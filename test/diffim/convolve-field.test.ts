import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alardLuptonBasis } from '../../shared/diffim/basis.js';
import { convolveKernelField } from '../../shared/diffim/convolve-field.js';
import { KernelSolution } from '../../shared/diffim/kernel-solution.js';
import { Plane } from '../../shared/image/plane.js';
import { gaussian, rng } from './render.js';

test('the low-rank tiled convolution equals a per-pixel sum with the local kernel', async () => {
  const basis = alardLuptonBasis({ size: 11, sigmas: [0.8, 1.6, 3.2], degrees: [2, 1, 1] });
  const r = rng(7);
  const w = 300,
    h = 200;
  // Order-2 kernel variation, order-1 background: arbitrary but fixed coefficients.
  const coefficients = basis.terms
    .slice(1)
    .map(() => Float64Array.from({ length: 6 }, () => r() - 0.5));
  const solution = new KernelSolution(
    basis,
    2,
    1,
    1.2,
    coefficients,
    Float64Array.of(3, -1, 2),
    w,
    h,
  );
  const g = gaussian(rng(8));
  const img = Plane.zeros(Float32Array, w, h);
  img.data.forEach((_v, i) => (img.data[i] = g()));
  const out = await convolveKernelField(img, solution, 64);
  for (const [x, y] of [
    [5, 5],
    [150, 100],
    [299, 0],
    [64, 190],
    [240, 37],
  ]) {
    const k = solution.kernelAt(x, y);
    let v = solution.backgroundAt(x, y);
    for (let dv = -5; dv <= 5; dv++) {
      for (let du = -5; du <= 5; du++) {
        const sx = x - du,
          sy = y - dv;
        if (sx >= 0 && sy >= 0 && sx < w && sy < h)
          v += k[(dv + 5) * 11 + du + 5] * img.get(sx, sy);
      }
    }
    assert.ok(Math.abs(out.get(x, y) - v) < 1e-4, `(${x}, ${y}): ${out.get(x, y)} vs ${v}`);
  }
});
