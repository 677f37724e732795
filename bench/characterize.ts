/**
 * Characterisation benchmark: one simulated 4096 x 4096 science visit (shared/sim, rendered alone),
 * variance left to be derived; prints wall and CPU time, memory in use and peak RSS after each stage.
 * AP_BENCH_CHARACTERIZE_FILES=a.fits,b.fits characterizes those files instead, each as `ap diff`
 * does (then its noise correlation), e.g. the crowded pair of `ap simulate --crowded`.
 */
import { readFileSync } from 'node:fs';
import {
  characterizeImage,
  fwhmRange,
  type CharacterizeResult,
  type CharacterizeStage,
} from '../shared/characterize/characterize.js';
import { characterizeNoiseCorrelation } from '../shared/characterize/noise-correlation-estimate.js';
import type { Exposure } from '../shared/image/exposure.js';
import { readExposure } from '../shared/fits/exposure.js';
import { planNight, renderImage } from '../shared/sim/night.js';

const SIZE = 4096;
const MiB = 2 ** 20;

export async function run(): Promise<void> {
  const files = process.env.AP_BENCH_CHARACTERIZE_FILES;
  if (files) {
    for (const file of files.split(',')) {
      console.log(`characterize ${file}:`);
      const exposure = readExposure(readFileSync(file), file);
      const cpu = process.cpuUsage();
      const result = characterizeStaged(exposure);
      const nc = performance.now();
      characterizeNoiseCorrelation(exposure, result.psf.fwhmPx);
      const used = process.cpuUsage(cpu);
      console.log(
        `  noise correlation ${(performance.now() - nc).toFixed(0)} ms; characterization + noise correlation: cpu ${((used.user + used.system) / 1e6).toFixed(2)} s`,
      );
    }
    return;
  }
  const t0 = performance.now();
  const plan = planNight({ size: SIZE, visits: 1, seed: 4 });
  const sim = renderImage(plan, plan.visits[0]).image;
  const exposure = sim.exposure;
  exposure.variance.fill(Number.NaN);
  console.log(
    `characterize ${SIZE}x${SIZE}: simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s, rss ${(process.memoryUsage().rss / MiB).toFixed(0)} MiB before`,
  );
  characterizeStaged(exposure);
}

/** characterizeImage with wall and CPU time, memory in use and peak RSS printed per stage, then the result's figures. */
function characterizeStaged(exposure: Exposure): CharacterizeResult {
  const rows: string[] = [];
  let wall = performance.now();
  let cpu = process.cpuUsage();
  const onStage = (stage: CharacterizeStage): void => {
    const used = process.cpuUsage(cpu);
    const mem = process.memoryUsage();
    rows.push(
      `  ${stage.padEnd(11)} wall ${(performance.now() - wall).toFixed(0).padStart(6)} ms  cpu ${((used.user + used.system) / 1000).toFixed(0).padStart(6)} ms  ` +
        `in use ${((mem.heapUsed + mem.arrayBuffers) / MiB).toFixed(0).padStart(5)} MiB  peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0).padStart(5)} MiB`,
    );
    wall = performance.now();
    cpu = process.cpuUsage();
  };
  const result = characterizeImage(exposure, {}, onStage);
  console.log(rows.join('\n'));
  const t = result.timingsMs;
  console.log(
    `  total ${(t.total / 1000).toFixed(2)} s (defects ${t.defects.toFixed(0)}, background ${t.background.toFixed(0)}, variance ${t.variance.toFixed(0)}, ` +
      `cosmicRays ${t.cosmicRays.toFixed(0)}, starSelect ${t.starSelect.toFixed(0)}, psf ${t.psf.toFixed(0)} ms)`,
  );
  const p = result.psf;
  const range = fwhmRange(p.psf, exposure.width, exposure.height);
  console.log(
    `  psf ${p.kind} degree ${p.degree}, ${p.nStars} stars, FWHM ${p.fwhmPx.toFixed(3)} px (range ${range.minPx.toFixed(2)}-${range.maxPx.toFixed(2)}), ` +
      `chi2/dof ${p.chi2PerDof.toFixed(3)}; ${result.crCount} CRs (${result.crPixels} px); variance measured/predicted ${result.variance.measuredToPredicted.toFixed(4)}`,
  );
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
