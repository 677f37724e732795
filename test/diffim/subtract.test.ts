/**
 * Acceptance on simulated pairs of both seeing orders, for every method: white unit
 * normalised noise where nothing changed, flat noise power after decorrelation, unbiased
 * transient fluxes, the photometric scale from the kernel sum, and no significant residual
 * at non-varying stars.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { subtractImages, type SubtractResult } from '../../shared/diffim/subtract.js';
import type { SubtractMethodChoice } from '../../shared/diffim/config.js';
import { Fft2 } from '../../shared/util/fft.js';
import { clippedStats } from '../../shared/util/stats.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { makePair, psfFlux, type Pair } from './render.js';

const SCALE = 1.08;

function pair(templateNarrower: boolean, seed: number, transients = 12): Pair {
  const [narrow, wide] = [1.4, 2.1];
  return makePair({
    size: 448,
    seed,
    sigmaScience: templateNarrower ? wide : narrow,
    sigmaTemplate: templateNarrower ? narrow : wide,
    scale: SCALE,
    noiseScience: 10,
    noiseTemplate: 7,
    stars: 140,
    transients,
    background: [4, 6],
  });
}

/** Std of IMAGE/sqrt(VARIANCE) away from transients and masks. */
function noiseRatio(r: SubtractResult, p: Pair): number {
  const d = r.difference;
  const vals: number[] = [];
  for (let y = 0; y < d.height; y++) {
    for (let x = 0; x < d.width; x++) {
      if (d.mask.get(x, y) & (MaskPlane.EDGE | MaskPlane.NO_DATA)) continue;
      if (p.transients.some((t) => Math.abs(t.x - x) < 14 && Math.abs(t.y - y) < 14)) continue;
      vals.push(d.image.get(x, y) / Math.sqrt(d.variance.get(x, y)));
    }
  }
  return clippedStats(vals, 6).std;
}

/** Radially binned power of IMAGE/sqrt(VARIANCE) over the central 256^2, relative to its mean. */
function powerProfile(r: SubtractResult): number[] {
  const n = 256,
    d = r.difference;
  const x0 = (d.width - n) >> 1,
    y0 = (d.height - n) >> 1;
  const fft = new Fft2(n);
  const a = fft.alloc();
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++)
      a[2 * (y * n + x)] = d.image.get(x0 + x, y0 + y) / Math.sqrt(d.variance.get(x0 + x, y0 + y));
  fft.forward(a);
  const bins = 8,
    sum = new Float64Array(bins),
    count = new Float64Array(bins);
  for (let v = 0; v < n; v++) {
    for (let u = 0; u < n; u++) {
      const ku = Math.min(u, n - u) / n,
        kv = Math.min(v, n - v) / n;
      const k = Math.hypot(ku, kv);
      if (k < 2 / n || k >= 0.5) continue;
      const b = Math.floor((k / 0.5) * bins);
      sum[b] += a[2 * (v * n + u)] ** 2 + a[2 * (v * n + u) + 1] ** 2;
      count[b]++;
    }
  }
  const p = Array.from(sum, (s, i) => s / count[i]);
  const mean = p.reduce((s, v) => s + v, 0) / bins;
  return p.map((v) => v / mean);
}

const cases: Array<{ method: SubtractMethodChoice; narrowTemplate: boolean; expect: string }> = [
  { method: 'auto', narrowTemplate: true, expect: 'AL' },
  { method: 'auto', narrowTemplate: false, expect: 'AL-CONVSCI' },
  { method: 'zogy', narrowTemplate: true, expect: 'ZOGY' },
  { method: 'zogy', narrowTemplate: false, expect: 'ZOGY' },
];

