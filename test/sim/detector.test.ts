import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MaskPlane } from '../../shared/image/mask.js';
import { addCosmicRays, bleed } from '../../shared/sim/detector.js';
import { simulateNight } from '../../shared/sim/night.js';
import { Rng } from '../../shared/sim/random.js';
import { streakGeometry } from '../../shared/sim/render.js';

test('bleeding caps pixels at the full well, spreads the excess along the column and conserves charge', () => {
  const size = 64;
  const fullWell = 1000;
  const electrons = new Float32Array(size * size).fill(100);
  const mask = new Int32Array(size * size);
  const x = 20;
  electrons[30 * size + x] = 10000;
  electrons[31 * size + x] = 5000;
  const before = electrons.reduce((a, b) => a + b, 0);
  bleed(electrons, mask, size, fullWell);
  const after = electrons.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(after - before) < 1e-3 * before, `charge ${before} -> ${after}`);
  assert.ok(electrons.every((e) => e <= fullWell + 1e-3));
  // 13000 e- excess fills 900 e- of room per pixel: about 14 pixels beyond the two, split up and down.
  const saturated: number[] = [];
  for (let y = 0; y < size; y++) {
    if (mask[y * size + x] & MaskPlane.SAT) saturated.push(y);
  }
  assert.ok(saturated.length >= 15 && saturated.length <= 18, `trail ${saturated.length} px`);
  assert.ok(saturated[0] < 30 && saturated[saturated.length - 1] > 31, 'trail on both sides');
  assert.deepEqual(
    [...new Set(Array.from({ length: size * size }, (_, i) => (mask[i] ? i % size : -1)))].filter(
      (c) => c >= 0,
    ),
    [x],
  );
});

test('charge bleeding off the detector edge is lost, never wrapped', () => {
  const size = 16;
  const electrons = new Float32Array(size * size);
  const mask = new Int32Array(size * size);
  electrons[1 * size + 3] = 100000;
  bleed(electrons, mask, size, 1000);
  const total = electrons.reduce((a, b) => a + b, 0);
  assert.equal(total, size * 1000, 'the whole column fills, the rest leaves the chip');
  for (let x = 0; x < size; x++) if (x !== 3) assert.equal(electrons[5 * size + x], 0);
});

test('cosmic rays deposit their charge on CR-masked pixels, tracks and blobs', () => {
  const size = 256;
  const electrons = new Float32Array(size * size);
  const mask = new Int32Array(size * size);
  const rays = addCosmicRays(electrons, mask, size, 200, new Rng(4, 'cr'));
  assert.ok(rays.length > 190);
  const total = electrons.reduce((a, b) => a + b, 0);
  const reported = rays.reduce((a, r) => a + r.electrons, 0);
  assert.ok(Math.abs(total - reported) < 1e-4 * total);
  for (let i = 0; i < electrons.length; i++)
    assert.equal(electrons[i] > 0, (mask[i] & MaskPlane.CR) !== 0);
  const tracks = rays.filter((r) => r.shape === 'track').length;
  assert.ok(tracks > 0.55 * rays.length && tracks < 0.85 * rays.length, `${tracks} tracks`);
});

test('a satellite streak carries its flux per unit length along the line, and the truth row sits on it', () => {
  const config = {
    size: 256,
    seed: 2,
    visits: 1,
    streakProbability: 1,
    transientsPerMegapixel: 0,
    variablesPerMegapixel: 0,
    movingPerMegapixel: 0,
  };
  const withStreak = simulateNight(config);
  const without = simulateNight({ ...config, streakProbability: 0 });
  const spec = withStreak.specs[1];
  assert.ok(spec.streak);
  const row = withStreak.truth.find((r) => r.kind === 'streak');
  assert.ok(row);
  let total = 0;
  const a = withStreak.visits[0].noiseless.data;
  const b = without.visits[0].noiseless.data;
  for (let i = 0; i < a.length; i++) total += a[i] - b[i];
  const { length } = streakGeometry(spec.streak, config.size);
  // The line-spread function's tails cross the image edge at the line's ends; within 2%.
  assert.ok(
    Math.abs(total / (spec.streak.fluxPerPixel * length) - 1) < 0.02,
    `streak flux ${total} vs ${spec.streak.fluxPerPixel * length}`,
  );
  assert.ok(Math.abs(row.fluxScienceAdu - spec.streak.fluxPerPixel * length) < 1e-6);
  const d =
    (row.x - spec.streak.x) * Math.sin(spec.streak.angle) -
    (row.y - spec.streak.y) * Math.cos(spec.streak.angle);
  assert.ok(Math.abs(d) < 1e-9, 'truth point on the line');
  assert.ok(
    a[Math.round(row.y) * config.size + Math.round(row.x)] -
      b[Math.round(row.y) * config.size + Math.round(row.x)] >
      0.1 * spec.streak.fluxPerPixel,
  );
});
