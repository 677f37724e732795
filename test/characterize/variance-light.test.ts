// A deep crowded template (the independent held-out pair 4, shared/rb/independent-pair.ts: white noise, Moffat
// stars with halos, galaxies, a curved sky) whose blank sky holds more faint light than noise: scaled to the
// blank pixels' scatter its derived variance plane is ~8x its noise; scaled to the difference of pixels 2 px
// apart it is its noise (to the 1-7 % the generator's RDNOISE card leaves out of the prediction).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { drawIndependentPair } from '../../shared/rb/independent-pair.js';

const scaleWith = (noiseEstimator: 'scatter' | 'neighbour-difference'): number =>
  characterizeImage(drawIndependentPair(4).template, { variance: { noiseEstimator } }).variance
    .scale;

test("a derived plane scaled to the blank sky's noise, not its faint light ('neighbour-difference')", () => {
  const scatter = scaleWith('scatter');
  const noise = scaleWith('neighbour-difference');
  assert.ok(scatter > 4, `'scatter' scale ${scatter.toFixed(3)}: the light counted as noise`);
  assert.ok(noise > 0.98 && noise < 1.08, `'neighbour-difference' scale ${noise.toFixed(3)}`);
});
