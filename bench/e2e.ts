/**
 * End to end on the emulators for one 4096 x 4096 detector, the default field and then the crowded
 * one (`ap simulate --crowded`): from the raw image's finalize in the raw bucket to its last alert
 * published and received by a broker, with the time of every stage (target: <= 10 s on 2 idle
 * cores, issue 19). The functions run in worker-thread instances as in `npm start`. CPU seconds per
 * detector: the CPU time of every thread but the main one (the function instances, their pools,
 * V8's and libuv's helpers) from the next_visit notice to the last alert at the broker, preload
 * included; the main thread (emulators, broker, harness) is reported apart. The figures are
 * appended with the commit to bench/records/e2e.jsonl (`compare`: and their change printed).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert } from '../shared/alerts/types.js';
import { readExposureWithHeader } from '../shared/fits/index.js';
import { gridCamera } from '../shared/prompt/camera.js';
import { mjdTaiOf } from '../shared/pipeline/index.js';
import { startBroker } from '../functions/night/broker.js';
import { startLocalCloud } from '../functions/night/cloud.js';
import { imageStages, STAGE_LABELS, STAGES } from '../functions/night/metrics.js';
import { NightMonitor, playVisit, uploadTemplates } from '../functions/night/play.js';
import { planSky, renderSky } from '../functions/night/sky.js';
import { CROWDED_SIM_CONFIG, type SimConfig } from '../shared/sim/config.js';
import { loadNow, recordRun, type Figures } from './records.js';

const SIZE = 4096;
const BORESIGHT: [number, number] = [150.1, 2.2];

function print(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(56)} ${value}\n`);
}

/** Linux's USER_HZ: /proc's CPU times are in these ticks. */
const CLOCK_TICKS_PER_S = 100;

/** CPU seconds of this process's main thread (user + system, from /proc). */
function mainThreadCpuS(): number {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    .split(') ')[1]
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

/** CPU seconds of the whole process, all threads. */
function processCpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** One alert as a JSON line, each cutout (a FITS file) as its sha256. */
function alertLine(alert: Alert): string {
  const digest = (b: Buffer | null) => b && createHash('sha256').update(b).digest('hex');
  return JSON.stringify(
    {
      ...alert,
      cutoutDifference: digest(alert.cutoutDifference),
      cutoutScience: digest(alert.cutoutScience),
      cutoutTemplate: digest(alert.cutoutTemplate),
    },
    (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v),
  );
}

/** The alerts received, sorted, to AP_BENCH_E2E_ALERTS/alerts-FIELD.jsonl. */
async function writeAlerts(field: string, lines: string[]): Promise<void> {
  const dir = process.env.AP_BENCH_E2E_ALERTS!;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `alerts-${field}.jsonl`), lines.sort().join('\n') + '\n');
}

export async function run(options: { compare?: boolean } = {}): Promise<void> {
  const load = loadNow();
  const figures: Figures = {};
  const only = process.env.AP_BENCH_E2E_FIELDS?.split(',');
  for (const [field, sim] of [
    ['default', {}],
    ['crowded', CROWDED_SIM_CONFIG],
  ] as Array<[string, Partial<SimConfig>]>)
    if (!only || only.includes(field)) Object.assign(figures, await measure(field, sim));
  recordRun('e2e', figures, Math.max(load, loadNow()), options.compare ?? false);
}

