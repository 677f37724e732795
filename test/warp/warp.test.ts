// warpExposure: astrometry, flux, noise, masks and coverage of warped star fields and noise images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readExposure } from '../../shared/fits/index.js';
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';
import {
  cdMatrix,
  makeSipWcs,
  makeTanWcs,
  wcsFromHeader,
  type Wcs,
} from '../../shared/wcs/index.js';
import { InsufficientCoverageError, warpExposure } from '../../shared/warp/index.js';
import { measure, renderStars, starField } from './stars.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';
import { dilateMask } from '../../shared/warp/resample.js';
import { DECAM_DIR } from '../helpers/data.js';

const SIZE = 512;
const SIGMA = 1.6;
const tanTemplate = makeTanWcs({ crpix: [256, 256], crval: [150, 2], cd: cdMatrix(0.2, 0) });
const decamFixture = JSON.parse(
  readFileSync(new URL('../fixtures/wcs/tpv-decam.json', import.meta.url), 'utf8'),
) as {
  header: Array<[string, string | number]>;
};
const decam = wcsFromHeader(new Map(decamFixture.header))!;

/** A TAN science WCS near `template`: shifted by (dx, dy) px, rotated by `rotationDeg`, scale times `scale`. */
function scienceNear(template: Wcs, dx: number, dy: number, rotationDeg: number, scale = 1): Wcs {
  const centre = template.pixelToSky({ x: Float64Array.of(256), y: Float64Array.of(256) });
  const local = template.jacobian(256, 256);
  return makeTanWcs({
    crpix: [256 + dx, 256 + dy],
    crval: [centre.ra[0], centre.dec[0]],
    cd: cdMatrix(local.pixelScaleArcsec * scale, local.rotationDeg + rotationDeg),
  });
}

/**
 * Flux tolerance 0.1%, except across a 5% pixel-scale change, where the interpolation kernel's
 * residual response near the sampling frequency leaves a beat pattern of ~0.2% (measured 0.17%).
 */
const cases: Array<{ name: string; template: Wcs; science: Wcs; fluxTolerance?: number }> = [
  { name: 'shift', template: tanTemplate, science: scienceNear(tanTemplate, 13.37, -7.61, 0) },
  {
    name: 'shift + 0.05 deg rotation',
    template: tanTemplate,
    science: scienceNear(tanTemplate, 4.2, 9.9, 0.05),
  },
  {
    name: 'SIP distortion + rotation',
    template: makeSipWcs({
      ...tanTemplate.tanParams,
      a: { '2_0': 8e-6, '1_1': -5e-6, '0_2': 3e-6, '3_0': 2e-9 },
      b: { '2_0': -4e-6, '1_1': 6e-6, '0_2': 5e-6, '0_3': -2e-9 },
    }),
    science: scienceNear(tanTemplate, -6.5, 3.3, 0.05),
  },
  {
    name: '5% pixel-scale change + rotation',
    template: tanTemplate,
    science: scienceNear(tanTemplate, 2.5, -1.5, 0.05, 1.05),
    fluxTolerance: 3e-3,
  },
  {
    name: 'DECam TPV + rotation + 2% scale',
    template: decam,
    science: scienceNear(decam, 5.3, -3.1, 0.05, 1.02),
  },
];

for (const { name, template, science, fluxTolerance = 1e-3 } of cases) {
  test(`${name}: star positions within 0.02 px, fluxes within ${100 * fluxTolerance}%`, async (t) => {
    const stars = starField(template, SIZE, 40);
    const tpl = renderStars(template, SIZE, stars, SIGMA);
    const result = await warpExposure(
      tpl,
      { width: SIZE, height: SIZE, wcs: science },
      { threads: 1 },
    );
    assert.ok(result.maxMappingErrorPx < 1e-3, `mapping error ${result.maxMappingErrorPx}`);
    assert.equal(result.exposure.wcs, science);
    const tplPix = template.skyToPixel({
      ra: Float64Array.from(stars.map((s) => s.ra)),
      dec: Float64Array.from(stars.map((s) => s.dec)),
    });
    const sciPix = science.skyToPixel({
      ra: Float64Array.from(stars.map((s) => s.ra)),
      dec: Float64Array.from(stars.map((s) => s.dec)),
    });
    let worstPos = 0;
    let worstFlux = 0;
    stars.forEach((_, k) => {
      const before = measure(tpl, tplPix.x[k], tplPix.y[k], 10);
      const after = measure(result.exposure, sciPix.x[k], sciPix.y[k], 10);
      worstPos = Math.max(worstPos, Math.hypot(after.x - sciPix.x[k], after.y - sciPix.y[k]));
      worstFlux = Math.max(worstFlux, Math.abs(after.flux / before.flux - 1));
    });
    t.diagnostic(
      `${stars.length} stars: worst centroid ${worstPos.toFixed(4)} px, worst flux ${(100 * worstFlux).toFixed(4)}%, interpLength ${result.interpLength}, mapping error ${result.maxMappingErrorPx.toExponential(1)} px`,
    );
    assert.ok(worstPos < 0.02, `centroid off by ${worstPos} px`);
    assert.ok(worstFlux < fluxTolerance, `flux off by ${100 * worstFlux}%`);
  });
}

