import { test } from 'node:test';
import assert from 'node:assert/strict';
import { measureMesh, meshSurface } from '../../shared/characterize/background.js';
import { eitherSignSourceMask } from '../../shared/characterize/detect-peaks.js';
import {
  convolveSeparable,
  convolveSeparableRows,
  gaussianTaps,
} from '../../shared/characterize/filters.js';
import { eitherSignSourceMaskAsync } from '../../shared/characterize/source-mask-async.js';
import { Plane } from '../../shared/image/plane.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';

/** Noise-like pixels on a gradient with sources of both signs (deterministic). */
function scene(w: number, h: number): Plane<Float32Array> {
  const image = Plane.zeros(Float32Array, w, h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let v = 100 + x / 50 + 3 * Math.sin(i * 12.9898) * Math.cos(i * 78.233);
      for (const [sx, sy, a] of [
        [20, 30, 60],
        [w - 15, h - 40, -50],
        [w >> 1, 260, 80],
        [40, h - 3, 70],
      ])
        v += a * Math.exp(-((x - sx) ** 2 + (y - sy) ** 2) / 8);
      image.data[i] = v;
    }
  return image;
}

test('convolveSeparableRows: a band from the rows it reaches gives the rows of the whole pass', () => {
  const w = 37;
  const h = 29;
  const src = Float32Array.from({ length: w * h }, (_v, i) => Math.sin(i * 1.7) * 10 + (i % 5));
  const taps = gaussianTaps(1.3);
  const half = (taps.length - 1) >> 1;
  const whole = new Float32Array(w * h);
  convolveSeparable(src, w, h, taps, whole);
  for (const [y0, y1] of [
    [0, 3],
    [2, 11],
    [11, 29],
    [28, 29],
  ]) {
    const r0 = Math.max(0, y0 - half);
    const r1 = Math.min(h, y1 + half);
    const out = new Float32Array(w * h).fill(Number.NaN);
    convolveSeparableRows(src.slice(r0 * w, r1 * w), r0, w, h, taps, out, y0, y1);
    assert.deepEqual(out.subarray(y0 * w, y1 * w), whole.subarray(y0 * w, y1 * w));
  }
});

test('eitherSignSourceMaskAsync: the mask of the rows smoothed in claimed bands on two threads is the one-thread mask', async () => {
  // 600 rows: 300 binned rows, three bands of 128 (the last partial), an odd width.
  const w = 203;
  const h = 600;
  const image = scene(w, h);
  const exclude = new Uint8Array(w * h);
  for (let i = 0; i < w * h; i += 97) exclude[i] = 1;
  const mesh = measureMesh(image, exclude, { meshSize: 32 });
  const surface = meshSurface(mesh, w, h);
  const row = new Float32Array(w);
  const rowOf = (y: number): Float32Array => {
    surface(y, row, 0);
    for (let x = 0; x < w; x++) row[x] = exclude[y * w + x] ? 0 : image.data[y * w + x] - row[x];
    return row;
  };
  const expected = eitherSignSourceMask(rowOf, w, h, 3);
  // Sources of both signs are found, near the edges too.
  for (const [x, y] of [
    [20, 30],
    [w - 15, h - 40],
    [40, h - 3],
  ])
    assert.equal(expected[y * w + x], 1);
  const pool = new WorkerPool(1);
  try {
    for (const p of [null, pool]) {
      const got = await eitherSignSourceMaskAsync(image, exclude, mesh, 3, {}, p);
      assert.deepEqual(got, expected);
    }
  } finally {
    await pool.close();
  }
});
