import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHANNELS, CUTOUT_LENGTH, CUTOUT_SIZE, type CutoutSet } from '../../shared/rb/cutouts.js';
import {
  DEFAULT_SCIENCE_DEFECT_CONFIG,
  scienceDefects,
  scienceSharpness,
} from '../../shared/rb/science-defects.js';
import { Rng } from '../../shared/sim/random.js';

const C = (CUTOUT_SIZE - 1) / 2;
const SKY = 1000;
const NOISE = 10;

/** One cutout whose science plane is sky + noise + `source(x, y)` (the other planes are zero). */
function cutout(source: (x: number, y: number) => number, seed = 1): CutoutSet {
  const rng = new Rng(seed, 'science-defects-test');
  const data = new Float32Array(CUTOUT_LENGTH);
  for (let y = 0; y < CUTOUT_SIZE; y++)
    for (let x = 0; x < CUTOUT_SIZE; x++)
      data[(y * CUTOUT_SIZE + x) * CHANNELS] = SKY + NOISE * rng.normal() + source(x, y);
  return { count: 1, data };
}

/** A Gaussian star of `peak` counts and `fwhm` px centred at (C + dx, C). */
const star =
  (peak: number, fwhm: number, dx = 0) =>
  (x: number, y: number): number => {
    const s = fwhm / 2.3548;
    return peak * Math.exp(-((x - C - dx) ** 2 + (y - C) ** 2) / (2 * s * s));
  };

test('a PSF-shaped source, however bright, is not a defect down to FWHM 1.8 px', () => {
  for (const fwhm of [1.8, 2.5, 5])
    for (const dx of [0, 0.5])
      for (const peak of [50, 5000, 50000]) {
        const s = scienceSharpness(cutout(star(peak, fwhm, dx)), 0);
        assert.ok(
          s < DEFAULT_SCIENCE_DEFECT_CONFIG.minExcessSigma,
          `FWHM ${fwhm} offset ${dx} peak ${peak}: ${s.toFixed(1)} sigma`,
        );
      }
});

test('a hot pixel, a one-pixel track and a track beside a star are defects; empty sky is not', () => {
  const hot = cutout((x, y) => (x === C + 1 && y === C ? 300 : 0));
  const track = cutout((x, y) => (x === C && Math.abs(y - C) <= 4 ? 200 : 0));
  // A track 4 px from a bright star's centre (artifacts.ts draws defects 2-8 px from stars).
  const besideStar = cutout(
    (x, y) => star(3000, 3, 4)(x, y) + (x === C && Math.abs(y - C) <= 3 ? 300 : 0),
  );
  const sky = cutout(() => 0);
  const all: CutoutSet = {
    count: 4,
    data: Float32Array.from([...hot.data, ...track.data, ...besideStar.data, ...sky.data]),
  };
  assert.deepEqual([...scienceDefects(all)], [1, 1, 1, 0]);
});

test('off-image (zero) pixels are skipped, and a cutout with too few present pixels is not tested', () => {
  const edge = cutout(() => 0);
  for (let y = 0; y < CUTOUT_SIZE; y++)
    for (let x = C + 1; x < CUTOUT_SIZE; x++) edge.data[(y * CUTOUT_SIZE + x) * CHANNELS] = 0;
  assert.ok(scienceSharpness(edge, 0) < DEFAULT_SCIENCE_DEFECT_CONFIG.minExcessSigma);
  assert.equal(scienceSharpness({ count: 1, data: new Float32Array(CUTOUT_LENGTH) }, 0), -Infinity);
});
