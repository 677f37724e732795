/**
 * Per-detector pipeline benchmark: a simulated 4096 x 4096 detector (AP_BENCH_PIPELINE_SIZE to
 * change), one visit. The template is prepared beforehand, as the preload step does; the clock
 * then runs from the science file's arrival (FITS bytes in memory) to the alerts built and
 * framed: wall and CPU time per stage, peak RSS, DIASources, alerts, alerts/s, TF.js backend.
 */
import { EmbeddedApdb } from '../shared/apdb/embedded.js';
import { readExposureWithHeader } from '../shared/fits/exposure.js';
import { loadRealBogus } from '../shared/pipeline/load-realbogus.js';
import {
  PIPELINE_STAGES,
  pipelineConfig,
  prepareTemplate,
  processDetector,
  type LogEntry,
  type PipelineStage,
} from '../shared/pipeline/index.js';
import { simulateNight } from '../shared/sim/night.js';
import { simulatedImageFits } from '../shared/sim/write.js';

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const s = (ms: number): string => (ms / 1000).toFixed(2).padStart(6);
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export async function run(): Promise<void> {
  const size = Number(process.env.AP_BENCH_PIPELINE_SIZE ?? 4096);
  let t = performance.now();
  const night = simulateNight({ size, seed: 21, visits: 1 });
  const sim = { seed: 21, fwhmPx: 0, skyAdu: 0 };
  const scienceBytes = simulatedImageFits(night.visits[0], sim);
  const templateBytes = simulatedImageFits(night.template, sim);
  const transients = night.truth.filter((r) => r.kind === 'transient' && r.expectedSnr >= 8);
  night.visits.length = 0;
  console.log(
    `pipeline: ${size}x${size} detector, 1 visit (simulated in ${((performance.now() - t) / 1000).toFixed(1)} s, not timed below)`,
  );

  t = performance.now();
  const c0 = cpuMs();
  const template = prepareTemplate(readExposureWithHeader(templateBytes, 'template.fits').exposure);
  console.log(
    `  preload: template read and characterized in ${s(performance.now() - t)} s wall, ${s(cpuMs() - c0)} s CPU (once per template, before the image arrives)`,
  );
  const logs: LogEntry[] = [];
  const realBogus = await loadRealBogus((e) => logs.push(e));

  const apdb = new EmbeddedApdb();
  const cpu: Partial<Record<PipelineStage, number>> = {};
  const rss: Partial<Record<PipelineStage, number>> = {};
  const arrival = performance.now();
  const cpuStart = cpuMs();
  let cpuLast = cpuStart;
  const { exposure, header } = readExposureWithHeader(scienceBytes, 'science.fits');
  const readMs = performance.now() - arrival;
  const readCpu = cpuMs() - cpuLast;
  cpuLast = cpuMs();
  const result = await processDetector(
    { science: exposure, scienceHeader: header, template, apdb, realBogus },
    pipelineConfig(),
    {
      log: (e) => logs.push(e),
      onStage: (stage) => {
        const now = cpuMs();
        cpu[stage] = now - cpuLast;
        cpuLast = now;
        rss[stage] = process.memoryUsage().rss;
      },
    },
  );
  const totalMs = performance.now() - arrival;
  const totalCpu = cpuMs() - cpuStart;
  t = performance.now();
  await apdb.storeVisit(result.association.batch);
  const storeMs = performance.now() - t;

  const st = result.stats;
  console.log(
    `  method ${result.method}, kernel sum ${st.kernelSum.toFixed(4)}, noise ratio ${st.noiseRatio.toFixed(3)}, sky-source noise ratio ${st.skySourceNoiseRatio.toFixed(3)}, TF.js backend ${result.tfBackend}, real/bogus ${st.reliabilityModel ?? 'skipped (no model)'}`,
  );
  console.log(`  stage                     wall s    CPU s   rss after`);
  console.log(`    ${'readScienceFits'.padEnd(22)}${s(readMs)}   ${s(readCpu)}`);
  for (const stage of PIPELINE_STAGES) {
    console.log(
      `    ${stage.padEnd(22)}${s(result.timingsMs[stage])}   ${s(cpu[stage] ?? 0)}   ${mb(rss[stage] ?? 0)}`,
    );
  }
  console.log(
    `    ${'arrival -> alerts'.padEnd(22)}${s(totalMs)}   ${s(totalCpu)}   (target <= ~20 s)`,
  );
  console.log(`    ${'store in APDB (caller)'.padEnd(22)}${s(storeMs)}`);
  const bytes = result.frames.reduce((n, f) => n + f.length, 0);
  const found = transients.filter((t) =>
    result.diaSources.some((d) => Math.hypot(d.x - t.x, d.y - t.y) <= 1.5),
  ).length;
  console.log(
    `  DIASources ${st.diaSources} (${st.positive} positive, ${st.negative} negative, ${st.dipoles} dipoles), ${found}/${transients.length} injected transients of expected SNR >= 8 found within 1.5 px; alerts ${st.alerts} (${mb(bytes)} framed, ${(bytes / Math.max(1, st.alerts) / 1024).toFixed(0)} KB each)`,
  );
  console.log(
    `  alerts/s ${(st.alerts / (totalMs / 1000)).toFixed(1)} end to end, ${(st.alerts / (result.timingsMs.alerts / 1000)).toFixed(0)} in the alert stage; peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
