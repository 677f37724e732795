import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NORMAL_POISSON_MEAN, Rng, rngStream } from '../../shared/sim/random.js';

function moments(draw: () => number, n: number): { mean: number; variance: number; skew: number } {
  const xs = Float64Array.from({ length: n }, draw);
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  let m2 = 0;
  let m3 = 0;
  for (const x of xs) {
    m2 += (x - mean) ** 2;
    m3 += (x - mean) ** 3;
  }
  const variance = m2 / (n - 1);
  return { mean, variance, skew: m3 / n / variance ** 1.5 };
}

test('streams are deterministic and independent', () => {
  const a = rngStream(7, 'stars');
  const b = rngStream(7, 'stars');
  const c = rngStream(7, 'galaxies');
  const d = rngStream(8, 'stars');
  const seqA = Array.from({ length: 5 }, () => a.next32());
  assert.deepEqual(
    Array.from({ length: 5 }, () => b.next32()),
    seqA,
  );
  assert.notDeepEqual(
    Array.from({ length: 5 }, () => c.next32()),
    seqA,
  );
  assert.notDeepEqual(
    Array.from({ length: 5 }, () => d.next32()),
    seqA,
  );
});

test('uniform and normal deviates have the right moments', () => {
  const rng = new Rng(1, 'moments');
  const u = moments(() => rng.uniform(), 200000);
  assert.ok(Math.abs(u.mean - 0.5) < 0.003);
  assert.ok(Math.abs(u.variance - 1 / 12) < 0.001);
  const z = moments(() => rng.normal(), 200000);
  assert.ok(Math.abs(z.mean) < 0.01);
  assert.ok(Math.abs(z.variance - 1) < 0.01);
  assert.ok(Math.abs(z.skew) < 0.02);
});

test('Poisson deviates match mean = variance and skewness 1/sqrt(mean) in every regime (Knuth, PTRS, normal)', () => {
  const rng = new Rng(2, 'poisson');
  for (const mean of [0.3, 4, 15, 80, 600, 5000]) {
    const n = 100000;
    const m = moments(() => rng.poisson(mean), n);
    const tolMean = 5 * Math.sqrt(mean / n);
    assert.ok(Math.abs(m.mean - mean) < tolMean, `mean ${mean}: got ${m.mean}`);
    assert.ok(Math.abs(m.variance / mean - 1) < 0.03, `mean ${mean}: variance ${m.variance}`);
    if (mean < NORMAL_POISSON_MEAN) {
      assert.ok(Math.abs(m.skew - 1 / Math.sqrt(mean)) < 0.05, `mean ${mean}: skew ${m.skew}`);
    }
  }
});

test('PTRS reproduces the Poisson probabilities (chi-square at mean 25)', () => {
  const rng = new Rng(3, 'chi2');
  const mean = 25;
  const n = 200000;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const k = rng.poisson(mean);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let chi2 = 0;
  let bins = 0;
  let logP = -mean;
  for (let k = 0; k <= 60; k++) {
    if (k > 0) logP += Math.log(mean / k);
    const expected = n * Math.exp(logP);
    if (expected < 20) continue;
    chi2 += ((counts.get(k) ?? 0) - expected) ** 2 / expected;
    bins++;
  }
  // chi-square with ~bins degrees of freedom: mean bins, sd sqrt(2 bins).
  assert.ok(chi2 < bins + 5 * Math.sqrt(2 * bins), `chi2 ${chi2.toFixed(1)} over ${bins} bins`);
});
