/**
 * `npm start`: a simulated observing night, end to end, on the local emulators.
 *
 *   npm start -- [--visits 6] [--detectors 4] [--size 2048] [--seed 1] [--out night-report]
 *                [--cadence 30] [--instances 2] [--timeout 30] [--template-inputs 6]
 *                [--direct-templates]
 *
 * Starts the emulators in process (on firebase.json's ports where free) and prints their
 * variables on stdout; creates the buckets, topics, the raw bucket's notification, dead-letter
 * topics and the triggers; makes the templates: each detector's template-input visits rendered and
 * sent through processImage and templateBuilder, which builds and freezes each tile's coadd
 * (./template-stage.ts; `--direct-templates`: a simulated template per detector put in the bucket);
 * renders the night's visits; then plays the night: per visit a next_visit notice, the preload,
 * and every detector's image written to the raw bucket at once. A sample broker consumes the
 * alerts. At the end `night-report/` holds report.json, index.html and functions.log.jsonl.
 * Progress on stderr.
 */
import { formatOrbitsCsv } from '../../shared/solar/orbit.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gridCamera } from '../../shared/prompt/camera.js';
import { mjdTaiOf } from '../../shared/pipeline/index.js';
import { startBroker } from './broker.js';
import { DEFAULT_PORTS, portFrom } from '../../emulators/main.js';
import { ARCHIVE_PORT, DEFAULT_CAMERA, startLocalCloud, type LocalCloud } from './cloud.js';
import { startNightFilters, type FilterOutcome } from './filters.js';
import { TOPICS } from '../../shared/cloud/names.js';
import { scienceSummaryLines } from './metrics.js';
import { groupIdOf, NightMonitor, playVisit, uploadTemplates, type PlayedImage } from './play.js';
import { buildReport, writeReport } from './report.js';
import { templateFigures, templateSummaryLine } from './templates.js';
import { planSky, renderSky, truthOf } from './sky.js';
import { runTemplateStage, type TemplateStageFacts } from './template-stage.js';
import { TEMPLATE_CONFIG_ENV, TEMPLATE_MIN_CANDIDATES_ENV } from '../template-builder.js';
import { templateKey } from '../../shared/prompt/template-tiles.js';

const USAGE = `usage: npm start -- [--visits 6] [--detectors 4] [--size 2048] [--seed 1] [--out night-report]
                    [--cadence 30] [--instances 2] [--timeout 30] [--template-inputs 6] [--direct-templates]
                    [--keep] [--archive-port ${ARCHIVE_PORT}]

  --visits N      science visits of the night (default 6)
  --detectors N   detectors per visit (default 4)
  --size N        detector side, pixels (default 2048)
  --seed S        seed of the simulated sky (default 1)
  --out DIR       report folder (default night-report)
  --cadence S     seconds from one visit to the next, as the camera exposes (default 30)
  --instances N   processImage instances (default 2: one a core)
  --timeout M     minutes to wait for the last alerts before reporting what arrived (default 30)
  --template-inputs N  template-input visits per detector, sent through processImage and templateBuilder
                  before the night, which builds and freezes each tile's coadd from them (default 6)
  --direct-templates   instead, a simulated deep template per detector put in the templates bucket
  --keep          after the report, keep the emulators and the alert archive up (ports ${DEFAULT_PORTS.pubsub}, ${DEFAULT_PORTS.storage},
                  ${DEFAULT_PORTS.firestore} and ${ARCHIVE_PORT}) until interrupted (Ctrl-C), for brokers to read the night

  --archive-port P  the alert archive's port (default ${ARCHIVE_PORT})

The emulators run on the fixed ports above (or those PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST and
FIRESTORE_EMULATOR_HOST name, as for 'npm run emulators'); when 'npm run emulators' already runs
there, the night uses those (a broker may subscribe before it starts) and leaves them running.`;

const BORESIGHT: [number, number] = [150.1, 2.2];
const BAND = 'r';

