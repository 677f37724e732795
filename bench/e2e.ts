/**
 * End to end on the emulators for one 4096 x 4096 detector: from the raw image's finalize in the
 * raw bucket to its last alert published and received by a broker, with the time of every stage
 * (target: <= 20 s on 2 cores). The functions run in worker-thread instances as in `npm start`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExposureWithHeader } from '../shared/fits/index.js';
import { gridCamera } from '../shared/prompt/camera.js';
import { mjdTaiOf } from '../shared/pipeline/index.js';
import { startBroker } from '../functions/night/broker.js';
import { startLocalCloud } from '../functions/night/cloud.js';
import { imageStages, STAGE_LABELS, STAGES } from '../functions/night/metrics.js';
import { NightMonitor, playVisit, uploadTemplates } from '../functions/night/play.js';
import { planSky, renderSky } from '../functions/night/sky.js';

const SIZE = 4096;
const BORESIGHT: [number, number] = [150.1, 2.2];

function print(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(56)} ${value}\n`);
}

export async function run(): Promise<void> {
  const cloud = await startLocalCloud({
    camera: { detectorSize: SIZE },
    concurrency: { processImage: 1 },
  });
  const scratch = await mkdtemp(join(tmpdir(), 'ap-bench-e2e-'));
  try {
    const plan = planSky(gridCamera('APSIM', SIZE, 14, 0.2), BORESIGHT, 'r', 1);
    const rendered = await renderSky(plan, {
      size: SIZE,
      visits: 1,
      seed: 11,
      band: 'r',
      startMjd: mjdTaiOf(Date.now()),
      cadenceSeconds: 30,
      dir: scratch,
      parallel: 1,
    });
    const broker = await startBroker(cloud.pubsub, 'bench-broker');
    await uploadTemplates(cloud, plan, rendered, 'r');
    const quiet = () => {};
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
    const alerts = [...broker.alerts.values()];
    const published = cloud.logs.entries.find(
      (e) => e.message === 'alerts published' && e.key === image.key,
    );
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
    const lastPublished = published ? Number(published.readoutToAlertSecondsMax) : Number.NaN;
    process.stdout.write(
      `e2e: one ${SIZE} x ${SIZE} detector through the emulators (${String(cloud.logs.entries.find((e) => typeof e.tfBackend === 'string')?.tfBackend ?? '?')} TF.js backend)\n`,
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
    await broker.close();
  } finally {
    await cloud.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
