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
import { COSMIC_RAY_SKIP, findCosmicRays } from '../../shared/characterize/cosmic-rays.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { Plane } from '../../shared/image/plane.js';
import { GaussianPsf } from '../../shared/psf/gaussian-psf.js';
import { dilateBits } from '../../shared/util/convolve.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { GridPsf, stampSigma } from '../../shared/diffim/psf-grid.js';
import {
  flagDifferenceCosmicRays,
  flagDifferenceCosmicRaysAsync,
  HOLE_REACH_FWHM,
  HOLE_SIGMAS,
} from '../../shared/diffim/difference-cosmic-rays.js';
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

/** The test as it was written before its whole-image pass was split (findCosmicRays finding its own seeds). */
function reference(
  image: Plane<Float32Array>,
  variance: Plane<Float32Array>,
  mask: Plane<Int32Array>,
  psf: GaussianPsf,
  contrast: number,
) {
  const sigma2 = stampSigma(psf.stampAt(0, 0, true).data, psf.stampSize) ** 2;
  const psfCov = (): [number, number, number] => [sigma2, sigma2, 0];
  const { width: w, height: h } = mask;
  const reach = new Int32Array(w * h);
  let holes = 0;
  for (let i = 0; i < reach.length; i++)
    if (
      image.data[i] < -HOLE_SIGMAS * Math.sqrt(variance.data[i]) &&
      !(mask.data[i] & COSMIC_RAY_SKIP)
    ) {
      reach[i] = MaskPlane.BAD;
      holes++;
    }
  if (holes === 0)
    return findCosmicRays(image.data, variance.data, mask, psfCov, { cond3Fac: contrast });
  dilateBits(reach, w, h, MaskPlane.BAD, Math.ceil(HOLE_REACH_FWHM * psf.fwhmAt()));
  const work = mask.clone();
  for (let i = 0; i < reach.length; i++) work.data[i] |= reach[i];
  const result = findCosmicRays(image.data, variance.data, work, psfCov, { cond3Fac: contrast });
  for (const i of result.pixels) mask.data[i] |= MaskPlane.CR;
  return result;
}

test('flagDifferenceCosmicRays, and its pass split with a pool worker, flag what the unsplit test flags, with and without holes', async () => {
  const [w, h] = [150, 97];
  const psf = GaussianPsf.fromFwhm(3);
  const pool = new WorkerPool(1);
  try {
    for (const withHole of [false, true]) {
      let seed = 7;
      const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
      const image = Plane.zeros(Float32Array, w, h);
      const variance = Plane.zeros(Float32Array, w, h);
      const mask = Plane.zeros(Int32Array, w, h);
      for (let i = 0; i < w * h; i++) {
        image.data[i] = 10 * (random() + random() + random() - 1.5);
        variance.data[i] = 25;
      }
      // Hits of one and two pixels on both halves, a PSF-shaped source, a masked pixel, a hole.
      for (const [x, y, v] of [
        [20, 10, 400],
        [90, 30, 300],
        [91, 30, 250],
        [40, 70, 500],
        [130, 85, 350],
        [1, 50, 900],
      ])
        image.set(x, y, v);
      const s = psf.stampAt(0, 0, true);
      const r = (s.size - 1) / 2;
      for (let dy = -r; dy <= r; dy++)
        for (let dx = -r; dx <= r; dx++)
          image.data[(60 + dy) * w + 110 + dx] += 3000 * s.data[(dy + r) * s.size + dx + r];
      mask.set(40, 70, MaskPlane.SAT);
      if (withHole) image.set(75, 48, -1e6);
      const want = mask.clone();
      const expected = reference(image, variance, want, psf, 2);
      assert.ok(expected.nPixels >= 3, `premise: hits flagged (${expected.nPixels})`);
      const serial = mask.clone();
      const one = flagDifferenceCosmicRays(image, variance, serial, psf, 2);
      const split = mask.clone();
      const two = await flagDifferenceCosmicRaysAsync(image, variance, split, psf, 2, pool);
      for (const [name, got, result] of [
        ['serial', serial, one],
        ['split', split, two],
      ] as const) {
        assert.deepEqual(got.data, want.data, `${name}, hole ${withHole}: mask`);
        assert.deepEqual(Array.from(result.pixels), Array.from(expected.pixels), `${name}: pixels`);
        assert.equal(result.count, expected.count, `${name}: count`);
        assert.equal(result.nPixels, expected.nPixels, `${name}: nPixels`);
      }
      // A grid PSF, whose widths at the candidates' cells each thread measures ahead for its half.
      const grid = new GridPsf(
        [0, w - 1],
        [0, h - 1],
        [2.6, 3, 3.3, 3.6].map((f) => GaussianPsf.fromFwhm(f, s.size).stampAt(0, 0, true).data),
        s.size,
      );
      const gridSerial = mask.clone();
      const gridOne = flagDifferenceCosmicRays(image, variance, gridSerial, grid, 2);
      const gridSplit = mask.clone();
      const gridTwo = await flagDifferenceCosmicRaysAsync(
        image,
        variance,
        gridSplit,
        grid,
        2,
        pool,
      );
      assert.ok(
        gridOne.nPixels >= 3,
        `premise: hits flagged with the grid PSF (${gridOne.nPixels})`,
      );
      assert.deepEqual(gridSplit.data, gridSerial.data, `grid PSF, hole ${withHole}: mask`);
      assert.deepEqual(Array.from(gridTwo.pixels), Array.from(gridOne.pixels), 'grid PSF: pixels');
    }
  } finally {
    await pool.close();
  }
});
