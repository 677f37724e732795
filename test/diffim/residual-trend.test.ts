import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addTrendRow,
  fitCellTrend,
  trendAt,
  usableCentroids,
} from '../../shared/diffim/residual-trend.js';

test('fitCellTrend: a quadratic through 8 x 8 cells is recovered with one outlying cell and one empty cell left out', () => {
  const [nx, ny, w, h] = [8, 8, 256, 256];
  const xs = Float64Array.from({ length: nx }, (_, i) => (i + 0.5) * 32 - 0.5);
  const ys = xs.slice();
  const truth = (x: number, y: number): number => 3 + 0.01 * x - 0.02 * y + 1e-4 * (x - 100) ** 2;
  const sky = new Float64Array(nx * ny);
  for (let cy = 0; cy < ny; cy++)
    for (let cx = 0; cx < nx; cx++) sky[cy * nx + cx] = truth(xs[cx], ys[cy]);
  sky[3 * nx + 4] += 50;
  sky[5] = Number.NaN;
  const trend = fitCellTrend(sky, nx, ny, xs, ys, w, h, 2);
  assert.ok(trend);
  const row = new Float32Array(w);
  addTrendRow(trend, 200, row);
  for (const x of [0, 77, 255]) {
    assert.ok(Math.abs(trendAt(trend, x, 200) - truth(x, 200)) < 1e-6);
    assert.ok(Math.abs(row[x] - truth(x, 200)) < 1e-4);
  }
});

test('fitCellTrend: too few cells for the order give no trend', () => {
  const sky = Float64Array.of(1, 2, Number.NaN, 4);
  const nodes = Float64Array.of(8, 24);
  assert.equal(fitCellTrend(sky, 2, 2, nodes, nodes, 32, 32, 1), null);
});

test('usableCentroids: a cell whose first 17 px are masked has its node at the mean of the rest', () => {
  const counts = new Float64Array(64).fill(1).fill(0, 0, 17);
  const nodes = usableCentroids(counts, 2, 64);
  assert.equal(nodes[0], (17 + 31) / 2);
  assert.equal(nodes[1], (32 + 63) / 2);
});