test('noise keeps its variance: per pixel as the variance plane says, on large scales as the input', async (t) => {
  const size = 1024;
  const tpl = Exposure.blank(size, size);
  tpl.wcs = makeTanWcs({ crpix: [512, 512], crval: [150, 2], cd: cdMatrix(0.2, 0) });
  let seed = 99;
  const uniform = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const sigma = 3;
  for (let i = 0; i < tpl.image.data.length; i += 2) {
    // Box-Muller pairs.
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const phi = 2 * Math.PI * uniform();
    tpl.image.data[i] = sigma * r * Math.cos(phi);
    tpl.image.data[i + 1] = sigma * r * Math.sin(phi);
  }
  tpl.variance.fill(sigma * sigma);
  const science = makeTanWcs({ crpix: [512.37, 511.21], crval: [150, 2], cd: cdMatrix(0.2, 0.05) });
  const { exposure, covarianceFactor } = await warpExposure(
    tpl,
    { width: size, height: size, wcs: science },
    { threads: 1 },
  );
  // Interior only, away from EDGE and NO_DATA.
  let n = 0;
  let sum2 = 0;
  let varPlane = 0;
  const block = 8;
  const blockSums: number[] = [];
  for (let by = 16; by + block <= size - 16; by += block) {
    for (let bx = 16; bx + block <= size - 16; bx += block) {
      let s = 0;
      for (let y = by; y < by + block; y++) {
        for (let x = bx; x < bx + block; x++) {
          const v = exposure.image.get(x, y);
          assert.equal(exposure.mask.get(x, y), 0);
          s += v;
          sum2 += v * v;
          varPlane += exposure.variance.get(x, y);
          n++;
        }
      }
      blockSums.push(s);
    }
  }
  const pixelVariance = sum2 / n;
  const meanVariancePlane = varPlane / n;
  const blockVariance = blockSums.reduce((s, v) => s + v * v, 0) / blockSums.length;
  t.diagnostic(
    `covarianceFactor ${covarianceFactor.toFixed(4)}; pixel variance ${pixelVariance.toFixed(3)} vs plane ${meanVariancePlane.toFixed(3)}; ` +
      `${block}x${block} block-sum variance ${blockVariance.toFixed(1)} vs plane/covarianceFactor ${((meanVariancePlane / covarianceFactor) * block * block).toFixed(1)}`,
  );
  assert.ok(covarianceFactor > 0.3 && covarianceFactor < 1);
  // 1M pixels: the variance estimate is good to ~0.5% (more with the correlations).
  assert.ok(
    Math.abs(pixelVariance / meanVariancePlane - 1) < 0.02,
    'per-pixel variance matches the variance plane',
  );
  // covarianceFactor also averages the edge pixels left out here.
  assert.ok(
    Math.abs(meanVariancePlane / (sigma * sigma * covarianceFactor) - 1) < 0.01,
    'plane = input variance x covarianceFactor',
  );
  // 16k blocks: ~1.1% statistical error on the block variance.
  assert.ok(
    Math.abs(blockVariance / (sigma * sigma * block * block) - 1) < 0.05,
    'large-scale variance is the input variance',
  );
});

