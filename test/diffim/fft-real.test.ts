import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fft2, kernelSpectrum } from '../../shared/util/fft.js';
import { RealFft2, realKernelSpectrum } from '../../shared/util/fft-real.js';
import { rng } from './render.js';

/** Largest difference between a half spectrum (column layout) and the matching half of a full one (row layout). */
function halfVsFull(n: number, half: Float64Array, full: Float64Array): number {
  let worst = 0;
  for (let kx = 0; kx <= n / 2; kx++) {
    for (let ky = 0; ky < n; ky++) {
      const i = 2 * (ky * n + kx),
        j = 2 * (kx * n + ky);
      worst = Math.max(worst, Math.abs(full[i] - half[j]), Math.abs(full[i + 1] - half[j + 1]));
    }
  }
  return worst;
}

test('RealFft2: the half spectrum of a real image equals the complex FFT, and inverse restores the image', () => {
  const n = 32;
  const r = rng(3);
  const a = Float64Array.from({ length: n * n }, () => r() - 0.5);
  const fft = new RealFft2(n);
  const s = fft.allocSpectrum();
  fft.forward(a, s);
  const z = new Fft2(n).alloc();
  a.forEach((v, i) => (z[2 * i] = v));
  new Fft2(n).forward(z);
  assert.ok(halfVsFull(n, s, z) < 1e-12);
  const b = new Float64Array(n * n);
  fft.inverse(s, b);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-13);
});

test('RealFft2: skipped rows count as zero, and a band of output rows is exact', () => {
  const n = 16;
  const r = rng(4);
  const a = Float64Array.from({ length: n * n }, () => r());
  const zeroed = Float64Array.from(a);
  for (let y = 0; y < n; y++) if (y < 3 || y >= 12) zeroed.fill(0, y * n, (y + 1) * n);
  const fft = new RealFft2(n);
  const s1 = fft.allocSpectrum(),
    s2 = fft.allocSpectrum();
  fft.forward(a, s1, 3, 12);
  fft.forward(zeroed, s2);
  for (let i = 0; i < s1.length; i++) assert.ok(Math.abs(s1[i] - s2[i]) < 1e-12);
  const out = new Float64Array(n * n).fill(7);
  fft.inverse(s2, out, 5, 10);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const want = y >= 5 && y < 10 ? zeroed[y * n + x] : 7;
      assert.ok(Math.abs(out[y * n + x] - want) < 1e-12, `(${x}, ${y})`);
    }
  }
});

test('realKernelSpectrum equals the half of kernelSpectrum', () => {
  const n = 32,
    size = 9;
  const r = rng(5);
  const k = Float64Array.from({ length: size * size }, () => r());
  assert.ok(
    halfVsFull(
      n,
      realKernelSpectrum(new RealFft2(n), k, size),
      kernelSpectrum(new Fft2(n), k, size),
    ) < 1e-12,
  );
});

test('RealFft2.filterColumns equals forward, the filter over the half spectrum, inverse (bit for bit)', () => {
  const n = 16;
  const r = rng(5);
  const a = Float64Array.from({ length: n * n }, () => r() - 0.5);
  const fft = new RealFft2(n);
  const gain = (kx: number, ky: number): number => 1 / (1 + kx + 0.5 * ky);
  const s = fft.allocSpectrum();
  fft.forward(a, s, 2, 14);
  for (let kx = 0; kx <= n / 2; kx++)
    for (let ky = 0; ky < n; ky++) {
      s[2 * (kx * n + ky)] *= gain(kx, ky);
      s[2 * (kx * n + ky) + 1] *= gain(kx, ky);
    }
  const want = new Float64Array(n * n);
  fft.inverse(s, want, 3, 12);
  const got = new Float64Array(n * n);
  const seen: number[] = [];
  fft.filterColumns(
    a,
    2,
    14,
    (kx, column) => {
      seen.push(kx);
      for (let ky = 0; ky < n; ky++) {
        column[2 * ky] *= gain(kx, ky);
        column[2 * ky + 1] *= gain(kx, ky);
      }
    },
    got,
    3,
    12,
  );
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual(got.subarray(3 * n, 12 * n), want.subarray(3 * n, 12 * n));
  // One column's inverse is the inverse's column pass.
  const column = new Float64Array(2 * n);
  fft.inverseColumn(s.subarray(2 * n, 4 * n), column);
  const columns = fft.allocSpectrum();
  fft.inverseColumns(s, columns);
  assert.deepEqual(column, columns.subarray(2 * n, 4 * n));
});
