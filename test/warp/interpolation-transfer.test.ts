// The mean transfer function of Lanczos-3 interpolation over the phases used (shared/warp/interpolation-transfer.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LanczosTable } from '../../shared/warp/lanczos.js';
import { meanTransfer } from '../../shared/warp/interpolation-transfer.js';

const table = new LanczosTable('lanczos3');

test('at phase 0 the taps copy the samples: H(u) = 1 at every frequency', () => {
  const h = meanTransfer(table, [0, 0, 0]);
  for (const u of [0, 0.1, 0.25, 0.4, 0.49]) {
    const [re, im] = h.at(u);
    assert.ok(Math.abs(re - 1) < 1e-9 && Math.abs(im) < 1e-9, `H(${u}) = ${re} + ${im}i`);
  }
});

test('a sinusoid resampled over drifting phases keeps the amplitude Re H(u) of the phases it used', () => {
  // Samples cos(2 pi u n) interpolated at t_j = 0.37 + 1.013 j: phases sweep [0, 1) about every 77 outputs.
  const n = 4000, step = 1.013;
  const w = new Float64Array(table.taps);
  for (const u of [0.15, 0.3, 0.4]) {
    const phases: number[] = [];
    let dot = 0, norm = 0;
    for (let j = 0; j < (n - 10) / step; j++) {
      const t = 0.37 + j * step + 3, i = Math.floor(t), f = t - i;
      table.weights(f, w);
      let y = 0;
      for (let k = 0; k < table.taps; k++) y += w[k] * Math.cos(2 * Math.PI * u * (i + k - (table.a - 1)));
      phases.push(f);
      const truth = Math.cos(2 * Math.PI * u * t);
      dot += y * truth;
      norm += truth * truth;
    }
    const [re] = meanTransfer(table, phases).at(u);
    assert.ok(Math.abs(dot / norm - re) < 2e-3, `u ${u}: amplitude ${dot / norm} vs Re H ${re}`);
    // Interpolation smooths: the amplitude is below 1 at high frequency (0.82 at 0.4 cycles/px).
    if (u === 0.4) assert.ok(re < 0.86 && re > 0.78, `Re H(0.4) ${re}`);
  }
});
