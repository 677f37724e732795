import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sigmaClip } from '../../shared/characterize/stats.js';
import { erf } from '../../shared/util/numeric.js';
import { median, selectInPlace } from '../../shared/util/stats.js';

/** Deterministic unit normal deviates (Box-Muller on a linear congruential generator). */
function normals(n: number, seed = 1): Float64Array {
  let s = seed;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  return Float64Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()),
  );
}

test('selectInPlace and median agree with a sort', () => {
  const values = normals(1001, 3);
  const sorted = Array.from(values).sort((a, b) => a - b);
  assert.equal(selectInPlace(values.slice(), 17), sorted[17]);
  assert.equal(median(values), sorted[500]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('erf matches tabulated values', () => {
  assert.ok(Math.abs(erf(1) - 0.8427007929) < 2e-7);
  assert.ok(Math.abs(erf(-0.5) + 0.5204998778) < 2e-7);
});

test('sigma clipping recovers a Gaussian under 5% bright outliers, std corrected for truncation', () => {
  const values = normals(40000, 7).map((v) => 100 + 10 * v);
  for (let i = 0; i < 2000; i++) values[i] += 200 + i; // contaminating sources
  const stats = sigmaClip(values, values.length, 3, 10);
  assert.ok(Math.abs(stats.median - 100) < 0.5, `median ${stats.median}`);
  assert.ok(Math.abs(stats.std - 10) < 0.3, `std ${stats.std}`);
  // SExtractor's mode 2.5 med - 1.5 mean lies on the far side of the median from the skewed mean.
  assert.ok(stats.mean >= stats.median === stats.sky <= stats.median);
});
