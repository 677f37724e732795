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

test('sigma clipping starts from the exact median and MAD of the drawn values, however they are found', () => {
  // Odd and even counts, ties, heavy tails, an offset larger than the spread, and a stride (n > 4096).
  const cases: Float64Array[] = [];
  for (const [n, seed] of [
    [300, 1],
    [1295, 2],
    [1296, 3],
    [2049, 4],
    [9000, 5],
  ]) {
    const g = normals(n, seed);
    cases.push(g);
    cases.push(g.map((v) => Math.round(3 * v)));
    cases.push(g.map((v, i) => (i % 7 === 0 ? 40 * v : v)));
    cases.push(g.map((v) => 1e5 + 1e-3 * v));
  }
  for (const values of cases) {
    const n = values.length;
    const stride = Math.max(1, Math.floor(n / 2048));
    const drawn = values.filter((_v, i) => i % stride === 0);
    const med = median(drawn);
    const mad = 1.4826 * median(drawn.map((v) => Math.abs(v - med)));
    // No clipping iterations: the start itself.
    const start = sigmaClip(values, n, 3, 0);
    // === : a zero median's sign depends on the order quickselect leaves ties in.
    assert.ok(start.median === med, `median of ${n}`);
    assert.ok(start.std === mad || !(mad > 0), `MAD of ${n}`);
  }
});
