import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectStars } from '../../shared/characterize/star-select.js';
import { mulberry32 } from '../../shared/util/random.js';
import { median } from '../../shared/util/stats.js';

/** n round Gaussian stars (sigma 1.5 px) on a noiseless size^2 image, fluxes from 3e4 down to 1e3 ADU; peaks ranked by flux. */
function field(n: number, size: number) {
  const rand = mulberry32(7);
  const data = new Float32Array(size * size);
  const peaks = [];
  for (let k = 0; k < n; k++) {
    const x = 8 + Math.floor((size - 16) * rand());
    const y = 8 + Math.floor((size - 16) * rand());
    const flux = 1e3 * 30 ** rand();
    for (let dy = -6; dy <= 6; dy++)
      for (let dx = -6; dx <= 6; dx++)
        data[(y + dy) * size + x + dx] +=
          (flux / (2 * Math.PI * 2.25)) * Math.exp(-(dx * dx + dy * dy) / 4.5);
    peaks.push({ x, y, significance: flux / 20 });
  }
  const src = { data, width: size, height: size, bad: null, variance: 1 };
  return { src, peaks, bad: new Uint8Array(size * size) };
}

test('star selection measures at most maxMeasured peaks, spread over their brightness', () => {
  const { src, peaks, bad } = field(300, 512);
  const all = selectStars(src, bad, peaks, 1.5, { maxMeasured: 0 });
  const some = selectStars(src, bad, peaks, 1.5, { maxMeasured: 60 });
  assert.ok(all.candidates.length > 200, `${all.candidates.length} candidates of 300`);
  assert.ok(some.candidates.length <= 60 && some.candidates.length > 40);
  // Evenly spaced in significance order: the faint half is sampled as the bright half, not left out.
  const flux = (list: Array<{ flux: number }>) => median(list.map((c) => c.flux));
  const ratio = flux(some.candidates) / flux(all.candidates);
  assert.ok(ratio > 0.8 && ratio < 1.25, `median flux ratio ${ratio}`);
  const faintest = Math.min(...all.candidates.map((c) => c.flux));
  assert.ok(Math.min(...some.candidates.map((c) => c.flux)) < 2 * faintest);
  // Below the cap every peak is measured: the same selection.
  const under = selectStars(src, bad, peaks, 1.5, { maxMeasured: 300 });
  assert.deepEqual(under.candidates, all.candidates);
});
