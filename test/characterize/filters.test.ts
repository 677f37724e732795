import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  convolveSeparable,
  convolveSeparableRows,
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

/** convolveSeparableRows' definition, pixel by pixel: the row sum in double precision stored as Float32, then the column sum rounded to Float32 after each tap (pair). */
function referenceConvolve(
  src: Float32Array,
  w: number,
  h: number,
  taps: Float32Array,
): Float32Array {
  const half = (taps.length - 1) >> 1;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = taps[half] * src[y * w + x];
      // Within half the kernel of an edge, each side's product is added on its own.
      const interior = x >= half && x < w - half;
      for (let k = 1; k <= half; k++) {
        if (interior) s += taps[half + k] * (src[y * w + x - k] + src[y * w + x + k]);
        else {
          if (x - k >= 0) s += taps[half - k] * src[y * w + x - k];
          if (x + k < w) s += taps[half + k] * src[y * w + x + k];
        }
      }
      tmp[y * w + x] = s;
    }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = Math.fround(taps[half] * tmp[y * w + x]);
      for (let k = 1; k <= half; k++) {
        const below = y - k >= 0 ? tmp[(y - k) * w + x] : null;
        const above = y + k < h ? tmp[(y + k) * w + x] : null;
        if (below !== null && above !== null) s = Math.fround(s + taps[half + k] * (below + above));
        else if (below !== null) s = Math.fround(s + taps[half + k] * below);
        else if (above !== null) s = Math.fround(s + taps[half + k] * above);
      }
      out[y * w + x] = s;
    }
  return out;
}

test('convolveSeparableRows gives the reference bits, whole, by bands and in place, for odd and even half-widths', () => {
  let s = 11;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const sizes = [
    [1, 1],
    [3, 2],
    [20, 3],
    [5, 40],
    [67, 45],
  ];
  for (const sigma of [0.3, 0.6, 1, 1.2, 2]) {
    const taps = gaussianTaps(sigma);
    const half = (taps.length - 1) >> 1;
    for (const [w, h] of sizes) {
      const src = Float32Array.from({ length: w * h }, () => 100 * (u() - 0.5));
      const want = Buffer.from(referenceConvolve(src, w, h, taps).buffer);
      const inPlace = src.slice();
      convolveSeparableRows(inPlace, 0, w, h, taps, inPlace, 0, h);
      assert.deepEqual(Buffer.from(inPlace.buffer), want, `in place, sigma ${sigma}, ${w} x ${h}`);
      const banded = new Float32Array(w * h);
      for (let y0 = 0; y0 < h; y0 += 7) {
        const y1 = Math.min(h, y0 + 7);
        const s0 = Math.max(0, y0 - half);
        const part = src.slice(s0 * w, Math.min(h, y1 + half) * w);
        convolveSeparableRows(part, s0, w, h, taps, banded, y0, y1);
      }
      assert.deepEqual(Buffer.from(banded.buffer), want, `bands, sigma ${sigma}, ${w} x ${h}`);
    }
  }
});
