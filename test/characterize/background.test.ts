import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateBackground } from '../../shared/characterize/background.js';
import { splineOnGrid } from '../../shared/characterize/spline.js';
import { Plane } from '../../shared/image/plane.js';

test('the natural spline reproduces a line exactly, extrapolation included', () => {
  const nodes = Float64Array.of(10, 40, 70, 100);
  const values = nodes.map((t) => 3 + 0.5 * t);
  const out = new Float64Array(120);
  splineOnGrid(nodes, values, 120, out);
  for (let x = 0; x < 120; x++) assert.ok(Math.abs(out[x] - (3 + 0.5 * x)) < 1e-9);
});

test('mesh background of a noisy gradient with sources is within 0.2 sigma of the truth', () => {
  const w = 512;
  const h = 384;
  const sigma = 10;
  const image = Plane.zeros(Float32Array, w, h);
  const truth = new Float32Array(w * h);
  let s = 12345;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      truth[y * w + x] = 500 + 0.08 * x - 0.05 * y + 2e-4 * (x - 256) ** 2 * 0.1;
      image.data[y * w + x] =
        truth[y * w + x] + sigma * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    }
  }
  // Bright Gaussian sources on 10% of cells, unmasked: clipping must reject them.
  for (let k = 0; k < 40; k++) {
    const cx = 20 + u() * (w - 40);
    const cy = 20 + u() * (h - 40);
    for (let y = Math.floor(cy - 8); y <= cy + 8; y++) {
      for (let x = Math.floor(cx - 8); x <= cx + 8; x++)
        image.data[y * w + x] += 2000 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8);
    }
  }
  const bg = estimateBackground(image, null, { meshSize: 64 });
  assert.equal(bg.meshSize, 64);
  assert.ok(Math.abs(bg.sigma - sigma) < 0.5, `noise ${bg.sigma}`);
  let worst = 0;
  for (let i = 0; i < truth.length; i++)
    worst = Math.max(worst, Math.abs(bg.map.data[i] - truth[i]) / sigma);
  assert.ok(worst < 0.2, `worst error ${worst.toFixed(3)} sigma`);
});

test('excluded pixels are ignored and empty cells take their neighbours value', () => {
  const image = Plane.zeros(Float32Array, 256, 256).fill(7);
  const exclude = new Uint8Array(256 * 256);
  for (let y = 0; y < 64; y++)
    for (let x = 0; x < 64; x++) {
      image.data[y * 256 + x] = 1e6;
      exclude[y * 256 + x] = 1;
    }
  const bg = estimateBackground(image, exclude, { meshSize: 64 });
  assert.ok(bg.map.data.every((v) => Math.abs(v - 7) < 1e-4));
});
