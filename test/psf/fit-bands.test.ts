/**
 * fitPixelPsf with a helper thread (fit-bands.ts: stars recentred and refitted in bands of stars,
 * the basis solved in bands of model rows on both threads) fits the model one thread fits, to the bit.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fitPixelPsf, type PsfFitImage } from '../../shared/psf/fit-psf.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { poolHelper } from '../../shared/util/shared-bands.js';

const pool = new WorkerPool(1);
after(() => pool.close());

/** 150 Gaussian stars (sigma growing across the frame) on noise, a few bad pixels, and their positions. */
function frame(): { image: PsfFitImage; stars: Array<{ x: number; y: number; flux: number }> } {
  const w = 700;
  let s = 3;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const residual = new Float32Array(w * w);
  const variance = new Float32Array(w * w).fill(25);
  const bad = new Uint8Array(w * w);
  for (let i = 0; i < residual.length; i++)
    residual[i] = 5 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const stars: Array<{ x: number; y: number; flux: number }> = [];
  for (let k = 0; k < 150; k++) {
    const x = 25 + u() * (w - 50);
    const y = 25 + u() * (w - 50);
    const flux = 500 * 10 ** (2 * u());
    const sigma = 1.6 + (0.4 * x) / w;
    for (let j = Math.floor(y) - 12; j <= Math.floor(y) + 12; j++)
      for (let i = Math.floor(x) - 12; i <= Math.floor(x) + 12; i++) {
        const r2 = (i - x) ** 2 + (j - y) ** 2;
        const v = (flux / (2 * Math.PI * sigma * sigma)) * Math.exp(-r2 / (2 * sigma * sigma));
        residual[j * w + i] += v;
        variance[j * w + i] += v;
      }
    stars.push({ x, y, flux });
  }
  for (let k = 0; k < 400; k++) bad[Math.floor(u() * w * w)] = 1;
  return { image: { residual, variance, bad, width: w, height: w }, stars };
}

for (const freeVariationMinStars of [200, 0]) {
  test(`the same model and star fits with a helper thread (free variation from ${freeVariationMinStars} stars)`, async () => {
    const { image, stars } = frame();
    // The worker loads the module first, so that it takes bands rather than finding none left.
    await pool.preload([new URL('../../shared/psf/fit-bands.ts', import.meta.url).href]);
    const config = { freeVariationMinStars };
    const alone = fitPixelPsf(image, stars, stars, 4, config);
    const helped = fitPixelPsf(image, stars, stars, 4, config, poolHelper(pool));
    assert.ok(alone.stars.filter((s) => s.used).length > 100);
    assert.equal(helped.affineVariation, alone.affineVariation);
    assert.deepEqual(helped.psf.basis, alone.psf.basis);
    assert.deepEqual(helped.stars, alone.stars);
  });
}