test('coverage, NO_DATA, EDGE and mask bits ORed over the kernel footprint', async () => {
  const tpl = renderStars(tanTemplate, SIZE, [], SIGMA);
  tpl.image.fill(5);
  tpl.mask.set(300, 200, MaskPlane.SAT);
  // The science grid is shifted 100 px to the right of the template: its last 100 columns are uncovered.
  const science = makeTanWcs({ ...tanTemplate.tanParams, crpix: [156, 256] });
  const { exposure, coverageFraction } = await warpExposure(tpl, {
    width: SIZE,
    height: SIZE,
    wcs: science,
  });
  // Template x = science x + 100 covers science x in [-100.5, 411.5].
  assert.ok(Math.abs(coverageFraction - 412 / 512) < 1 / 512, `coverage ${coverageFraction}`);
  assert.ok(exposure.mask.get(450, 100) & MaskPlane.NO_DATA);
  assert.ok(Number.isNaN(exposure.image.get(450, 100)));
  assert.ok(exposure.mask.get(411, 100) & MaskPlane.EDGE);
  assert.ok(!(exposure.mask.get(405, 100) & MaskPlane.EDGE));
  assert.ok(Math.abs(exposure.image.get(405, 100) - 5) < 1e-5, 'flat stays flat');
  assert.ok(
    Math.abs(exposure.image.get(411, 100) - 5) < 1e-5,
    'flat stays flat under a truncated kernel',
  );
  // Template (300, 200) is science (200, 200); the taps of science x reach template x + 100 - 2 .. + 3.
  for (const [x, y] of [
    [200, 200],
    [197, 200],
    [202, 202],
    [200, 197],
  ])
    assert.ok(exposure.mask.get(x, y) & MaskPlane.SAT, `SAT at ${x},${y}`);
  for (const [x, y] of [
    [196, 200],
    [203, 200],
    [200, 203],
    [200, 196],
  ])
    assert.equal(exposure.mask.get(x, y) & MaskPlane.SAT, 0, `no SAT at ${x},${y}`);
});

test('too little overlap throws InsufficientCoverageError with the fraction', async () => {
  const tpl = renderStars(tanTemplate, SIZE, [], SIGMA);
  const science = scienceNear(tanTemplate, -480, 0, 0);
  await assert.rejects(
    warpExposure(tpl, { width: SIZE, height: SIZE, wcs: science }),
    (e: unknown) =>
      e instanceof InsufficientCoverageError && Math.abs(e.coverageFraction - 32 / 512) < 2 / 512,
  );
});

test('without a WCS the images must have the same shape and are copied', async () => {
  const tpl = Exposure.blank(20, 10);
  tpl.image.fill(3);
  const same = await warpExposure(tpl, Exposure.blank(20, 10));
  assert.equal(same.coverageFraction, 1);
  assert.equal(same.exposure.image.get(5, 5), 3);
  await assert.rejects(warpExposure(tpl, Exposure.blank(10, 20)), /same shape/);
});

test("worker threads (its own or a pool's) give the same pixels as one thread", async () => {
  const stars = starField(tanTemplate, SIZE, 40);
  const tpl = renderStars(tanTemplate, SIZE, stars, SIGMA);
  tpl.mask.set(100, 100, MaskPlane.CR);
  const science = { width: SIZE, height: SIZE, wcs: scienceNear(tanTemplate, 3.3, 1.1, 0.05) };
  const one = await warpExposure(tpl, science, { threads: 1 });
  const pool = new WorkerPool(1);
  for (const two of [
    await warpExposure(tpl, science, { threads: 2 }),
    await warpExposure(tpl, science, { threads: 2 }, pool),
  ]) {
    assert.equal(two.threads, 2);
    assert.deepEqual(two.exposure.image.data, one.exposure.image.data);
    assert.deepEqual(two.exposure.mask.data, one.exposure.mask.data);
    assert.ok(Math.abs(two.covarianceFactor - one.covarianceFactor) < 1e-12);
  }
  await pool.close();
});

test('sub-image views warp like the same region of the whole images', async () => {
  const stars = starField(tanTemplate, SIZE, 40);
  const tpl = renderStars(tanTemplate, SIZE, stars, SIGMA);
  const science = Exposure.blank(SIZE, SIZE);
  science.wcs = scienceNear(tanTemplate, 3.3, -2.1, 0.05);
  const whole = await warpExposure(tpl, science);
  const box = { x: 120, y: 90, width: 200, height: 150 };
  const part = await warpExposure(
    tpl.view({ x: 60, y: 40, width: 400, height: 400 }),
    science.view(box),
  );
  assert.equal(part.exposure.image.x0, box.x);
  assert.equal(part.exposure.image.y0, box.y);
  // Same pixels up to the ~1e-10 px by which the two coarse mapping grids differ.
  let worst = 0;
  for (let y = 0; y < box.height; y++) {
    for (let x = 0; x < box.width; x++) {
      worst = Math.max(
        worst,
        Math.abs(part.exposure.image.get(x, y) - whole.exposure.image.get(x + box.x, y + box.y)),
      );
    }
  }
  assert.ok(worst < 1e-4, `views differ by ${worst} ADU (stars peak at ~600)`);
});

