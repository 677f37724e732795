import { test } from 'node:test';
import assert from 'node:assert/strict';
import { samplePsfStars } from '../../shared/characterize/psf-sample.js';
import { mulberry32 } from '../../shared/util/random.js';
import { median } from '../../shared/util/stats.js';

/** n stars on a size x size detector, uniform in position, significance 30 x a power law (many faint, few bright). */
function stars(n: number, size: number, seed: number, crowdedCorner = false) {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const corner = crowdedCorner && i % 2 === 0;
    return {
      x: (corner ? 0.25 : 1) * size * rand(),
      y: (corner ? 0.25 : 1) * size * rand(),
      significance: 30 / rand() ** 0.7,
    };
  });
}

test('PSF star sample: at most the cap, all stars below it, no star twice', () => {
  const all = stars(1700, 4096, 1);
  assert.equal(samplePsfStars(all, 0, 4096, 4096), all);
  assert.equal(samplePsfStars(all.slice(0, 250), 300, 4096, 4096).length, 250);
  const sample = samplePsfStars(all, 300, 4096, 4096);
  assert.equal(sample.length, 300);
  assert.equal(new Set(sample).size, 300);
});

test('PSF star sample: spread over the detector even where the stars crowd one corner', () => {
  // Half the stars in the lower-left 1/16 of the detector: each quadrant still gets ~a quarter.
  const sample = samplePsfStars(stars(2000, 4096, 2, true), 300, 4096, 4096);
  for (const [qx, qy] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ]) {
    const n = sample.filter(
      (s) => Math.floor(s.x / 2048) === qx && Math.floor(s.y / 2048) === qy,
    ).length;
    assert.ok(n >= 70 && n <= 80, `quadrant (${qx}, ${qy}): ${n} of 300`);
  }
});

test("PSF star sample: the stars' brightness distribution, faint ones included", () => {
  const all = stars(1700, 4096, 3);
  const sample = samplePsfStars(all, 300, 4096, 4096);
  const sig = (list: typeof all, q: number) => {
    const v = list.map((s) => s.significance).sort((a, b) => a - b);
    return v[Math.floor(q * (v.length - 1))];
  };
  for (const q of [0.1, 0.5, 0.9])
    assert.ok(
      Math.abs(sig(sample, q) / sig(all, q) - 1) < 0.1,
      `quantile ${q}: ${sig(sample, q)} vs ${sig(all, q)}`,
    );
  assert.ok(median(sample.map((s) => s.significance)) < 2 * median(all.map((s) => s.significance)));
});
