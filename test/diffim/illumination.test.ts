import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStructuredSky } from '../../shared/diffim/illumination.js';
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

// The illumination (a 16 px mesh of both images, ~1.5 CPU-s each at 4k) is modelled only on structured skies.
test('isStructuredSky: a flat sky or a 6 % gradient is not structured; a vignetted corner or a 70 px dimmed band is', () => {
  const structured = (response: (x: number, y: number) => number): boolean =>
    isStructuredSky({ image: sky(response) });
  assert.equal(
    structured(() => 1),
    false,
  );
  assert.equal(
    structured((x) => 1 - (0.06 * x) / 512),
    false,
  );
  assert.equal(
    structured((x, y) => (Math.hypot(x - 256, y - 256) > 260 ? 0.5 : 1)),
    true,
  );
  assert.equal(
    structured((x) => (x >= 200 && x < 270 ? 0.7 : 1)),
    true,
  );
});
