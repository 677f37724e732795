/**
 * A cosmic ray on a star's core, as bright as the star there, passes the science's CR test
 * (Lupton's: the pixel stays within what the PSF allows of its neighbours' mean) and was a false
 * DIASource; on the difference the star is gone and the same test flags it, by default. Real changes
 * (PSF-shaped on the difference) stay unflagged, and so do a broken pixel's sidelobes (flagged, they
 * hid the flood of DIASources that quarantines a broken image).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subtractImages } from '../../shared/diffim/subtract.js';
import { findCosmicRays } from '../../shared/characterize/cosmic-rays.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { HOLE_REACH_FWHM } from '../../shared/diffim/difference-cosmic-rays.js';
import { brightestInside, makePair } from './render.js';

test("a CR hidden on a star core in the science is flagged CR on the difference by default, transients and a broken pixel's sidelobes are not", async () => {
  const p = makePair({
    size: 256,
    seed: 3,
    sigmaScience: 2.1,
    sigmaTemplate: 1.4,
    scale: 1.08,
    noiseScience: 10,
    noiseTemplate: 7,
    stars: 40,
    transients: 6,
    background: [4, 6],
  });
  const { science } = p;
  // The brightest star away from the border: the hit doubles its core pixel.
  const star = brightestInside(p.stars, 256, 40);
  const x = Math.round(star.x),
    y = Math.round(star.y);
  const core = science.image.get(x, y);
  assert.ok(core > 20 * Math.sqrt(science.variance.get(x, y)), `core ${core}`);
  science.image.set(x, y, 2 * core);
  // The premise: the science's own test passes it (sigma 2.1 px PSF).
  const mask = science.mask.clone();
  const s2 = 2.1 ** 2;
  findCosmicRays(science.image.clone().data, science.variance.clone().data, mask, () => [
    s2,
    s2,
    0,
  ]);
  assert.equal(mask.get(x, y) & MaskPlane.CR, 0, 'the science test flags it: no premise');

  // A broken pixel far from every source: its hole rings on the difference, sharp and positive.
  const [bx, by] = [40, 40, 128, 216]
    .flatMap((u) => [40, 128, 216].map((v) => [u, v]))
    .find(([u, v]) =>
      [...p.stars, ...p.transients].every((s) => Math.hypot(s.x - u, s.y - v) > 20),
    )!;
  science.image.set(bx, by, -1e6);

  const flagged = await subtractImages(science, p.template, { method: 'auto' });
  assert.equal(flagged.method, 'AL');
  assert.ok(flagged.difference.mask.get(x, y) & MaskPlane.CR, 'the hit is not flagged CR');
  assert.ok(flagged.stats.differenceCrPixels >= 1);
  const reach = Math.ceil(HOLE_REACH_FWHM * flagged.psfFwhmPx);
  for (let dy = -reach; dy <= reach; dy++)
    for (let dx = -reach; dx <= reach; dx++)
      assert.equal(
        flagged.difference.mask.get(bx + dx, by + dy) & MaskPlane.CR,
        0,
        `broken pixel's sidelobe at ${bx + dx}, ${by + dy} flagged CR`,
      );
  for (const t of p.transients) {
    let bits = 0;
    for (let dy = -2; dy <= 2; dy++)
      for (let dx = -2; dx <= 2; dx++)
        bits |= flagged.difference.mask.get(Math.round(t.x) + dx, Math.round(t.y) + dy);
    assert.equal(bits & MaskPlane.CR, 0, `transient at ${t.x}, ${t.y} flagged CR`);
  }
});
