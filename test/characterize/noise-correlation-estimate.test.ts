// The blank-sky noise correlation estimate (shared/characterize/noise-correlation-estimate.ts) against
// what a known resampling predicts: noise passed through taps w has lags sum_k w_k w_{k+d} over sum_k w_k^2
// (here Lanczos-3 at fixed phases, and a binomial smoothing); white noise with stars gets no model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Exposure } from '../../shared/image/exposure.js';
import {
  characterizeNoiseCorrelation,
  estimateNoiseCorrelation,
} from '../../shared/characterize/noise-correlation-estimate.js';
import { LanczosTable } from '../../shared/warp/index.js';
import { MoffatPsf } from '../../shared/detect/analytic-psf.js';

const SIZE = 512,
  FWHM = 3.5,
  MARGIN = 8;

function gaussian(seed: number): () => number {
  let s = seed;
  const uniform = () => ((s = (s * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Unit white noise plus `count` Gaussian stars of `min` .. `max` (log-uniform) on a (SIZE + 2 MARGIN)^2 grid. */
function noiseAndStars(
  seed: number,
  count = 300,
  min = 10,
  max = 30000,
  fwhm = FWHM,
): Float64Array {
  const n = SIZE + 2 * MARGIN,
    out = new Float64Array(n * n),
    g = gaussian(seed);
  for (let i = 0; i < out.length; i++) out[i] = g();
  const s = fwhm / 2.3548;
  let u = seed * 7 + 1;
  const uniform = () => ((u = (u * 1103515245 + 12345) >>> 0) + 0.5) / 2 ** 32;
  for (let k = 0; k < count; k++) {
    const cx = uniform() * n,
      cy = uniform() * n,
      flux = min * (max / min) ** uniform();
    for (let y = Math.max(0, Math.floor(cy - 5 * s)); y < Math.min(n, cy + 5 * s); y++) {
      for (let x = Math.max(0, Math.floor(cx - 5 * s)); x < Math.min(n, cx + 5 * s); x++) {
        out[y * n + x] +=
          (flux / (2 * Math.PI * s * s)) * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * s * s));
      }
    }
  }
  return out;
}

/** The SIZE^2 exposure of `src` passed through taps wx along x and wy along y, its variance plane the per-pixel variance. */
function filtered(src: Float64Array, wx: readonly number[], wy: readonly number[]): Exposure {
  const n = SIZE + 2 * MARGIN,
    e = Exposure.blank(SIZE, SIZE);
  const rows = new Float64Array(n * SIZE);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < SIZE; x++)
      rows[y * SIZE + x] = wx.reduce(
        (s, w, k) => s + w * src[y * n + x + MARGIN + k - (wx.length >> 1)],
        0,
      );
  for (let y = 0; y < SIZE; y++)
    for (let x = 0; x < SIZE; x++)
      e.image.data[y * SIZE + x] = wy.reduce(
        (s, w, k) => s + w * rows[(y + MARGIN + k - (wy.length >> 1)) * SIZE + x],
        0,
      );
  const sq = (w: readonly number[]) => w.reduce((s, v) => s + v * v, 0);
  e.variance.fill(sq(wx) * sq(wy));
  return e;
}

/** sum_k w_k w_{k+d} / sum_k w_k^2, d = 0 .. 4. */
const predictedLags = (w: readonly number[]) =>
  [0, 1, 2, 3, 4].map(
    (d) => w.reduce((s, v, k) => s + v * (w[k + d] ?? 0), 0) / w.reduce((s, v) => s + v * v, 0),
  );

const lanczosTaps = (phase: number) => {
  const w = new Float64Array(6);
  new LanczosTable('lanczos3').weights(phase, w);
  return Array.from(w);
};

for (const [name, wx, wy] of [
  ['Lanczos-3 shifts by 0.5 px in x and 0.3 px in y', lanczosTaps(0.5), lanczosTaps(0.3)],
  ['binomial (1 2 1) / 4 smoothing along y', [1], [0.25, 0.5, 0.25]],
] as const) {
  test(`${name}: the estimate matches the predicted lags within its errors and sets the model`, () => {
    const e = filtered(noiseAndStars(3), wx, wy);
    const est = characterizeNoiseCorrelation(e, FWHM);
    assert.ok(est.blankFraction > 0.4, `blank fraction ${est.blankFraction}`);
    assert.ok(Math.abs(est.covX[0] - 1) < 0.03, `lag-0 covariance ${est.covX[0]}`);
    for (const [axis, cov, err, w] of [
      ['x', est.covX, est.errX, wx],
      ['y', est.covY, est.errY, wy],
    ] as const) {
      const want = predictedLags(w);
      for (let d = 1; d <= 4; d++) {
        const rho = cov[d] / cov[0];
        assert.ok(
          Math.abs(rho - want[d]) < 4 * err[d],
          `${axis} lag ${d}: ${rho.toFixed(4)} +- ${err[d].toFixed(4)}, predicted ${want[d].toFixed(4)}`,
        );
      }
    }
    const cell = e.noiseCorrelation?.cells[0];
    assert.ok(cell, 'model set');
    const want = predictedLags(wx);
    assert.ok(Math.abs(cell.x[1] / cell.x[0] - want[1]) < 4 * est.errX[1]);
  });
}

test('white noise with stars: no significant correlation, no model', () => {
  for (const seed of [3, 5, 8]) {
    const e = filtered(noiseAndStars(seed), [1], [1]);
    const est = characterizeNoiseCorrelation(e, FWHM);
    assert.ok(
      est.significance < 5,
      `seed ${seed}: lag-1 significance ${est.significance.toFixed(2)}`,
    );
    assert.equal(e.noiseCorrelation, null);
    // Without the source mask the stars' light alone would pass for correlated noise.
    assert.ok(estimateNoiseCorrelation(e, new Uint8Array(SIZE * SIZE), FWHM).significance > 5);
  }
});

test('white noise alone on a large image: the source mask does not bias the lags into a model', () => {
  const n = 2048,
    e = Exposure.blank(n, n),
    g = gaussian(9);
  for (let i = 0; i < n * n; i++) e.image.data[i] = g();
  e.variance.fill(1);
  const est = characterizeNoiseCorrelation(e, FWHM);
  for (const [cov, err] of [
    [est.covX, est.errX],
    [est.covY, est.errY],
  ]) {
    for (let d = 1; d <= 4; d++)
      assert.ok(
        Math.abs(cov[d] / cov[0]) < 4 * err[d],
        `lag ${d}: ${cov[d] / cov[0]} +- ${err[d]}`,
      );
  }
  assert.equal(e.noiseCorrelation, null);
});

test('white noise with many stars too faint to mask: the light correlates blank sky significantly, but as wide as the PSF: no model', () => {
  // 4000 stars of 12 units: each ~2.3 sigma in the PSF-smoothed image, below the 3-sigma source mask.
  const e = filtered(noiseAndStars(4, 4000, 12, 12), [1], [1]);
  const est = characterizeNoiseCorrelation(e, FWHM);
  assert.ok(est.significance > 5, `lag-1 significance ${est.significance.toFixed(2)}`);
  assert.ok(
    [1, 2, 3, 4].every((d) => est.covX[d] > 0 && est.covY[d] > 0),
    `lags x ${est.covX} y ${est.covY}`,
  );
  assert.equal(est.resampled, false);
  assert.equal(e.noiseCorrelation, null);
});

test('correlated noise (1 b 1 taps) under faint light below the source mask (FWHM 7 px): the model keeps the taps, not the light', () => {
  // The light's lags (the PSF's autocorrelation, 0.2 of lag 0 at lag 4 here) would raise the model's spectrum
  // at low frequency: fitted at lags 6-8, where 3 x 3 taps leave none, and taken out.
  const b = 0.3,
    taps = [b, 1, b],
    fwhm = 7;
  const e = filtered(noiseAndStars(7, 3000, 40, 40, fwhm), taps, taps);
  const est = characterizeNoiseCorrelation(e, fwhm);
  const cell = e.noiseCorrelation?.cells[0];
  assert.ok(cell, 'model set');
  assert.ok(est.covX[4] / est.covX[0] > 0.05, `light's lag 4: ${est.covX[4] / est.covX[0]}`);
  const want = predictedLags(taps);
  for (const [axis, lags] of [
    ['x', cell.x],
    ['y', cell.y],
  ] as const)
    for (let d = 1; d <= 4; d++)
      assert.ok(
        Math.abs(lags[d] / lags[0] - want[d]) < 0.03,
        `${axis} lag ${d}: ${(lags[d] / lags[0]).toFixed(4)}, predicted ${want[d].toFixed(4)}`,
      );
});

test('correlated noise (1 b 1 taps) under Moffat-winged faint light (beta 2, the PSF set on the exposure): the model keeps the taps', () => {
  // The wings' lags fall far slower than a Gaussian's of the same FWHM: fitted as one (lags 6-9), they were
  // over-subtracted and the model's lags 2-4 came out at -0.08 to -0.21 (a spectrum the decorrelation floors).
  const b = 0.3,
    taps = [b, 1, b],
    fwhm = 4,
    psf = new MoffatPsf(fwhm, 2, 49);
  const e = filtered(noiseAndStars(11, 0), taps, taps);
  let u = 5;
  const uniform = () => ((u = (u * 1103515245 + 12345) >>> 0) + 0.5) / 2 ** 32;
  for (let k = 0; k < 3000; k++) {
    const cx = uniform() * SIZE,
      cy = uniform() * SIZE,
      stamp = psf.stampAt(cx, cy),
      r = stamp.size >> 1;
    for (let j = 0; j < stamp.size; j++)
      for (let i = 0; i < stamp.size; i++) {
        const x = Math.round(cx) - r + i,
          y = Math.round(cy) - r + j;
        if (x >= 0 && y >= 0 && x < SIZE && y < SIZE)
          e.image.data[y * SIZE + x] += 30 * stamp.data[j * stamp.size + i];
      }
  }
  e.psf = psf;
  const est = characterizeNoiseCorrelation(e, fwhm);
  assert.ok(est.covX[4] / est.covX[0] > 0.02, `light's lag 4: ${est.covX[4] / est.covX[0]}`);
  const cell = e.noiseCorrelation?.cells[0];
  assert.ok(cell, 'model set');
  const want = predictedLags(taps);
  for (const [axis, lags] of [
    ['x', cell.x],
    ['y', cell.y],
  ] as const)
    for (let d = 1; d <= 4; d++)
      assert.ok(
        Math.abs(lags[d] / lags[0] - want[d]) < 0.03,
        `${axis} lag ${d}: ${(lags[d] / lags[0]).toFixed(4)}, predicted ${want[d].toFixed(4)}`,
      );
});