async function measure(field: string, sim: Partial<SimConfig>): Promise<Figures> {
  const logDir = process.env.AP_BENCH_E2E_LOG;
  if (logDir) await mkdir(logDir, { recursive: true });
  const cloud = await startLocalCloud({
    camera: { detectorSize: SIZE },
    concurrency: { processImage: 1 },
    ...(logDir ? { logFile: join(logDir, `e2e-${field}.log`) } : {}),
  });
  const scratch = await mkdtemp(join(tmpdir(), 'ap-bench-e2e-'));
  try {
    const plan = planSky(gridCamera('APSIM', SIZE, 14, 0.2), BORESIGHT, 'r', 1);
    const rendered = await renderSky(plan, {
      size: SIZE,
      visits: 1,
      seed: 11,
      band: 'r',
      startMjd: Number(process.env.AP_BENCH_E2E_MJD ?? mjdTaiOf(Date.now())),
      cadenceSeconds: 30,
      dir: scratch,
      parallel: 1,
      sim,
    });
    const kept: string[] = [];
    const keep = process.env.AP_BENCH_E2E_ALERTS
      ? (a: Alert) => kept.push(alertLine(a))
      : undefined;
    const broker = await startBroker(cloud.pubsub, 'bench-broker', keep);
    await uploadTemplates(cloud, plan, rendered, 'r');
    const quiet = () => {};
    const cpu0 = { process: processCpuS(), main: mainThreadCpuS() };
    const [image] = await playVisit(cloud, plan, rendered, 0, 'bench-e2e-1', {
      instrument: 'APSIM',
      band: 'r',
      boresight: BORESIGHT,
      cadenceSeconds: 30,
      preloadWaitSeconds: 120,
      progress: quiet,
    });
    const monitor = new NightMonitor(cloud, broker, quiet);
    monitor.track([image]);
    if (!(await monitor.drain(20 * 60_000)))
      throw new Error('the image was not processed within 20 minutes');
    // The invocation returns after the APDB write, which may end after the last alert.
    for (let waited = 0; !cloud.invocations.get(image.key)?.length && waited < 300; waited++)
      await new Promise((r) => setTimeout(r, 1000));
    const mainCpuS = mainThreadCpuS() - cpu0.main;
    const functionsCpuS = processCpuS() - cpu0.process - mainCpuS;
    const alerts = [...broker.alerts.values()];
    const published = cloud.logs.entries.find(
      (e) => e.message === 'alerts published' && e.key === image.key,
    );
    // A sliced batch logs each slice's latency; the batch's last line may have published nothing.
    const publishLatencies = cloud.logs.entries
      .filter(
        (e) =>
          (e.message === 'alerts published' || e.message === 'alerts published, batch sliced') &&
          e.key === image.key &&
          typeof e.readoutToAlertSecondsMax === 'number',
      )
      .map((e) => Number(e.readoutToAlertSecondsMax));
    const stages = imageStages(
      image,
      cloud.logs.entries,
      cloud.invocations.get(image.key) ?? [],
      alerts,
    );
    if (!stages)
      throw new Error(
        `no processing log for ${image.key}: ${JSON.stringify(cloud.deadLetters.map((d) => d.attributes.reason))}`,
      );
    const bytes = await readFile(rendered.get(image.detector)!.visits[0].file);
    const t = performance.now();
    readExposureWithHeader(bytes, 'raw.fits');
    const decode = (performance.now() - t) / 1000;
    const last = Math.max(...alerts.map((a) => a.receivedAt));
    const lastPublished = publishLatencies.length ? Math.max(...publishLatencies) : Number.NaN;
    process.stdout.write(
      `e2e, ${field} field: one ${SIZE} x ${SIZE} detector through the emulators (${String(cloud.logs.entries.find((e) => typeof e.tfBackend === 'string')?.tfBackend ?? '?')} TF.js backend)\n`,
    );
    print('alerts', String(alerts.length));
    print('finalize -> last alert published (target <= 20 s)', `${lastPublished.toFixed(2)} s`);
    print(
      'finalize -> last alert at the broker',
      `${((last - image.finalizedAt) / 1000).toFixed(2)} s`,
    );
    for (const k of STAGES)
      if (k !== 'total' && Number.isFinite(stages.stages[k]))
        print(`  ${STAGE_LABELS[k]}`, `${stages.stages[k].toFixed(2)} s`);
    print('  (FITS decode of the raw image alone)', `${decode.toFixed(2)} s`);
    const fanout = (published?.stagesMs ?? {}) as Record<string, number>;
    print(
      '  (fan-out: read stored result, publish, archive)',
      ['readResult', 'publish', 'archive']
        .map((k) => `${((fanout[k] ?? Number.NaN) / 1000).toFixed(2)}`)
        .join(' / ') + ' s',
    );
    const mb = alerts.reduce((n, a) => n + a.bytes, 0) / 2 ** 20;
    print(
      '  (alert sizes)',
      `${mb.toFixed(0)} MB in all, ${((mb * 1024) / Math.max(1, alerts.length)).toFixed(0)} KB each`,
    );
    print(
      'CPU seconds of the functions (preload to last alert)',
      `${functionsCpuS.toFixed(1)} s (main thread: emulators, broker ${mainCpuS.toFixed(1)} s)`,
    );
    await broker.close();
    if (keep) await writeAlerts(field, kept);
    const atBroker = (last - image.finalizedAt) / 1000;
    const out: Figures = {
      [`${field}.alerts`]: alerts.length,
      [`${field}.finalizeToLastAlertAtBrokerS`]: Number(atBroker.toFixed(2)),
      [`${field}.functionsCpuS`]: Number(functionsCpuS.toFixed(2)),
      [`${field}.mainThreadCpuS`]: Number(mainCpuS.toFixed(2)),
    };
    for (const k of STAGES)
      if (k !== 'total' && Number.isFinite(stages.stages[k]))
        out[`${field}.stage.${k}S`] = Number(stages.stages[k].toFixed(2));
    return out;
  } finally {
    await cloud.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`)
  await run({ compare: process.argv.includes('compare') });
