import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lanczosTaps, shiftImage } from '../../shared/psf/lanczos.js';

const gaussian = (size: number, cx: number, cy: number, sigma: number): Float64Array => {
  const c = (size - 1) / 2;
  return Float64Array.from({ length: size * size }, (_, k) =>
    Math.exp(
      -(((k % size) - c - cx) ** 2 + (Math.floor(k / size) - c - cy) ** 2) / (2 * sigma * sigma),
    ),
  );
};

test('taps sum to 1 and a zero shift is the identity', () => {
  for (const s of [-0.5, -0.2, 0, 0.37, 0.5])
    assert.ok(Math.abs(lanczosTaps(s).reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const img = gaussian(21, 0, 0, 1.5);
  const same = shiftImage(img, 21, 0, 0);
  for (let k = 0; k < img.length; k++) assert.ok(Math.abs(same[k] - img[k]) < 1e-12);
});

test('a shifted well-sampled Gaussian matches the analytic one to 1% of its peak (Lanczos-3 error near half a pixel)', () => {
  for (const [dx, dy] of [
    [0.5, 0],
    [-0.3, 0.45],
    [0.21, -0.5],
  ]) {
    const moved = shiftImage(gaussian(25, 0, 0, 1.6), 25, dx, dy);
    const truth = gaussian(25, dx, dy, 1.6);
    let worst = 0;
    for (let k = 0; k < truth.length; k++) worst = Math.max(worst, Math.abs(moved[k] - truth[k]));
    assert.ok(worst < 1e-2, `shift (${dx}, ${dy}): error ${worst}`);
  }
});
