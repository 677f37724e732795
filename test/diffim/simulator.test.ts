/**
 * `ap simulate` pairs (Moffat PSFs, variable stars, transients, a warped template) through
 * runDiff, template seeing better and worse than the science's: the photometric scale (KERNSUM)
 * agrees with the zero-point ratio of the two images to 0.5 % for every method, and where nothing
 * changed IMAGE/sqrt(VARIANCE) has unit std and (on a changeless pair) a flat noise power spectrum
 * for both methods: the decorrelation (DMTN-021) and ZOGY whiten the difference given each input's
 * noise spectrum, the warped template's being the one Lanczos resampling left (shared/warp).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { runDiff } from '../../shared/diffim/pipeline.js';
import { Exposure } from '../../shared/image/exposure.js';
import type { ImageF } from '../../shared/image/plane.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { simulateNight, type TemplateSeeing, type TruthRow } from '../../shared/sim/index.js';
import { psfFlux } from './render.js';
import { clippedStats } from '../../shared/util/stats.js';
import { radialPowerBins } from './radial-power.js';
import { Fft2 } from '../../shared/util/fft.js';

const copy = (e: Exposure): Exposure =>
  new Exposure(
    e.image.clone(),
    e.mask.clone(),
    e.variance.clone(),
    e.wcs,
    e.psf,
    e.info,
    e.noiseCorrelation,
  );
const BAD = MaskPlane.EDGE | MaskPlane.NO_DATA | MaskPlane.SAT | MaskPlane.CR | MaskPlane.BAD;

for (const seeing of ['better', 'worse'] as TemplateSeeing[]) {
  test(`simulated pair, template seeing ${seeing}: KERNSUM is the zero-point ratio to 0.5 %, IMAGE/sqrt(VARIANCE) std 1.00 +- 0.05 for AL and ZOGY`, async () => {
    const night = simulateNight({ size: 1024, seed: 11, visits: 1, templateSeeing: seeing });
    const science = night.visits[0],
      template = night.template;
    const truth = Math.pow(
      10,
      0.4 * (science.exposure.info.zeroPoint - template.exposure.info.zeroPoint),
    );
    for (const method of ['auto', 'zogy'] as const) {
      const r = await runDiff(copy(science.exposure), copy(template.exposure), {
        subtract: { method },
      });
      assert.ok(
        Math.abs(r.kernelSum / truth - 1) < 0.005,
        `${r.method}: KERNSUM ${r.kernelSum} vs zero-point ratio ${truth}`,
      );
      // Source-free pixels: the science's light above the sky (changes included) is below 0.05 sigma.
      const d = r.difference;
      const vals: number[] = [];
      for (let i = 0; i < d.image.data.length; i++) {
        const light = science.noiseless.data[i] - science.background.data[i];
        if (
          light > 0.05 * Math.sqrt(science.exposure.variance.data[i]) ||
          d.mask.data[i] & BAD ||
          !(d.variance.data[i] > 0)
        )
          continue;
        vals.push(d.image.data[i] / Math.sqrt(d.variance.data[i]));
      }
      const std = clippedStats(vals, 5).std;
      assert.ok(
        Math.abs(std - 1) < 0.05,
        `${r.method}: IMAGE/sqrt(VARIANCE) std ${std} on source-free pixels`,
      );
    }
  });

  test(`simulated pair, template seeing ${seeing}: isolated transients' fluxes on the difference match the science's and the truth to 1 %, no non-varying star reaches |SNR| 6`, async () => {
    const night = simulateNight({
      size: 1024,
      seed: 11,
      visits: 1,
      templateSeeing: seeing,
      streakProbability: 0,
      movingPerMegapixel: 0,
      transientsPerMegapixel: 150,
      transientMagSpan: [5, 0],
    });
    const sim = night.visits[0];
    const pixels = sim.exposure.wcs!.skyToPixel({
      ra: night.field.stars.ra,
      dec: night.field.stars.dec,
    });
    for (const method of ['auto', 'zogy'] as const) {
      const science = copy(sim.exposure);
      const r = await runDiff(science, copy(night.template.exposure), { subtract: { method } });
      const d = r.difference,
        reach = 2 * r.psfFwhmPx;
      const clean = (x: number, y: number): boolean => !masked(d, x, y, reach);
      const nearChange = (x: number, y: number, radius: number, self?: TruthRow): boolean =>
        night.truth.some((o) => o !== self && Math.hypot(o.x - x, o.y - y) < radius);
      // Transients well above the noise, away from masks, other changes and any star brighter than 5 % of them:
      // measured with each image's own PSF model, the difference must hold the flux the science holds, and the truth.
      let weight = 0,
        sumRatio = 0,
        sumTruth = 0;
      for (const t of night.truth) {
        if (
          t.kind !== 'transient' ||
          t.host ||
          !(t.expectedSnr >= 30) ||
          !clean(t.x, t.y) ||
          nearChange(t.x, t.y, 2 * reach, t)
        )
          continue;
        if (
          night.field.stars.mag.some(
            (m, i) =>
              Math.hypot(pixels.x[i] - t.x, pixels.y[i] - t.y) < 2 * reach &&
              Math.pow(10, -0.4 * (m - sim.exposure.info.zeroPoint)) > 0.05 * t.deltaFluxAdu,
          )
        )
          continue;
        const onDiff = psfFlux(d, t.x, t.y),
          onScience = psfFlux(science, t.x, t.y);
        const w = (t.deltaFluxAdu / onDiff.err) ** 2;
        weight += w;
        sumRatio += (w * onDiff.flux) / onScience.flux;
        sumTruth += (w * onDiff.flux) / t.deltaFluxAdu;
      }
      assert.ok(
        weight > 0 && Math.abs(sumRatio / weight - 1) < 0.01,
        `${r.method}: difference / science flux of isolated transients ${sumRatio / weight}`,
      );
      assert.ok(
        Math.abs(sumTruth / weight - 1) < 0.01,
        `${r.method}: difference flux of isolated transients / truth ${sumTruth / weight}`,
      );
      // Non-varying stars below saturation (masks mark the saturated ones and their bleeds).
      let stars = 0,
        worst = 0;
      for (let i = 0; i < pixels.x.length; i++) {
        const x = pixels.x[i],
          y = pixels.y[i];
        if (
          x < 0 ||
          y < 0 ||
          x >= d.width ||
          y >= d.height ||
          !clean(x, y) ||
          nearChange(x, y, 1.5 * reach)
        )
          continue;
        const m = psfFlux(d, x, y);
        worst = Math.max(worst, Math.abs(m.flux / m.err));
        stars++;
      }
      assert.ok(
        stars > 500 && worst < 6,
        `${r.method}: worst star residual |SNR| ${worst} of ${stars} stars`,
      );
    }
  });

  test(`simulated pair without changes, template seeing ${seeing}: noise power of AL and ZOGY flat to 10 %`, async () => {
    const night = simulateNight({
      size: 1024,
      seed: 11,
      visits: 1,
      templateSeeing: seeing,
      streakProbability: 0,
      transientsPerMegapixel: 0,
      variablesPerMegapixel: 0,
      movingPerMegapixel: 0,
    });
    const sims = [night.visits[0], night.template];
    // Both images characterized as runDiff would, then a twin of each holding only its noiseless
    // star light: every filter is linear, so the difference of the two runs is the filtered noise
    // alone (the stars' residuals, from PSF model errors, are not noise; docs/diffim/README.md).
    const noisy = sims.map((s) => {
      const e = copy(s.exposure);
      characterizeImage(e, {});
      return e;
    });
    const light = noisy.map((e, k) => {
      const twin = copy(e);
      const { noiseless, background } = sims[k];
      for (let i = 0; i < twin.image.data.length; i++)
        twin.image.data[i] = noiseless.data[i] - background.data[i];
      return twin;
    });
    for (const method of ['auto', 'zogy'] as const) {
      const a = await runDiff(copy(noisy[0]), copy(noisy[1]), {
        characterize: false,
        subtract: { method },
      });
      const b = await runDiff(copy(light[0]), copy(light[1]), {
        characterize: false,
        subtract: { method },
      });
      const noise = a.difference.image.clone();
      for (let i = 0; i < noise.data.length; i++) noise.data[i] -= b.difference.image.data[i];
      const p = noisePower(a.difference, noise);
      const mean = p.reduce((s, v) => s + v, 0) / p.length;
      assert.ok(
        p.every((v) => Math.abs(v / mean - 1) < 0.1),
        `${a.method} noise power ${p.map((v) => (v / mean).toFixed(3))}`,
      );
    }
  });
}

/** True when a pixel within `radius` of (x, y) is masked as unusable or lies off the image. */
function masked(d: Exposure, x: number, y: number, radius: number): boolean {
  const r = Math.ceil(radius),
    cx = Math.round(x),
    cy = Math.round(y);
  for (let py = cy - r; py <= cy + r; py++) {
    for (let px = cx - r; px <= cx + r; px++)
      if (px < 0 || py < 0 || px >= d.width || py >= d.height || d.mask.get(px, py) & BAD)
        return true;
  }
  return false;
}

/** Power of image/sqrt(VARIANCE) over the central 512^2 in 8 radial bins up to Nyquist (white noise: flat). */
function noisePower(d: Exposure, image: ImageF): number[] {
  const n = 512,
    x0 = 256,
    y0 = 256;
  const fft = new Fft2(n),
    a = fft.alloc();
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const i = (y + y0) * d.width + x + x0;
      a[2 * (y * n + x)] = d.mask.data[i] & BAD ? 0 : image.data[i] / Math.sqrt(d.variance.data[i]);
    }
  }
  fft.forward(a);
  return radialPowerBins(a, n);
}
