/**
 * `ap simulate` pairs (Moffat PSFs, variable stars, transients, a warped template) through
 * runDiff, template seeing better and worse than the science's: the photometric scale (KERNSUM)
 * agrees with the zero-point ratio of the two images to 0.5 % for every method, and where nothing
 * changed ZOGY's IMAGE/sqrt(VARIANCE) has unit std with the template sharper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDiff } from '../../shared/diffim/pipeline.js';
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { simulateNight, type TemplateSeeing } from '../../shared/sim/index.js';
import { clippedStats } from '../../shared/util/stats.js';

const copy = (e: Exposure): Exposure => new Exposure(e.image.clone(), e.mask.clone(), e.variance.clone(), e.wcs, e.psf, e.info);

for (const seeing of ['better', 'worse'] as TemplateSeeing[]) {
  test(`simulated pair, template seeing ${seeing}: KERNSUM is the zero-point ratio to 0.5 % for AL and ZOGY`, async () => {
    const night = simulateNight({ size: 1024, seed: 11, visits: 1, templateSeeing: seeing });
    const science = night.visits[0], template = night.template;
    const truth = Math.pow(10, 0.4 * (science.exposure.info.zeroPoint - template.exposure.info.zeroPoint));
    for (const method of ['auto', 'zogy'] as const) {
      const r = await runDiff(copy(science.exposure), copy(template.exposure), { subtract: { method } });
      assert.ok(Math.abs(r.kernelSum / truth - 1) < 0.005, `${r.method}: KERNSUM ${r.kernelSum} vs zero-point ratio ${truth}`);
      // Template seeing worse: ZOGY's output is dominated at high frequency by the warped template's
      // noise, which resampling correlated (docs/diffim/README.md); not yet modelled.
      if (method !== 'zogy' || seeing === 'worse') continue;
      // Source-free pixels: the science's light above the sky (changes included) is below 0.05 sigma.
      const d = r.difference;
      const bad = MaskPlane.EDGE | MaskPlane.NO_DATA | MaskPlane.SAT | MaskPlane.CR | MaskPlane.BAD;
      const vals: number[] = [];
      for (let i = 0; i < d.image.data.length; i++) {
        const light = science.noiseless.data[i] - science.background.data[i];
        if (light > 0.05 * Math.sqrt(science.exposure.variance.data[i]) || d.mask.data[i] & bad || !(d.variance.data[i] > 0)) continue;
        vals.push(d.image.data[i] / Math.sqrt(d.variance.data[i]));
      }
      const std = clippedStats(vals, 5).std;
      assert.ok(Math.abs(std - 1) < 0.05, `ZOGY: IMAGE/sqrt(VARIANCE) std ${std} on source-free pixels`);
    }
  });
}
