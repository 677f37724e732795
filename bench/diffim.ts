/**
 * Image subtraction benchmark: a simulated 4096 x 4096 pair (AP_BENCH_DIFFIM_SIZE to change),
 * the whole `ap diff` task per method (characterize, warp, subtract) with the wall time, the CPU
 * time (all threads) and the resident memory at the end of each stage, and the TF.js backend.
 * On a shared machine the CPU time is the steadier figure.
 */
import { initTf, tfBackendName } from '../shared/tf/backend.js';
import { simulateNight } from '../shared/sim/night.js';
import { Exposure } from '../shared/image/exposure.js';
import { runDiff, type DiffStage } from '../shared/diffim/pipeline.js';
import type { SubtractMethodChoice } from '../shared/diffim/config.js';

function copy(e: Exposure): Exposure {
  return new Exposure(e.image.clone(), e.mask.clone(), e.variance.clone(), e.wcs, null, { ...e.info });
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

export async function run(): Promise<void> {
  await initTf(undefined, () => {});
  const size = Number(process.env.AP_BENCH_DIFFIM_SIZE ?? 4096);
  console.log(`diffim: ${size}x${size} pair, TF.js backend ${tfBackendName()} (subtraction itself runs on fft.js tiles and typed arrays)`);
  const t0 = performance.now();
  const night = simulateNight({ size, seed: 11, visits: 1 });
  console.log(`  simulate: ${((performance.now() - t0) / 1000).toFixed(1)} s (not part of ap diff)`);
  for (const method of ['auto', 'zogy'] as SubtractMethodChoice[]) {
    const rows: Array<[DiffStage, number, number]> = [];
    const start = performance.now();
    let cpu = process.cpuUsage();
    const r = await runDiff(copy(night.visits[0].exposure), copy(night.template.exposure), { subtract: { method } }, (stage) => {
      const used = process.cpuUsage(cpu);
      cpu = process.cpuUsage();
      rows.push([stage, process.memoryUsage().rss, (used.user + used.system) / 1e6]);
    });
    const wall = performance.now() - start;
    console.log(`  method ${method} -> ${r.method}: ${(wall / 1000).toFixed(2)} s, kernel sum ${r.kernelSum.toFixed(4)}, PSF FWHM ${r.psfFwhmPx.toFixed(2)} px, noise ratio ${r.stats.noiseRatio.toFixed(3)}, candidates ${r.stats.candidatesUsed}/${r.stats.candidates.length}`);
    // CPU seconds of this process (main thread; pool workers' CPU counts too, as they share the process).
    for (const [stage, rss, cpuS] of rows) console.log(`    ${stage.padEnd(22)} wall ${(r.timingsMs[stage] / 1000).toFixed(2).padStart(6)} s   cpu ${cpuS.toFixed(2).padStart(6)} s   rss ${mb(rss)}`);
    console.log(`    peak rss so far ${mb(process.resourceUsage().maxRSS * 1024)}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
