import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookAtSky } from '../../shared/diffim/illumination.js';
import { Plane } from '../../shared/image/plane.js';
import { mulberry32 } from '../../shared/util/random.js';

/** A 512^2 sky of 1000 with Poisson-like noise (sigma 30), times `response(x, y)`. */
function sky(response: (x: number, y: number) => number) {
  const rand = mulberry32(7);
  const image = Plane.zeros(Float32Array, 512, 512);
  for (let y = 0; y < 512; y++) {
    const row = image.row(y);
    for (let x = 0; x < 512; x++) {
      const gauss = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
      row[x] = response(x, y) * (1000 + 30 * gauss);
    }
  }
  return image;
}

// The response maps (a 16 px mesh of both images, ~1.5 CPU-s each at 4k) are read only where the masking could mask something.
test('lookAtSky: a flat sky or a 6 % gradient is not dimmed; a vignetted corner or a 70 px dimmed band is', () => {
  assert.equal(
    lookAtSky(
      sky(() => 1),
      null,
      {},
    ).dimmed,
    false,
  );
  assert.equal(
    lookAtSky(
      sky((x) => 1 - (0.06 * x) / 512),
      null,
      {},
    ).dimmed,
    false,
  );
  const corner = (x: number, y: number) => (Math.hypot(x - 256, y - 256) > 310 ? 0.5 : 1);
  assert.equal(lookAtSky(sky(corner), null, {}).dimmed, true);
  assert.equal(
    lookAtSky(
      sky((x) => (x >= 200 && x < 270 ? 0.7 : 1)),
      null,
      {},
    ).dimmed,
    true,
  );
});

test('lookAtSky: a characterized image is looked at with the background it had subtracted', () => {
  const corner = (x: number, y: number) => (Math.hypot(x - 256, y - 256) > 310 ? 0.5 : 1);
  const raw = sky(corner);
  const background = Plane.zeros(Float32Array, 512, 512).fill(990);
  const subtracted = raw.clone();
  for (let i = 0; i < subtracted.data.length; i++) subtracted.data[i] -= 990;
  assert.equal(lookAtSky(subtracted, background, {}).dimmed, true);
  // Without its background, the same pixels have no sky pedestal: nothing is read from them.
  assert.equal(lookAtSky(subtracted, null, {}).dimmed, false);
});
