import { test } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { registerPair } from '../../shared/astrom/register.js';
import { fromCandidates } from '../../shared/astrom/sources.js';
import { applySimilarity, matchPatterns } from '../../shared/astrom/pattern.js';
import { fitTanSip } from '../../shared/astrom/fit-wcs.js';
import { simulateNight, type SimConfig } from '../../shared/sim/index.js';
import { cdMatrix, makeSipWcs, type Wcs } from '../../shared/wcs/index.js';
import { Rng } from '../../shared/sim/random.js';

const SIZE = 1024;

/** rms and largest distance, template pixels, between two science -> template pixel maps on a 17 x 17 grid. */
function mapError(
  scienceA: Wcs,
  templateA: Wcs,
  scienceB: Wcs,
  templateB: Wcs,
): { rms: number; max: number } {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let j = 0; j <= 16; j++)
    for (let i = 0; i <= 16; i++) {
      xs.push((i * (SIZE - 1)) / 16);
      ys.push((j * (SIZE - 1)) / 16);
    }
  const p = { x: Float64Array.from(xs), y: Float64Array.from(ys) };
  const a = templateA.skyToPixel(scienceA.pixelToSky(p));
  const b = templateB.skyToPixel(scienceB.pixelToSky(p));
  let sum = 0;
  let max = 0;
  for (let k = 0; k < xs.length; k++) {
    const d = Math.hypot(a.x[k] - b.x[k], a.y[k] - b.y[k]);
    sum += d * d;
    max = Math.max(max, d);
  }
  return { rms: Math.sqrt(sum / xs.length), max };
}

function registered(seed: number, effects: Partial<SimConfig>) {
  const night = simulateNight({ size: SIZE, seed, visits: 1, ...effects });
  const science = night.visits[0];
  const template = night.template;
  const sci = characterizeImage(science.exposure);
  const tmpl = characterizeImage(template.exposure);
  const result = registerPair(
    science.exposure,
    template.exposure,
    fromCandidates(sci.sources),
    fromCandidates(tmpl.sources),
  );
  return { night, science, template, result };
}

test('pattern match recovers a rotation, scale and shift with stars missing and added on both sides', () => {
  const rng = new Rng(3);
  const stars = Array.from({ length: 80 }, () => ({
    x: rng.between(0, 1000),
    y: rng.between(0, 1000),
    flux: rng.between(1, 100),
  }));
  const truth = { a: 1.003 * Math.cos(0.02), b: 1.003 * Math.sin(0.02), tx: 37.2, ty: -21.9 };
  const from = stars.slice(0, 60);
  const to = [
    ...stars.slice(10, 80).map((s) => ({ ...applySimilarity(truth, s), flux: s.flux })),
    { x: 500, y: 500, flux: 1 },
  ];
  const match = matchPatterns(from, to);
  assert.ok(match, 'no match');
  assert.ok(match.inliers >= 45, `${match.inliers} inliers`);
  for (const k of ['a', 'b', 'tx', 'ty'] as const)
    assert.ok(
      Math.abs(match.transform[k] - truth[k]) < 1e-6 * (k.startsWith('t') ? 1e4 : 1),
      `${k} ${match.transform[k]} vs ${truth[k]}`,
    );
});

test('fitTanSip reproduces a third-order TAN-SIP WCS from its own grid to 1e-4 px', () => {
  const truth = makeSipWcs({
    crpix: [511.5, 511.5],
    crval: [150.1, 2.2],
    cd: cdMatrix(0.2, 0.03),
    a: { '3_0': 2e-9, '1_2': 2e-9, '2_0': 1e-7 },
    b: { '2_1': 2e-9, '0_3': 2e-9, '1_1': -1e-7 },
  });
  const xs: number[] = [];
  const ys: number[] = [];
  for (let j = 0; j < 20; j++)
    for (let i = 0; i < 20; i++) {
      xs.push(i * 53.8);
      ys.push(j * 53.8);
    }
  const sky = truth.pixelToSky({ x: Float64Array.from(xs), y: Float64Array.from(ys) });
  const fit = fitTanSip(
    xs.map((x, k) => ({ x, y: ys[k], ra: sky.ra[k], dec: sky.dec[k], weight: 1 })),
    [511.5, 511.5],
    [150.09, 2.21],
    3,
    512,
  );
  assert.ok(
    Math.max(...fit.residualsPx) < 1e-4,
    `largest residual ${Math.max(...fit.residualsPx)} px`,
  );
});

test('science header WCS off by 5 arcsec, 0.1 deg and 0.5 % in scale: refitted to <= 0.02 px rms of the truth', () => {
  for (const seed of [3, 5]) {
    const { science, template, result } = registered(seed, {
      wcsErrorArcsec: 5,
      wcsErrorRotationDeg: 0.1,
      wcsErrorScale: 0.005,
    });
    assert.equal(result.mode, 'refit', result.reason);
    assert.ok(result.warpScienceWcs && result.warpTemplateWcs);
    const before = mapError(
      science.exposure.wcs as Wcs,
      template.trueWcs,
      science.trueWcs,
      template.trueWcs,
    );
    const after = mapError(
      result.warpScienceWcs,
      result.warpTemplateWcs,
      science.trueWcs,
      template.trueWcs,
    );
    assert.ok(before.rms > 20, `the header error is ${before.rms} px`);
    assert.ok(
      after.rms <= 0.02,
      `seed ${seed}: refit rms ${after.rms} px against the truth (largest ${after.max}), ${result.nStars} stars, order ${result.order}`,
    );
  }
});

test('a true science header is kept', () => {
  const { result } = registered(3, {});
  assert.equal(result.mode, 'header');
  assert.ok(result.nStars >= 50, `${result.nStars} stars`);
});

test('a dithered pair without WCS is registered by its stars to <= 0.02 px; an aligned one is found aligned', () => {
  const { science, template, result } = registered(4, { writeWcs: false });
  assert.equal(result.mode, 'pattern', result.reason);
  assert.equal(result.outputWcs, null);
  assert.ok(result.warpScienceWcs && result.warpTemplateWcs);
  const after = mapError(
    result.warpScienceWcs,
    result.warpTemplateWcs,
    science.trueWcs,
    template.trueWcs,
  );
  assert.ok(after.rms <= 0.02, `pattern registration rms ${after.rms} px against the truth`);
  const aligned = registered(4, { writeWcs: false, ditherPx: 0, rotationDeg: [0, 0] }).result;
  assert.equal(aligned.mode, 'aligned', aligned.reason);
  assert.equal(aligned.warpScienceWcs, null);
});
