import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { Exposure } from '../../shared/image/exposure.js';
import { warmPsfShape } from '../../shared/pipeline/warm-psf.js';
import type { Psf } from '../../shared/psf/types.js';

test("warmPsfShape: the model's FWHM asked over the whole image, in slices of event-loop turns, none at the call", async () => {
  const asked: Array<[number, number]> = [];
  const psf: Psf = {
    stampSize: 5,
    stampAt: () => ({ size: 5, data: new Float32Array(25) }),
    sigmaAt: () => 1,
    // A fit of ~1 ms: a turn's slice holds several, not all.
    fwhmAt: (x, y) => {
      const until = performance.now() + 1;
      while (performance.now() < until);
      asked.push([x, y]);
      return 2.35;
    },
  };
  const image = Exposure.blank(101, 61).view({ x: 0, y: 0, width: 101, height: 61 });
  warmPsfShape(psf, image);
  assert.equal(asked.length, 0, 'nothing runs before the caller yields');
  await turn();
  assert.ok(asked.length > 1 && asked.length < 17 * 17, `a slice per turn (${asked.length})`);
  for (let k = 0; k < 400 && asked.length < 17 * 17; k++) await turn();
  assert.equal(asked.length, 17 * 17);
  assert.deepEqual(asked[0], [0, 0]);
  assert.deepEqual(asked.at(-1), [100, 60]);
  const xs = new Set(asked.map(([x]) => x));
  assert.equal(xs.size, 17);
});
