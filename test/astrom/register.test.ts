import { test } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { registerPair } from '../../shared/astrom/register.js';
import { findSources, fromCandidates } from '../../shared/astrom/sources.js';
import { Exposure } from '../../shared/image/exposure.js';
import { Plane } from '../../shared/image/plane.js';
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

test('findSources: stars on a vignetting fall-off are centred where flat-fielding puts them, not pulled up the gradient', () => {
  // A response falling 1 % of the clear level per px across the frame (a fall-off edge): each star's
  // light is multiplied by it, pulling its light-weighted centroid by ~(dR/dx / R) sigma^2 towards
  // the bright side (0.04-0.1 px here); measured on image / response, the bias is gone.
  const size = 160;
  const sigma = 2;
  const exposure = Exposure.blank(size, size);
  const response = Plane.zeros(Float32Array, size, size);
  const rng = new Rng(1);
  const truth: Array<{ x: number; y: number }> = [];
  for (let y = 20; y < size - 10; y += 30)
    for (let x = 20; x < size - 10; x += 30)
      truth.push({ x: x + rng.between(-0.5, 0.5), y: y + rng.between(-0.5, 0.5) });
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const r = 0.95 - 0.005 * x;
      response.set(x, y, r);
      let v = 0;
      for (const s of truth)
        v += 2e4 * Math.exp(-((x - s.x) ** 2 + (y - s.y) ** 2) / (2 * sigma * sigma));
      exposure.image.set(x, y, r * v + rng.normal() * Math.sqrt(r * 100));
      exposure.variance.set(x, y, r * 100);
    }
  const bias = (found: Array<{ x: number; y: number }>): number => {
    let sum = 0;
    let n = 0;
    for (const s of truth) {
      const f = found.find((p) => Math.hypot(p.x - s.x, p.y - s.y) < 1);
      if (f) {
        sum += f.x - s.x;
        n++;
      }
    }
    assert.ok(n >= truth.length - 2, `${n} of ${truth.length} stars found`);
    return sum / n;
  };
  const raw = bias(findSources(exposure));
  const flat = bias(findSources(exposure, response));
  assert.ok(raw < -0.03, `raw centroids biased by ${raw.toFixed(4)} px`);
  assert.ok(Math.abs(flat) < 0.01, `flat-fielded centroids biased by ${flat.toFixed(4)} px`);
});
