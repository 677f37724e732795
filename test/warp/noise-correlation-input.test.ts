// Warping a template whose noise is already correlated (shared/warp/noise-correlation.ts): the covariance of
// resampled correlated noise is the Lanczos taps' autocorrelation convolved with the input's lags, and the
// warped exposure's model says so instead of dropping the input's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exposure } from '../../shared/image/exposure.js';
import { cdMatrix, makeTanWcs } from '../../shared/wcs/index.js';
import { LanczosTable, warpExposure } from '../../shared/warp/index.js';
import { convolveLags } from '../../shared/warp/noise-correlation.js';
import { estimateNoiseCorrelation } from '../../shared/characterize/noise-correlation-estimate.js';

const SIZE = 768,
  SIGMA = 3;
const templateWcs = makeTanWcs({ crpix: [384, 384], crval: [150, 2], cd: cdMatrix(0.2, 0) });
/** Binomial (1 2 1) / 4 smoothing along x: lags 0.375, 0.25, 0.0625 of the white variance. */
const SMOOTHED_LAGS = [1, 0.25 / 0.375, 0.0625 / 0.375];

/** White noise smoothed along x by (1 2 1) / 4, its variance plane the per-pixel variance and its model the smoothing's lags. */
function smoothedNoise(seed: number): Exposure {
  const e = Exposure.blank(SIZE, SIZE);
  e.wcs = templateWcs;
  let s = seed;
  const uniform = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const white = Float64Array.from(
    { length: SIZE * (SIZE + 2) },
    () => SIGMA * Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform()),
  );
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const i = y * (SIZE + 2) + x;
      e.image.data[y * SIZE + x] = 0.25 * white[i] + 0.5 * white[i + 1] + 0.25 * white[i + 2];
    }
  }
  e.variance.fill(SIGMA * SIGMA * 0.375);
  e.noiseCorrelation = {
    x0: 0,
    y0: 0,
    cellSize: SIZE,
    nx: 1,
    ny: 1,
    cells: [{ x: SMOOTHED_LAGS, y: [1] }],
  };
  return e;
}

test('convolveLags: white input leaves the taps lags; lags convolve as sequences symmetric about 0', () => {
  assert.deepEqual(convolveLags([1, 0.2, -0.1], [1]), [1, 0.2, -0.1]);
  // (0.5, 1, 0.5) * (0.5, 1, 0.5) = (0.25, 1, 1.5, 1, 0.25).
  assert.deepEqual(convolveLags([1, 0.5], [1, 0.5]), [1.5, 1, 0.25]);
});

test('half-pixel warp of correlated noise: the model is the taps lags convolved with the input lags, as measured', async () => {
  const science = makeTanWcs({ crpix: [384.5, 384], crval: [150, 2], cd: cdMatrix(0.2, 0) });
  const { exposure } = await warpExposure(
    smoothedNoise(3),
    { width: SIZE, height: SIZE, wcs: science },
    { threads: 1 },
  );
  const w = new Float64Array(6);
  new LanczosTable('lanczos3').weights(0.5, w);
  const taps = Array.from(
    { length: 6 },
    (_, d) =>
      w.reduce((s, v, k) => s + (k + d < 6 ? v * w[k + d] : 0), 0) /
      w.reduce((s, v) => s + v * v, 0),
  );
  const want = convolveLags(taps, SMOOTHED_LAGS);
  const model = exposure.noiseCorrelation!.cells[0];
  // The model samples phases at bin centres (1/128 from 0.5 here).
  for (let d = 0; d < want.length; d++)
    assert.ok(Math.abs(model.x[d] - want[d]) < 3e-3, `x lag ${d}: ${model.x[d]} vs ${want[d]}`);
  // The measured covariance of IMAGE / sqrt(VARIANCE) is the model's x[d] y[0].
  const measured = estimateNoiseCorrelation(exposure, new Uint8Array(SIZE * SIZE), 3);
  for (let d = 0; d <= 4; d++) {
    const err = measured.covX[0] * measured.errX[Math.max(1, d)];
    assert.ok(
      Math.abs(measured.covX[d] - model.x[d] * model.y[0]) < 4 * err,
      `measured x lag ${d}: ${measured.covX[d]} vs ${model.x[d] * model.y[0]} +- ${err}`,
    );
  }
});
