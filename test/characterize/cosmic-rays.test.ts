/**
 * The sharper-than-the-PSF test: hot pixels and tracks are flagged, stars of any brightness,
 * width and sub-pixel phase are not.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { findCosmicRays } from '../../shared/characterize/cosmic-rays.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { Plane } from '../../shared/image/plane.js';
import { measureStamp } from '../../shared/psf/shape.js';
import { forEachComponent8 } from '../../shared/util/components.js';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { Exposure } from '../../shared/image/exposure.js';
import { MoffatPsf, addMoffat } from '../../shared/sim/moffat.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { poolHelper } from '../../shared/util/shared-bands.js';

const W = 400;
const SIGMA = 10;
const pool = new WorkerPool(1);
after(() => pool.close());

function field(fwhm: number) {
  const psf = MoffatPsf.uniform(W, fwhm, 3, 0.03, 0);
  const residual = new Float32Array(W * W);
  let s = 99;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  for (let i = 0; i < residual.length; i++)
    residual[i] = SIGMA * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  const stars: number[] = [];
  for (let k = 0; k < 120; k++) {
    const x = 20 + (k % 12) * 30 + u();
    const y = 20 + Math.floor(k / 12) * 36 + u();
    const flux = SIGMA * 10 ** (1.5 + 3.5 * u()); // peak SNR ~3 to ~10^4
    addMoffat(residual, W, W, x, y, psf.shapeAt(x, y), flux, 25);
    stars.push(Math.round(y) * W + Math.round(x));
  }
  const hot: number[] = [];
  for (let k = 0; k < 60; k++) {
    const i = (35 + Math.floor(u() * 330)) * W + 35 + Math.floor(u() * 330);
    residual[i] += SIGMA * (10 + 200 * u()); // >= 7 sigma of sky plus its own shot noise
    hot.push(i);
  }
  const track: number[] = [];
  for (let t = 0; t < 12; t++) {
    const i = (371 + Math.round(t * 0.4)) * W + 50 + t;
    residual[i] += 60 * SIGMA;
    track.push(i);
  }
  const shape = measureStamp(psf.stampAt(200, 200, true).data, psf.stampSize);
  return {
    residual,
    stars,
    hot,
    track,
    cov: [shape.ixx, shape.iyy, shape.ixy] as [number, number, number],
  };
}

for (const fwhm of [2.5, 3.5, 5]) {
  test(`FWHM ${fwhm} px: hot pixels and tracks flagged, no star centre`, () => {
    const f = field(fwhm);
    const variance = new Float32Array(W * W).fill(SIGMA * SIGMA);
    for (let i = 0; i < variance.length; i++) variance[i] += Math.max(0, f.residual[i]); // gain 1
    const mask = Plane.zeros(Int32Array, W, W);
    const result = findCosmicRays(f.residual, variance, mask, () => f.cov);
    const isCr = (i: number): boolean => (mask.data[i] & MaskPlane.CR) !== 0;
    // Hot pixels on a bright star's wing may drown in its shot noise: only those clear of stars must be found.
    const hotMissed = f.hot.filter(
      (i) =>
        !isCr(i) &&
        !f.stars.some(
          (s) =>
            Math.abs((s % W) - (i % W)) < 9 && Math.abs(Math.floor(s / W) - Math.floor(i / W)) < 9,
        ),
    );
    assert.deepEqual(hotMissed, []);
    assert.ok(f.track.every(isCr), 'track pixels');
    const starsHit = f.stars.filter((s) => isCr(s) && !f.hot.includes(s));
    assert.deepEqual(starsHit, []);
    assert.ok(result.count >= 55 && result.count <= 70, `${result.count} groups`);
  });
}

test('a second pass on the bright pixels of the first flags what a pass over the whole image does', () => {
  const f = field(3.5);
  const variance = new Float32Array(W * W).fill(SIGMA * SIGMA);
  const narrow = (): [number, number, number] => [0.4, 0.4, 0];
  const passes = (restricted: boolean) => {
    const mask = Plane.zeros(Int32Array, W, W);
    const first = findCosmicRays(f.residual, variance, mask, narrow);
    const second = findCosmicRays(
      f.residual,
      variance,
      mask,
      () => f.cov,
      {},
      restricted ? first.bright : undefined,
    );
    return { first, second, mask: mask.data };
  };
  const whole = passes(false);
  const restricted = passes(true);
  // The wider PSF flags more than the narrow one: the second pass has work to do.
  assert.ok(
    whole.second.count > whole.first.count,
    `${whole.first.count} -> ${whole.second.count}`,
  );
  assert.ok(whole.first.bright.length < W * W * 0.1, `${whole.first.bright.length} bright pixels`);
  assert.deepEqual(restricted.second.count, whole.second.count);
  assert.deepEqual(restricted.second.nPixels, whole.second.nPixels);
  assert.deepEqual(restricted.second.pixels, whole.second.pixels);
  assert.deepEqual(restricted.mask, whole.mask);
});

test('the seed test shared with a helper thread flags what one thread flags', async () => {
  const f = field(3.5);
  const shared = <T extends Float32Array | Uint8Array>(a: T): T => {
    const out = new (a.constructor as new (b: SharedArrayBuffer) => T)(
      new SharedArrayBuffer(a.byteLength),
    );
    out.set(a);
    return out;
  };
  const residual = shared(f.residual);
  const variance = shared(new Float32Array(W * W).fill(SIGMA * SIGMA));
  const run = (helped: boolean) => {
    const mask = new Plane(new Int32Array(new SharedArrayBuffer(4 * W * W)), W, W);
    // A low threshold: tens of thousands of candidates, many bands of the seed test.
    const result = findCosmicRays(
      residual,
      variance,
      mask,
      () => f.cov,
      { minSigma: 0.5 },
      undefined,
      shared(new Uint8Array(W * W)),
      helped ? poolHelper(pool) : null,
    );
    return { result, mask: mask.data };
  };
  // The worker loads the module first, so that it takes bands rather than finding none left.
  await pool.preload([new URL('../../shared/characterize/cosmic-rays.ts', import.meta.url).href]);
  const alone = run(false);
  const helped = run(true);
  assert.ok(alone.result.bright.length > 8 * 4096, `${alone.result.bright.length} candidates`);
  assert.deepEqual(helped.result, alone.result);
  assert.deepEqual(helped.mask, alone.mask);
});

test('CR groups counted from their own pixels (seeds) are the groups of the whole mask', () => {
  let s = 7;
  const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
  const w = 97;
  const member = new Uint8Array(w * 61).map(() => (u() < 0.08 ? 1 : 0));
  const seeds = [...member.keys()].filter((i) => member[i]).reverse();
  const visited: number[] = [];
  const fromSeeds = forEachComponent8(member.slice(), w, 61, (i) => visited.push(i), seeds);
  const whole = forEachComponent8(member.slice(), w, 61, () => {});
  assert.ok(whole > 50, `${whole} groups`);
  assert.equal(fromSeeds, whole);
  assert.deepEqual(
    visited.sort((a, b) => a - b),
    [...seeds].sort((a, b) => a - b),
  );
});

test("characterizeImage's CR count: the groups of the final mask, CR pixels flagged before it ran (in the file) included, on a view too", () => {
  const exposure = (): Exposure => {
    const e = Exposure.blank(300, 260);
    let s = 5;
    const u = (): number => ((s = (s * 1103515245 + 12345) % 2147483648) + 0.5) / 2147483648;
    const image = e.image.data;
    for (let i = 0; i < image.length; i++)
      image[i] = 100 + 5 * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
    // Hot pixels the passes flag, one of them beside a pixel flagged before.
    for (const [x, y] of [
      [40, 50],
      [200, 120],
      [121, 201],
    ])
      image[y * 300 + x] += 400;
    for (const [x, y] of [
      [10, 10],
      [11, 11],
      [150, 30],
      [120, 200],
      [250, 240],
    ])
      e.mask.data[y * 300 + x] |= MaskPlane.CR;
    e.info.gain = 4;
    return e;
  };
  const groupsOf = (e: Exposure): number => {
    const member = new Uint8Array(e.width * e.height);
    for (let y = 0; y < e.height; y++)
      for (let x = 0; x < e.width; x++)
        member[y * e.width + x] = e.mask.get(x, y) & MaskPlane.CR ? 1 : 0;
    return forEachComponent8(member, e.width, e.height, () => {});
  };
  const whole = exposure();
  const crCount = characterizeImage(whole).crCount;
  assert.equal(crCount, groupsOf(whole));
  // (10, 10) and (11, 11) are one group, (121, 201) joins (120, 200): 4 groups before, 2 more flagged.
  assert.equal(crCount, 6);
  const view = exposure().view({ x: 5, y: 3, width: 280, height: 250 });
  assert.equal(characterizeImage(view).crCount, groupsOf(view));
});
