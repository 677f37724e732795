import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseThreshold, figuresAtCut, rocCurve } from '../../shared/rb/metrics.js';

const snr = (n: number): Float32Array => new Float32Array(n).fill(10);

test('ROC area: 1 for perfect ranking, 0 for reversed, and the Mann-Whitney U statistic otherwise', () => {
  assert.equal(rocCurve([0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0], snr(4)).auc, 1);
  assert.equal(rocCurve([0.1, 0.2, 0.8, 0.9], [1, 1, 0, 0], snr(4)).auc, 0);
  let seed = 3;
  const rand = (): number => (seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const scores = Array.from({ length: 300 }, rand);
  const labels = scores.map((s) => (rand() < s ? 1 : 0));
  let pairs = 0;
  let wins = 0;
  for (let i = 0; i < scores.length; i++) {
    for (let j = 0; j < scores.length; j++) {
      if (labels[i] !== 1 || labels[j] !== 0) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  assert.ok(Math.abs(rocCurve(scores, labels, snr(300)).auc - wins / pairs) < 1e-12);
});

test('purity and completeness at a cut count only labelled sources at |S/N| >= minSnr', () => {
  const scores = [0.9, 0.7, 0.6, 0.3, 0.95, 0.2];
  const labels = [1, 1, 0, 1, 1, -1];
  const s = [8, -7, 9, 10, 3, 20];
  const f = figuresAtCut(scores, labels, s, 0.5, 6);
  assert.deepEqual(
    [f.real, f.bogus, f.truePositives, f.falsePositives, f.falseNegatives],
    [3, 1, 2, 1, 1],
  );
  assert.equal(f.purity, 2 / 3);
  assert.equal(f.completeness, 2 / 3);
  assert.equal(f.falsePositiveRate, 1);
});

test('the chosen cut separates separable classes', () => {
  const scores = [0.05, 0.1, 0.3, 0.62, 0.8, 0.9];
  const labels = [0, 0, 0, 1, 1, 1];
  const t = chooseThreshold(scores, labels, snr(6), 6);
  assert.ok(t > 0.3 && t <= 0.62, `cut ${t}`);
  const f = figuresAtCut(scores, labels, snr(6), t, 6);
  assert.equal(f.purity, 1);
  assert.equal(f.completeness, 1);
});