test('non-finite template pixels become NO_DATA over their footprint; an unknown variance stays NaN', async () => {
  const tpl = renderStars(tanTemplate, SIZE, [], SIGMA);
  tpl.image.fill(2);
  tpl.image.set(200, 300, Number.NaN);
  tpl.variance.set(100, 100, Number.NaN);
  const science = makeTanWcs({ ...tanTemplate.tanParams, crpix: [256.25, 256] });
  const { exposure, coverageFraction } = await warpExposure(tpl, {
    width: SIZE,
    height: SIZE,
    wcs: science,
  });
  // Science x = template x + 0.25: template (200, 300) feeds science x 198..203 on rows 297..302
  // or 298..303 (rounding can put the mapped y a hair below an integer).
  assert.ok(exposure.mask.get(200, 300) & MaskPlane.NO_DATA);
  assert.ok(exposure.mask.get(198, 299) & MaskPlane.NO_DATA);
  assert.equal(exposure.mask.get(200, 295) & MaskPlane.NO_DATA, 0);
  assert.equal(exposure.mask.get(196, 300) & MaskPlane.NO_DATA, 0);
  assert.equal(exposure.mask.get(200, 305) & MaskPlane.NO_DATA, 0);
  assert.ok(Math.abs(exposure.image.get(196, 300) - 2) < 1e-5);
  // Science columns 0 and 511 map to template x -0.25 and 510.75, covered: only the ~6 x 6 pixels fed by the NaN are lost.
  const lost = SIZE * SIZE * (1 - coverageFraction);
  assert.ok(lost > 29.5 && lost < 42.5, `lost ${lost} pixels`);
  assert.ok(Number.isNaN(exposure.variance.get(100, 100)));
  assert.equal(exposure.mask.get(100, 100), 0);
  assert.ok(Math.abs(exposure.image.get(100, 100) - 2) < 1e-5);
});

test('the real DECam pair (same pointing, TPV): the template warps onto the science grid unchanged', async () => {
  const data = DECAM_DIR;
  const science = readExposure(
    new Uint8Array(readFileSync(data + 'DEC-OBS04a.mini.fits')),
    'science',
  );
  const template = readExposure(
    new Uint8Array(readFileSync(data + 'DEC-OBS18a.mini.fits')),
    'template',
  );
  template.variance.fill(1);
  const result = await warpExposure(template, science);
  assert.equal(result.coverageFraction, 1);
  assert.ok(result.maxMappingErrorPx < 1e-3);
  let worst = 0;
  for (let y = 0; y < 256; y++) {
    for (let x = 0; x < 256; x++)
      worst = Math.max(worst, Math.abs(result.exposure.image.get(x, y) - template.image.get(x, y)));
  }
  // The two TPV solutions agree to 1e-10 px, so the warp is the identity up to float32 rounding.
  assert.ok(worst < 1e-2, `changed by ${worst} ADU (sky ~4000)`);
});

test('dilateMask: every pixel holds the OR over its window [x-(r-1), x+r] x [y-(r-1), y+r], clipped, dense or sparse', () => {
  const [w, h] = [37, 23];
  // Every 3rd pixel set takes the passes at every radius, every 97th (10 pixels, corners included) the spreading.
  for (const every of [3, 97]) {
    const mask = new Int32Array(w * h);
    for (let i = 0; i < mask.length; i += every) mask[i] = 1 << (i % 5);
    mask[mask.length - 1] |= 64;
    checkDilation(mask, w, h);
  }
});

function checkDilation(mask: Int32Array, w: number, h: number): void {
  for (const r of [1, 2, 3, 4]) {
    const out = dilateMask(mask, w, h, r);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let bits = 0;
        for (let v = Math.max(0, y - r + 1); v <= Math.min(h - 1, y + r); v++)
          for (let u = Math.max(0, x - r + 1); u <= Math.min(w - 1, x + r); u++)
            bits |= mask[v * w + u];
        assert.equal(out[y * w + x], bits, `r ${r} at (${x}, ${y})`);
      }
  }
}