/**
 * The template knobs of the night's builds (shared/template/config.ts), unless AP_TEMPLATE_CONFIG is
 * set: an input at least 3/4 on a tile's grid, so that the tiles a detector only touches are left
 * waiting (with that reason) instead of built from its edges.
 */
const NIGHT_TEMPLATE_CONFIG = { minOverlapFraction: 0.75 };

function integer(
  values: Record<string, string | boolean | undefined>,
  name: string,
  fallback: number,
  lo: number,
  hi: number,
): number {
  const text = values[name];
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw new RangeError(`--${name} must be an integer in [${lo}, ${hi}], got '${String(text)}'`);
  return n;
}

const progress = (line: string) => process.stderr.write(`${line}\n`);

/** One example filter's line of the summary: its matches, and where each went. */
function filterLine(x: FilterOutcome): string {
  const verdict = x.exact
    ? 'exactly those'
    : x.missing === 0 && x.extra === 0 && x.altered === 0
      ? 'the rest dead-lettered with a reason'
      : `NOT the same set: ${x.missing} missing (neither received nor dead-lettered), ${x.extra} unmatched`;
  return `filter ${x.name} (${x.where}): ${x.matched} matched, its stream received ${x.received} (${x.duplicates} duplicates, ${x.deadLettered} dead-lettered, ${x.altered} altered), ${verdict}`;
}

