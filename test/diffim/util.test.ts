import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fft2 } from '../../shared/util/fft.js';
import { RealFft2, realKernelSpectrum } from '../../shared/util/fft-real.js';
import { loadTile, outputRows } from '../../shared/util/real-tiles.js';
import { accumulate, multiplySpectra, planTiles } from '../../shared/util/tiles.js';
import { convolveSeparableValid, convolveValid, dilateBits } from '../../shared/util/convolve.js';
import { solveSymmetric } from '../../shared/util/linalg.js';
import { clippedStats, median, selectInPlace } from '../../shared/util/stats.js';
import { Plane } from '../../shared/image/plane.js';
import { gaussian, rng } from './render.js';

test('Fft2: inverse(forward(a)) = a, and a delta has a flat spectrum', () => {
  const fft = new Fft2(16);
  const r = rng(1);
  const a = fft.alloc().map(() => r());
  const b = Float64Array.from(a);
  fft.forward(b);
  fft.inverse(b);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) < 1e-12);
  const d = fft.alloc();
  d[0] = 1;
  fft.forward(d);
  for (let i = 0; i < d.length; i += 2)
    assert.ok(Math.abs(d[i] - 1) < 1e-12 && Math.abs(d[i + 1]) < 1e-12);
});

test('tiled FFT convolution equals direct convolution, with and without blending', () => {
  const g = gaussian(rng(2));
  const w = 150,
    h = 97,
    size = 7;
  const img = Plane.zeros(Float32Array, w, h);
  img.data.forEach((_v, i) => (img.data[i] = g()));
  const kernel = Float64Array.from({ length: size * size }, (_v, i) => Math.sin(i) + 0.3);
  const half = (size - 1) / 2;
  // Direct reference on a zero-padded copy.
  const padded = new Float64Array((w + 2 * half) * (h + 2 * half));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) padded[(y + half) * (w + 2 * half) + x + half] = img.get(x, y);
  const ref = convolveValid(
    { data: padded, width: w + 2 * half, height: h + 2 * half },
    kernel,
    size,
  );
  for (const blend of [0, 8]) {
    const plan = planTiles(w, h, { fftSize: 64, halo: half, blend });
    assert.ok(plan.tiles.length > 4);
    const fft = new RealFft2(64);
    const ks = realKernelSpectrum(fft, kernel, size);
    const out = Plane.zeros(Float32Array, w, h);
    const window = new Float64Array(64 * 64),
      spectrum = fft.allocSpectrum();
    for (const t of plan.tiles) {
      fft.forward(window, spectrum, ...loadTile(img, t, 64, window));
      multiplySpectra(spectrum, ks, spectrum);
      fft.inverse(spectrum, window, ...outputRows(t));
      accumulate(t, 64, window, out);
    }
    let worst = 0;
    for (let i = 0; i < w * h; i++) worst = Math.max(worst, Math.abs(out.data[i] - ref.data[i]));
    assert.ok(worst < 1e-4, `blend ${blend}: max error ${worst}`);
  }
});

test('blend weights of all tiles sum to one everywhere', () => {
  const plan = planTiles(300, 200, { fftSize: 64, halo: 4, blend: 10 });
  const sum = Plane.zeros(Float32Array, 300, 200);
  const ones = new Float64Array(64 * 64).fill(1);
  for (const t of plan.tiles) accumulate(t, 64, ones, sum);
  for (const v of sum.data) assert.ok(Math.abs(v - 1) < 1e-6);
});

test('separable valid convolution equals the dense one', () => {
  const r = rng(3);
  const src = { data: Float64Array.from({ length: 20 * 15 }, () => r()), width: 20, height: 15 };
  const kx = Float64Array.from([1, -2, 0.5, 3, 0.1]);
  const ky = Float64Array.from([0.2, 1, -1]);
  const dense = new Float64Array(5 * 3);
  for (let v = 0; v < 3; v++) for (let u = 0; u < 5; u++) dense[v * 5 + u] = kx[u] * ky[v];
  // convolveValid takes square kernels: embed the 5x3 one in 5x5.
  const sq = new Float64Array(25);
  for (let v = 0; v < 3; v++) for (let u = 0; u < 5; u++) sq[(v + 1) * 5 + u] = dense[v * 5 + u];
  const a = convolveSeparableValid(src, kx, ky);
  const b = convolveValid(src, sq, 5);
  assert.equal(a.width, 16);
  for (let y = 0; y < b.height; y++)
    for (let x = 0; x < b.width; x++)
      assert.ok(Math.abs(a.data[(y + 1) * a.width + x] - b.data[y * b.width + x]) < 1e-12);
});

test('dilateBits spreads only the chosen bits over a square', () => {
  const m = new Int32Array(9 * 9);
  m[4 * 9 + 4] = 0b101;
  dilateBits(m, 9, 9, 0b001, 2);
  assert.equal(m[2 * 9 + 2], 0b001);
  assert.equal(m[1 * 9 + 4], 0);
  assert.equal(m[4 * 9 + 4], 0b101);
});

test('dilateBits equals the OR over the square about each pixel, for runs of equal and mixed bits', () => {
  const [w, h] = [37, 23];
  const r = rng(5);
  const m = Int32Array.from({ length: w * h }, () => (r() < 0.7 ? 0 : 1 << Math.floor(r() * 3)));
  for (let x = 3; x < 30; x++) m[10 * w + x] |= 0b010; // a run along x, and along y below
  for (let y = 0; y < h; y++) m[y * w + 20] |= 0b001;
  // Its horizontal pass keeps radius + 2 rows: fewer than the image's, and (30) more.
  for (const radius of [1, 3, 30]) {
    const want = new Int32Array(w * h);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        want[y * w + x] = m[y * w + x];
        for (let v = Math.max(0, y - radius); v <= Math.min(h - 1, y + radius); v++)
          for (let u = Math.max(0, x - radius); u <= Math.min(w - 1, x + radius); u++)
            want[y * w + x] |= m[v * w + u] & 0b011;
      }
    const got = m.slice();
    dilateBits(got, w, h, 0b011, radius);
    assert.deepEqual(got, want, `radius ${radius}`);
  }
});

test('solveSymmetric solves a least-squares problem and tolerates a null direction', () => {
  const x = solveSymmetric(new Float64Array([4, 2, 2, 3]), new Float64Array([2, 1]));
  assert.ok(Math.abs(4 * x[0] + 2 * x[1] - 2) < 1e-9 && Math.abs(2 * x[0] + 3 * x[1] - 1) < 1e-9);
  const y = solveSymmetric(new Float64Array([1, 0, 0, 0]), new Float64Array([3, 0]));
  assert.ok(Math.abs(y[0] - 3) < 1e-9 && y[1] === 0);
});

test('clipped statistics ignore outliers', () => {
  const g = gaussian(rng(4));
  const v = Array.from({ length: 20000 }, () => g());
  for (let i = 0; i < 200; i++) v[i] = 1000;
  const s = clippedStats(v, 5);
  assert.ok(Math.abs(s.std - 1) < 0.03 && Math.abs(s.mean) < 0.03);
  assert.equal(median([3, 1, 2]), 2);
});

test('selectInPlace finds order statistics; median of even and odd counts', () => {
  const r = rng(9);
  const v = Float64Array.from({ length: 1001 }, () => r());
  const sorted = Float64Array.from(v).sort();
  for (const k of [0, 17, 500, 1000])
    assert.equal(selectInPlace(Float64Array.from(v), k), sorted[k]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([5, 5, 5, 1]), 5);
});
