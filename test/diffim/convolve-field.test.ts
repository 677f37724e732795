import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alardLuptonBasis } from '../../shared/diffim/basis.js';
import { convolveKernelField } from '../../shared/diffim/convolve-field.js';
import { KernelSolution } from '../../shared/diffim/kernel-solution.js';
import { Plane } from '../../shared/image/plane.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { gaussian, rng } from './render.js';

function fieldFixture(): {
  solution: KernelSolution;
  img: Plane<Float32Array>;
  w: number;
  h: number;
} {
  const basis = alardLuptonBasis({ size: 11, sigmas: [0.8, 1.6, 3.2], degrees: [2, 1, 1] });
  const r = rng(7);
  const w = 300,
    h = 200;
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
  return { solution, img, w, h };
}

test('the low-rank tiled convolution equals a per-pixel sum with the local kernel', async () => {
  const { solution, img, w, h } = fieldFixture();
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

test('the convolution tiles write the difference as the separate subtraction does, on one thread and on two', async () => {
  const { solution, img, w, h } = fieldFixture();
  const g = gaussian(rng(9));
  const target = Plane.zeros(Float32Array, w, h);
  target.data.forEach((_v, i) => (target.data[i] = 5 * g()));
  // Garbage: a bad column in the convolved image, a masked block in the difference.
  const sourceMask = Plane.zeros(Int32Array, w, h),
    mask = Plane.zeros(Int32Array, w, h);
  for (let y = 0; y < h; y++) {
    sourceMask.set(77, y, 1);
    img.set(77, y, 1e6);
  }
  for (let y = 20; y < 30; y++) for (let x = 200; x < 230; x++) mask.set(x, y, 4);
  const clean = img.clone();
  for (let y = 0; y < h; y++) clean.set(77, y, 0);
  const convolved = await convolveKernelField(clean, solution, 64);
  const pool = new WorkerPool(1);
  try {
    for (const divisor of [null, 1.2]) {
      const difference = {
        target,
        divisor,
        sourceGarbage: { mask: sourceMask, bits: 1 },
        garbage: { mask, bits: 4 },
      };
      for (const p of [null, pool]) {
        const d = await convolveKernelField(img, solution, 64, p, difference);
        for (let i = 0; i < d.data.length; i++) {
          const t = target.data[i] - convolved.data[i];
          const want = mask.data[i] & 4 ? 0 : divisor === null ? t : -t / divisor;
          assert.equal(d.data[i], Math.fround(want), `pixel ${i}, divisor ${divisor}, pool ${!!p}`);
        }
      }
    }
  } finally {
    await pool.close();
  }
});