for (const c of cases) {
  test(`${c.expect} with the ${c.narrowTemplate ? 'template' : 'science'} sharper: acceptance figures`, async () => {
    const p = pair(c.narrowTemplate, 11);
    const r = await subtractImages(p.science, p.template, { method: c.method });
    assert.equal(r.method, c.expect);
    assert.ok(Math.abs(r.kernelSum / SCALE - 1) < 0.005, `kernel sum ${r.kernelSum} vs ${SCALE}`);
    const ratio = noiseRatio(r, p);
    assert.ok(Math.abs(ratio - 1) < 0.05, `IMAGE/sqrt(VARIANCE) std ${ratio}`);
    const fluxes = p.transients.map((t) => psfFlux(r.difference, t.x, t.y).flux / t.flux);
    const meanFlux = fluxes.reduce((a, b) => a + b, 0) / fluxes.length;
    assert.ok(Math.abs(meanFlux - 1) < 0.01, `transient flux ratio ${meanFlux}`);
    const worst = Math.max(
      ...p.stars.map((s) => {
        const f = psfFlux(r.difference, s.x, s.y);
        return Math.abs(f.flux / f.err);
      }),
    );
    assert.ok(worst < 6, `star residual |SNR| ${worst}`);
    if (r.score) {
      const peak = Math.max(
        ...p.stars.map((s) => Math.abs(r.score!.get(Math.round(s.x), Math.round(s.y)))),
      );
      assert.ok(peak < 6, `S_corr at a star ${peak}`);
      const tr = Math.min(
        ...p.transients.map((t) => r.score!.get(Math.round(t.x), Math.round(t.y))),
      );
      assert.ok(tr > 20, `S_corr at the faintest transient ${tr}`);
    }
  });
}

test('decorrelation whitens the noise power spectrum (flat to 10%), which is red without it', async () => {
  for (const narrowTemplate of [true, false]) {
    const p = pair(narrowTemplate, 5, 0);
    const flat = powerProfile(await subtractImages(p.science, p.template, { method: 'auto' }));
    assert.ok(
      flat.every((v) => Math.abs(v - 1) < 0.1),
      `decorrelated power ${flat.map((v) => v.toFixed(3))}`,
    );
    const red = powerProfile(
      await subtractImages(p.science, p.template, { method: 'auto', decorrelate: false }),
    );
    assert.ok(
      red[0] / red[red.length - 1] > 1.2,
      `undecorrelated power ${red.map((v) => v.toFixed(3))}`,
    );
  }
});

test('a science PSF that widens across the image is followed (spatial kernel, ZOGY tiles)', async () => {
  const p = makePair({
    size: 448,
    seed: 21,
    sigmaScience: 1.9,
    scienceSlope: 0.7 / 448,
    sigmaTemplate: 1.3,
    scale: SCALE,
    noiseScience: 10,
    noiseTemplate: 7,
    stars: 160,
    transients: 10,
    background: [0, 0],
  });
  for (const method of ['al', 'zogy'] as const) {
    const r = await subtractImages(p.science, p.template, { method, fftSize: 256 });
    const worst = Math.max(
      ...p.stars.map((s) => {
        const f = psfFlux(r.difference, s.x, s.y);
        return Math.abs(f.flux / f.err);
      }),
    );
    assert.ok(worst < 6, `${method}: star residual |SNR| ${worst}`);
    const fluxes = p.transients.map((t) => psfFlux(r.difference, t.x, t.y).flux / t.flux);
    const meanFlux = fluxes.reduce((a, b) => a + b, 0) / fluxes.length;
    assert.ok(Math.abs(meanFlux - 1) < 0.01, `${method}: transient flux ratio ${meanFlux}`);
    assert.ok(
      r.differencePsf.fwhmAt(440, 200) > r.differencePsf.fwhmAt(5, 200) + 0.5,
      `${method}: difference PSF follows the science PSF`,
    );
  }
});

test('masked cosmic rays do not ring through the decorrelation or ZOGY filters', async () => {
  const p = pair(true, 31, 0);
  const crs = [
    [100.2, 120],
    [300, 333],
    [222, 90],
  ];
  for (const [x, y] of crs) {
    const i = Math.round(y) * p.science.width + Math.round(x);
    p.science.image.data[i] += 60000;
    p.science.mask.data[i] |= MaskPlane.CR;
  }
  for (const method of ['auto', 'zogy'] as const) {
    const r = await subtractImages(p.science, p.template, { method });
    const d = r.difference;
    let worst = 0;
    for (const [cx, cy] of crs) {
      for (let y = Math.round(cy) - 12; y <= Math.round(cy) + 12; y++) {
        for (let x = Math.round(cx) - 12; x <= Math.round(cx) + 12; x++) {
          if (d.mask.get(x, y) & MaskPlane.CR) continue;
          worst = Math.max(worst, Math.abs(d.image.get(x, y) / Math.sqrt(d.variance.get(x, y))));
        }
      }
    }
    assert.ok(worst < 5, `${method}: |IMAGE/sigma| ${worst} next to a masked cosmic ray`);
  }
});