/** `--keep`: the emulators and the archive stay up, on the ports printed above, until SIGINT or SIGTERM. */
async function keepUntilInterrupted(cloud: LocalCloud): Promise<void> {
  process.stdout.write(
    `kept up until interrupted (Ctrl-C): emulators ${Object.values(cloud.emulators.env).join(', ')}; archive ${cloud.archiveUrl}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  progress('interrupted: stopping the emulators and the archive');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      visits: { type: 'string' },
      detectors: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      cadence: { type: 'string' },
      instances: { type: 'string' },
      timeout: { type: 'string' },
      keep: { type: 'boolean' },
      'template-inputs': { type: 'string' },
      'direct-templates': { type: 'boolean' },
      'archive-port': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const visits = integer(values, 'visits', 6, 1, 100);
  const detectorCount = integer(values, 'detectors', 4, 1, 25);
  const size = integer(values, 'size', 2048, 256, 8192);
  const seed = integer(values, 'seed', 1, 0, 2 ** 31 - 1);
  const cadence = integer(values, 'cadence', 30, 0, 3600);
  const instances = integer(values, 'instances', 2, 1, 16);
  const timeoutMinutes = integer(values, 'timeout', 30, 1, 24 * 60);
  const templateInputs = values['direct-templates']
    ? 0
    : integer(values, 'template-inputs', 6, 3, 36);
  if (templateInputs) {
    // Each tile is built once it holds every input of its detector; the instances read these at start.
    process.env[TEMPLATE_CONFIG_ENV] ||= JSON.stringify(NIGHT_TEMPLATE_CONFIG);
    process.env[TEMPLATE_MIN_CANDIDATES_ENV] = String(templateInputs);
  }
  const out = resolve(values.out ?? 'night-report');
  const started = Date.now();
  const stalls = monitorEventLoopDelay({ resolution: 20 });
  stalls.enable();
  await mkdir(out, { recursive: true });

  const cloud = await startLocalCloud({
    ports: {
      pubsub: portFrom(undefined, process.env.PUBSUB_EMULATOR_HOST, DEFAULT_PORTS.pubsub),
      storage: portFrom(undefined, process.env.STORAGE_EMULATOR_HOST, DEFAULT_PORTS.storage),
      firestore: portFrom(undefined, process.env.FIRESTORE_EMULATOR_HOST, DEFAULT_PORTS.firestore),
      archive: integer(values, 'archive-port', ARCHIVE_PORT, 1, 65535),
    },
    camera: { detectorSize: size },
    concurrency: { processImage: instances, templateBuilder: templateInputs ? 1 : 0 },
    logFile: join(out, 'functions.log.jsonl'),
  });
  const scratch = await mkdtemp(join(tmpdir(), 'ap-night-'));
  try {
    for (const [name, value] of Object.entries(cloud.emulators.env))
      process.stdout.write(`export ${name}=${value}\n`);
    process.stdout.write(`export AP_ARCHIVE_URL=${cloud.archiveUrl}\n`);
    process.stdout.write(`# alert archive: ${cloud.archiveUrl}/v1/alerts/{diaSourceId}\n`);
    if (cloud.emulators.reused)
      progress(
        `emulators: reusing those running on ${Object.values(cloud.emulators.env).join(', ')}`,
      );
    const camera = gridCamera(
      DEFAULT_CAMERA.instrument,
      size,
      DEFAULT_CAMERA.detectorsPerSide,
      DEFAULT_CAMERA.pixelScaleArcsec,
    );
    const plan = planSky(camera, BORESIGHT, BAND, detectorCount, templateInputs > 0);
    progress(
      `night: ${visits} visits x ${plan.detectors.length} detectors (${plan.detectors.map((d) => d.detector).join(', ')}) of ${size} x ${size} px, seed ${seed}`,
    );

    const sky = {
      size,
      visits,
      seed,
      band: BAND,
      startMjd: mjdTaiOf(Date.now()),
      cadenceSeconds: cadence,
      dir: scratch,
      parallel: 2,
    };
    let renderSeconds = 0;
    let stage: TemplateStageFacts | null = null;
    const templateFiles = new Map<number, string>();
    if (templateInputs) {
      const inputStart = Date.now();
      const inputs = await renderSky(plan, { ...sky, inputs: templateInputs }, (r) =>
        progress(
          `sky: detector ${r.detector}: ${r.visits.length} template inputs rendered (${r.seconds.toFixed(1)} s)`,
        ),
      );
      renderSeconds += (Date.now() - inputStart) / 1000;
      stage = await runTemplateStage(cloud, plan, inputs, {
        instrument: DEFAULT_CAMERA.instrument,
        band: BAND,
        timeoutMs: timeoutMinutes * 60_000,
        progress,
      });
      // The night's own candidates wait on template-candidates: the tiles are frozen, and on two cores the builder would only take processImage's.
      await cloud.stopTemplateBuilder();
      for (const d of plan.detectors) {
        const file = cloud.buckets.templates.file(templateKey(BAND, d.tile));
        if (!(await file.exists())[0]) continue;
        const path = join(scratch, `template-${d.tile}.fits`);
        await file.download({ destination: path });
        templateFiles.set(d.detector, path);
      }
    }
    const renderStart = Date.now();
    const rendered = await renderSky(plan, { ...sky, templateFiles }, (r) =>
      progress(
        `sky: detector ${r.detector} rendered (${r.templateFile ? 'template and ' : ''}${r.visits.length} visits, ${r.seconds.toFixed(1)} s)`,
      ),
    );
    renderSeconds += (Date.now() - renderStart) / 1000;
    const truth = truthOf(rendered);

    const broker = await startBroker(cloud.pubsub);
    const transients = [
      ...new Map(truth.filter((t) => t.kind === 'transient').map((t) => [t.id, t])).values(),
    ];
    const nightFilters = await startNightFilters(cloud, BORESIGHT, transients);
    if (!templateInputs) {
      await uploadTemplates(cloud, plan, rendered, BAND);
      progress(`templates: ${plan.detectors.length} uploaded to ${cloud.buckets.templates.name}`);
    }
    // The simulated asteroids' orbits are the known-object catalogue the preload predicts from.
    const orbitsByDetector = new Map([...rendered.values()].map((r) => [r.detector, r.orbits]));
    const orbits = [...rendered.values()].flatMap((r) => r.orbits);
    await cloud.buckets.orbits
      .file('orbits.csv')
      .save(formatOrbitsCsv(orbits), { contentType: 'text/csv' });
    progress(`orbits: ${orbits.length} known objects uploaded to ${cloud.buckets.orbits.name}`);

    const observeStart = Date.now();
    const monitor = new NightMonitor(cloud, broker, progress);
    const images: PlayedImage[] = [];
    const playOptions = {
      instrument: DEFAULT_CAMERA.instrument,
      band: BAND,
      boresight: BORESIGHT,
      cadenceSeconds: cadence,
      preloadWaitSeconds: Math.max(cadence, 5),
      progress,
    };
    for (let k = 0; k < visits; k++) {
      const visitStart = Date.now();
      const played = await playVisit(
        cloud,
        plan,
        rendered,
        k,
        groupIdOf(new Date(observeStart), k + 1),
        playOptions,
      );
      images.push(...played);
      monitor.track(played);
      while (k < visits - 1 && Date.now() < visitStart + cadence * 1000) {
        monitor.report();
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const complete = await monitor.drain(timeoutMinutes * 60_000);
    if (!complete) progress(`night: timed out after ${timeoutMinutes} min; reporting what arrived`);
    // Late duplicates would show within a moment of the last alert.
    await new Promise((r) => setTimeout(r, 1000));
    const observeSeconds = (Date.now() - observeStart) / 1000;
    const wallSeconds = (Date.now() - started) / 1000;

    const report = buildReport(
      {
        visits,
        detectors: plan.detectors.map((d) => d.detector),
        size,
        seed,
        concurrency: {
          nextVisit: 1,
          processImage: instances,
          alertFanout: 1,
          templateBuilder: templateInputs ? 1 : 0,
        },
        wallSeconds,
        mainThreadMaxStallSeconds: stalls.max / 1e9,
        renderSeconds,
        observeSeconds,
        complete,
      },
      cloud,
      broker,
      images,
      truth,
      orbitsByDetector,
    );
    report.templates = await templateFigures(
      cloud,
      BAND,
      plan.detectors.map((d) => d.tile),
      stage,
    );
    const { outcomes: filters, ...filtering } = await nightFilters.finish(broker.alerts.size);
    report.filters = filters;
    report.filtering = filtering;
    for (const d of filtering.deadLetters)
      report.deadLetters.push({ topic: TOPICS.alerts, reason: d.reason, objectId: null });
    await writeReport(out, report, broker, images, truth, cloud.archiveUrl);
    await writeFile(join(out, 'filters.json'), `${JSON.stringify(filters, null, 2)}\n`);
    await broker.close();
    const s = report.science;
    const k = report.knownObjects;
    const l = report.latency.readoutToBroker;
    process.stdout.write(
      [
        `night: ${wallSeconds.toFixed(0)} s wall (sky ${renderSeconds.toFixed(0)} s, ${stage ? `templates ${stage.seconds.toFixed(0)} s, ` : ''}observing ${observeSeconds.toFixed(0)} s)`,
        `alerts: ${report.alerts.received} received, ${report.alerts.duplicates} duplicates, ${report.alerts.bright.received} through the filter; dead letters ${report.deadLetters.length}`,
        `latency readout -> broker: p50 ${l.p50?.toFixed(1)} s, p90 ${l.p90?.toFixed(1)} s, max ${l.max?.toFixed(1)} s`,
        ...scienceSummaryLines(s),
        templateSummaryLine(report.templates),
        `known objects: ${k.associated}/${k.detected} detected asteroids at |SNR| >= ${k.snrCut} carry their ssObjectId (${k.completeness?.toFixed(3)}); ${k.wrongObject} alerts with a wrong object; ${k.inDiaObjects} asteroid detections in DIAObjects; residual p50 ${k.residualArcsec.p50?.toFixed(3)}", max ${k.residualArcsec.max?.toFixed(3)}"`,
        `filters: filterAlerts finished ${filtering.handled} of ${filtering.alerts} alerts, ${filtering.deadLetters.length} dead-lettered; stopped waiting: ${filtering.stopped}`,
        ...filters.map(filterLine),
        `report: ${join(out, 'index.html')}, filters: ${join(out, 'filters.json')}`,
      ].join('\n') + '\n',
    );
    if (values.keep) await keepUntilInterrupted(cloud);
    return complete ? 0 : 1;
  } finally {
    await cloud.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(
      `npm start: ${err instanceof Error ? (process.env.AP_VERBOSE ? err.stack : err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
