import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convolveSeparable,
  dilateSquare,
  gaussianTaps,
} from '../../shared/characterize/filters.js';
import { detectPeaks } from '../../shared/characterize/detect-peaks.js';

test('separable Gaussian smoothing of a point gives the outer product of the taps', () => {
  const w = 31;
  const h = 27;
  const src = new Float32Array(w * h);
  src[13 * w + 15] = 1;
  const taps = gaussianTaps(1.5);
  const out = new Float32Array(w * h);
  convolveSeparable(src, w, h, taps, out);
  const half = (taps.length - 1) / 2;
  for (let dy = -half; dy <= half; dy++) {
    for (let dx = -half; dx <= half; dx++) {
      assert.ok(Math.abs(out[(13 + dy) * w + 15 + dx] - taps[dx + half] * taps[dy + half]) < 1e-7);
    }
  }
  assert.ok(Math.abs(out.reduce((a, b) => a + b, 0) - 1) < 1e-5);
});

test('square dilation reaches exactly radius px in Chebyshev distance', () => {
  const w = 20;
  const mask = new Uint8Array(w * w);
  mask[10 * w + 7] = 1;
  dilateSquare(mask, w, w, 3);
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++)
      assert.equal(mask[y * w + x], Math.max(Math.abs(x - 7), Math.abs(y - 10)) <= 3 ? 1 : 0);
});

test('binned matched-filter detection finds a faint star at its position, not pure noise', () => {
  const w = 128;
  const sigma = 10;
  const img = new Float32Array(w * w);
  let s = 7;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  for (let i = 0; i < img.length; i++)
    img[i] = sigma * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const noise = detectPeaks(img.slice(), w, w, sigma);
  assert.equal(noise.peaks.length, 0);
  // A Gaussian star of sigma 2 px with matched-filter SNR ~ 12: flux = SNR * sigma * sqrt(4 pi) * 2.
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++)
      img[y * w + x] +=
        (12 *
          sigma *
          Math.sqrt(4 * Math.PI) *
          2 *
          Math.exp(-((x - 60.3) ** 2 + (y - 70.6) ** 2) / 8)) /
        (2 * Math.PI * 4);
  const found = detectPeaks(img, w, w, sigma);
  assert.equal(found.peaks.length, 1);
  const p = found.peaks[0];
  assert.ok(Math.abs(p.x - 60.3) <= 1.5 && Math.abs(p.y - 70.6) <= 1.5, `peak at (${p.x}, ${p.y})`);
  assert.ok(p.significance > 8 && p.significance < 16, `significance ${p.significance}`);
  assert.equal(found.sourceMask[70 * w + 60], 1);
});
