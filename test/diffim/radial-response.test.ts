import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plane } from '../../shared/image/plane.js';
import { clearPlane, fineSky, readIllumination } from '../../shared/diffim/illumination.js';
import { rngStream } from '../../shared/sim/random.js';

// An unflattened frame as the filer had (a circular field of view off the detector centre,
// a sky gradient, noise): the radial model finds the axis and the response (radial-response.ts).
test('a vignetted field off the detector centre: the radial model finds its axis and response', () => {
  const size = 256;
  const [cx, cy] = [140, 118];
  const truth = (x: number, y: number): number => {
    const t = Math.min(1, Math.max(0, (Math.hypot(x - cx, y - cy) - 70) / 70));
    return 0.2 + 0.8 * 0.5 * (1 + Math.cos(Math.PI * t));
  };
  const rng = rngStream(1, 'radial-test');
  const image = Plane.zeros(Float32Array, size, size);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++)
      image.set(x, y, truth(x, y) * 1000 * (1 + 0.0002 * x) + 10 * rng.normal());
  const mask = Plane.zeros(Int32Array, size, size);
  const background = Plane.zeros(Float32Array, size, size);
  const exposure = { width: size, height: size, image, mask };
  const fine = fineSky(exposure, background, 16);
  assert.ok(clearPlane(fine, mask));
  const ill = readIllumination(exposure, background, fine);
  assert.ok(ill?.radial, 'the radial model holds');
  assert.ok(
    Math.hypot(ill.radial.cx - cx, ill.radial.cy - cy) <= 1,
    `axis ${ill.radial.cx}, ${ill.radial.cy}`,
  );
  let worst = 0;
  for (let y = 2; y < size; y += 7)
    for (let x = 2; x < size; x += 7)
      worst = Math.max(worst, Math.abs(ill.response.get(x, y) / truth(x, y) - 1));
  // A clear field a third of the frame: its plane, and so the response, is good to a few per cent.
  assert.ok(worst < 0.05, `response off by ${worst}`);
});
