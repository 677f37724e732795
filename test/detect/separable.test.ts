import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  correlateSeparable,
  correlateSeparableRows,
  kernelOf,
  separableTerms,
  symmetrizeTerms,
} from '../../shared/detect/separable.js';
import { mulberry32 } from '../../shared/util/random.js';

/** Direct 2-D correlation with zero padding, the definition the separable passes must match. */
function bruteForce(
  input: Float32Array,
  w: number,
  h: number,
  k: Float64Array,
  n: number,
): Float64Array {
  const r = (n - 1) / 2;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const xx = x + i - r;
          const yy = y + j - r;
          if (xx >= 0 && yy >= 0 && xx < w && yy < h) acc += k[j * n + i] * input[yy * w + xx];
        }
      }
      out[y * w + x] = acc;
    }
  }
  return out;
}

test('separable correlation equals the direct 2-D sum, edges included, for symmetric and lopsided kernels', () => {
  const random = mulberry32(91);
  const [w, h, n] = [37, 23, 7];
  const input = Float32Array.from({ length: w * h }, () => random() - 0.5);
  // A rank-2 lopsided kernel and a round Gaussian (whose factors are mirror-symmetric).
  const gauss = (d: number, s2: number) => Math.exp(-(d * d) / s2);
  const lopsided = Float64Array.from(
    { length: n * n },
    (_, k) =>
      gauss((k % n) - 2.6, 3) * gauss(Math.floor(k / n) - 3.3, 5) +
      (k % n === Math.floor(k / n) ? 0.3 : 0),
  );
  const round = Float64Array.from(
    { length: n * n },
    (_, k) => gauss((k % n) - 3, 4) * gauss(Math.floor(k / n) - 3, 4),
  );
  for (const kernel of [lopsided, round]) {
    const terms = separableTerms(kernel, n, 1e-12, n);
    assert.ok(
      Math.max(...kernelOf(terms, n).map((v, i) => Math.abs(v - kernel[i]))) < 1e-9,
      'terms rebuild the kernel',
    );
    const fast = correlateSeparable(input, w, h, kernel === round ? symmetrizeTerms(terms) : terms);
    const slow = bruteForce(input, w, h, kernel, n);
    for (let i = 0; i < w * h; i++)
      assert.ok(Math.abs(fast[i] - slow[i]) < 1e-5, `pixel ${i}: ${fast[i]} vs ${slow[i]}`);
  }
  assert.equal(separableTerms(round, n, 1e-6).length, 1, 'a round Gaussian is rank 1');
});

test('row bands of the correlation, halos included, assemble the whole-image result bit for bit', () => {
  const random = mulberry32(92);
  const [w, h, n] = [19, 29, 9];
  const input = Float32Array.from({ length: w * h }, () => random() - 0.5);
  const kernel = Float64Array.from({ length: n * n }, () => random());
  const terms = separableTerms(kernel, n, 1e-12, 3);
  const whole = correlateSeparable(input, w, h, terms);
  // Bands thinner than the kernel's radius, at both image edges and inside.
  const bands = new Float32Array(w * h);
  for (const [y0, y1] of [
    [0, 3],
    [3, 14],
    [14, 26],
    [26, 29],
  ])
    correlateSeparableRows(input, w, h, terms, bands, y0, y1);
  assert.deepEqual(bands, whole);
});
