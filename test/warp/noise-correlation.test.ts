// The noise correlation warpExposure reports (Exposure.noiseCorrelation) against the theory of Lanczos
// resampling (shared/warp/noise-correlation.ts): warped white noise has the lags of the Lanczos taps at
// its phases, its power spectrum is plane x X(u) Y(v), and after rescaleVarianceToPsfScales the plane is
// the large-scale level (X(0) = Y(0) = 1) and plane x x[0] y[0] the per-pixel variance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exposure, type NoiseLags } from '../../shared/image/exposure.js';
import { Fft2 } from '../../shared/util/fft.js';
import { cdMatrix, makeTanWcs } from '../../shared/wcs/index.js';
import { LanczosTable, rescaleVarianceToPsfScales, warpExposure } from '../../shared/warp/index.js';

const SIZE = 768,
  SIGMA = 3;
const templateWcs = makeTanWcs({ crpix: [384, 384], crval: [150, 2], cd: cdMatrix(0.2, 0) });

function whiteNoise(seed: number): Exposure {
  const e = Exposure.blank(SIZE, SIZE);
  e.wcs = templateWcs;
  let s = seed;
  const uniform = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  for (let i = 0; i < e.image.data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())),
      phi = 2 * Math.PI * uniform();
    e.image.data[i] = SIGMA * r * Math.cos(phi);
    e.image.data[i + 1] = SIGMA * r * Math.sin(phi);
  }
  e.variance.fill(SIGMA * SIGMA);
  return e;
}

/** The model's lags of the cell holding pixel (x, y). */
function cellAt(e: Exposure, x: number, y: number): NoiseLags {
  const m = e.noiseCorrelation!;
  return m.cells[Math.floor((y - m.y0) / m.cellSize) * m.nx + Math.floor((x - m.x0) / m.cellSize)];
}

/** X(u) = x[0] + 2 sum_d x[d] cos(2 pi u d). */
const spectrum = (lags: readonly number[], u: number) =>
  lags.reduce((s, v, d) => s + (d ? 2 : 1) * v * Math.cos(2 * Math.PI * u * d), 0);

test('a constant sub-pixel shift: the lags are the Lanczos taps autocorrelation at that phase, x only', async () => {
  // Science pixel (x, y) is template pixel (x + 0.5, y): x phase 0.5 everywhere, y phase 0.
  const science = makeTanWcs({ crpix: [384.5, 384], crval: [150, 2], cd: cdMatrix(0.2, 0) });
  const { exposure } = await warpExposure(
    whiteNoise(1),
    { width: SIZE, height: SIZE, wcs: science },
    { threads: 1 },
  );
  const table = new LanczosTable('lanczos3'),
    w = new Float64Array(6);
  table.weights(0.5, w);
  const auto = Array.from({ length: 6 }, (_, d) =>
    w.reduce((s, v, k) => s + (k + d < 6 ? v * w[k + d] : 0), 0),
  );
  const lags = cellAt(exposure, 384, 384);
  // The model samples phases at bin centres (1/128 from 0.5 here): the lags agree to ~1e-3.
  for (let d = 0; d < 6; d++)
    assert.ok(
      Math.abs(lags.x[d] - auto[d] / auto[0]) < 2e-3,
      `x lag ${d}: ${lags.x[d]} vs ${auto[d] / auto[0]}`,
    );
  assert.ok(
    Math.abs(lags.y[0] - 1) < 1e-9 && lags.y.slice(1).every((v) => Math.abs(v) < 1e-3),
    `y lags ${lags.y}`,
  );
});

test('rotated and rescaled warp of white noise: power spectrum and per-pixel variance as the model predicts', async (t) => {
  // 0.3 deg rotation and a 1% scale change: the sub-pixel phases drift across every 128-px cell.
  const science = makeTanWcs({ crpix: [384.3, 383.8], crval: [150, 2], cd: cdMatrix(0.202, 0.3) });
  const warped = await warpExposure(
    whiteNoise(7),
    { width: SIZE, height: SIZE, wcs: science },
    { threads: 1 },
  );
  rescaleVarianceToPsfScales(warped);
  const e = warped.exposure;
  // One 256 x 256 region inside four cells; its lags are the cells' mean (covariances average over a region).
  const n = 256,
    x0 = 256,
    y0 = 256;
  const cells = [
    cellAt(e, x0, y0),
    cellAt(e, x0 + 128, y0),
    cellAt(e, x0, y0 + 128),
    cellAt(e, x0 + 128, y0 + 128),
  ];
  const mean = (axis: 'x' | 'y') =>
    cells[0][axis].map((_v, d) => cells.reduce((s, c) => s + c[axis][d], 0) / 4);
  const lx = mean('x'),
    ly = mean('y');
  let plane = 0,
    pixel = 0;
  const fft = new Fft2(n),
    a = fft.alloc();
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const v = e.image.get(x + x0, y + y0);
      plane += e.variance.get(x + x0, y + y0);
      pixel += v * v;
      a[2 * (y * n + x)] = v;
    }
  }
  plane /= n * n;
  pixel /= n * n;
  // After rescaling the plane is the large-scale level: X(0) = Y(0) = 1, and the per-pixel variance plane x x[0] y[0].
  assert.ok(Math.abs(spectrum(lx, 0) - 1) < 1e-9 && Math.abs(spectrum(ly, 0) - 1) < 1e-9);
  const predictedPixel = plane * lx[0] * ly[0];
  t.diagnostic(
    `per-pixel variance ${pixel.toFixed(3)} vs model ${predictedPixel.toFixed(3)} (plane ${plane.toFixed(3)}, covarianceFactor ${warped.covarianceFactor.toFixed(4)})`,
  );
  // 65k correlated pixels: ~0.7 % statistical error.
  assert.ok(Math.abs(pixel / predictedPixel - 1) < 0.025, 'per-pixel variance');
  // Power in 8 radial bins against plane x X(u) Y(v) averaged over the same modes.
  fft.forward(a);
  const bins = 8,
    measured = new Float64Array(bins),
    model = new Float64Array(bins),
    count = new Float64Array(bins);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const fu = Math.min(u, n - u) / n,
        fv = Math.min(v, n - v) / n,
        k = Math.hypot(fu, fv);
      if (k >= 0.5) continue;
      const b = Math.floor(k * 2 * bins);
      measured[b] += (a[2 * (v * n + u)] ** 2 + a[2 * (v * n + u) + 1] ** 2) / (n * n);
      model[b] += plane * spectrum(lx, fu) * spectrum(ly, fv);
      count[b]++;
    }
  }
  const ratio = Array.from(measured, (m, b) => m / model[b]);
  t.diagnostic(
    `measured / model power, low to high frequency: ${ratio.map((r) => r.toFixed(3)).join(' ')}`,
  );
  // The smallest bin holds ~800 modes (3.5 % error); the model falls to ~0.5 at the top (white noise would be 2x off there).
  assert.ok(
    ratio.every((r) => Math.abs(r - 1) < 0.1),
    'power spectrum',
  );
});
