/**
 * More of the fault campaign's kills (`npm run bench -- fault-kills-more`), apart from
 * fault-kills for its time: templateBuilder killed at each stage of a tile's first build, and
 * Firestore unreachable for longer than processImage's whole delivery budget.
 *
 * The template rows start with no template: one 512 x 512 detector's template-input visits go
 * through processImage (no template: offered as candidates) to templateBuilder, as `npm start`
 * does (functions/night/template-stage.ts), with one templateBuilder instance killed at a point
 * (instances.ts crashAt) and replaced, its message redelivered; then one visit is observed. Per
 * row: the visit's alerts against a run without a kill, the tile's record (frozen once, one
 * TMPLID, no lease left), the template object against the version object, versions written and
 * builds logged, and the images' processing records. The outage row is fault-kills.ts's, after
 * its own baseline. Bounded: each wait ends after RUN_TIMEOUT_MS; loopback only.
 * AP_FAULT_KILLS=TEXT runs only the rows whose name contains TEXT (after the baselines).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OUTAGE, killExperiments, tapAlerts } from './fault-kills.js';
import { services } from '../functions/context.js';
import { startBroker } from '../functions/night/broker.js';
import { startLocalCloud } from '../functions/night/cloud.js';
import { NightMonitor, playVisit } from '../functions/night/play.js';
import type { RenderedDetector } from '../functions/night/render-worker.js';
import { planSky, renderSky, type SkyPlan } from '../functions/night/sky.js';
import { runTemplateStage } from '../functions/night/template-stage.js';
import {
  TEMPLATE_CONFIG_ENV,
  TEMPLATE_MIN_CANDIDATES_ENV,
  templateTiles,
  versionKey,
} from '../functions/template-builder.js';
import { readExposureWithHeader } from '../shared/fits/index.js';
import { gridCamera } from '../shared/prompt/camera.js';
import { templateKey } from '../shared/prompt/template-tiles.js';
import { mjdTaiOf } from '../shared/pipeline/index.js';

const SIZE = 512;
const BAND = 'r';
const BORESIGHT: [number, number] = [150.1, 2.2];
/** Template-input visits of the detector: the tile is built once it holds all of them. */
const INPUTS = 3;
const RUN_TIMEOUT_MS = 5 * 60_000;
/** The night's template knobs (functions/night/main.ts). */
const TEMPLATE_CONFIG = { minOverlapFraction: 0.75 };

/** templateBuilder killed at one point of a tile's first build (points: its log lines and timed template writes). */
interface Kill {
  point: string;
  occurrence: number;
  what: string;
}

const KILLS: Kill[] = [
  {
    point: 'template candidate recorded',
    occurrence: 1,
    what: 'after recording a candidate',
  },
  { point: 'template build started', occurrence: 1, what: 'after claiming the build lease' },
  {
    point: 'templateWrite',
    occurrence: 1,
    what: 'while publishing: after the vetting page, before the version object',
  },
  {
    point: 'templateWrite',
    occurrence: 2,
    what: 'after the version object, before the template object and markFrozen',
  },
  { point: 'template built and frozen', occurrence: 1, what: 'after markFrozen' },
];

interface TemplateRun {
  killed: boolean;
  ids: Set<string>;
  deliveries: number;
  conflicts: number;
  /** The tile's record: state, version, TMPLID, lease. */
  tile: string;
  tmplIds: number;
  /** The template object equals the version-1 object. */
  sameAsVersion: boolean;
  versions: number;
  builds: number;
  retried: number;
  deadLetters: number;
  states: string;
  stageSeconds: number;
  finished: boolean;
  seconds: number;
}

async function runTemplates(
  kill: Kill | null,
  plan: SkyPlan,
  inputs: Map<number, RenderedDetector>,
  rendered: Map<number, RenderedDetector>,
): Promise<TemplateRun> {
  process.env[TEMPLATE_CONFIG_ENV] = JSON.stringify(TEMPLATE_CONFIG);
  process.env[TEMPLATE_MIN_CANDIDATES_ENV] = String(INPUTS);
  const cloud = await startLocalCloud({
    camera: { detectorSize: SIZE },
    concurrency: { templateBuilder: 1 },
    backoffSeconds: [1, 10],
  });
  const started = Date.now();
  let killed = false;
  if (kill)
    void cloud.instances
      .crashAt('templateBuilder', kill.point, kill.occurrence)
      .then(() => (killed = true));
  try {
    const tap = await tapAlerts(cloud);
    const broker = await startBroker(cloud.pubsub, 'fault-broker');
    const quiet = () => {};
    const stage = await runTemplateStage(cloud, plan, inputs, {
      instrument: 'APSIM',
      band: BAND,
      timeoutMs: RUN_TIMEOUT_MS,
      progress: quiet,
    });
    await cloud.stopTemplateBuilder();
    const images = await playVisit(cloud, plan, rendered, 0, 'faults-tmpl-1', {
      instrument: 'APSIM',
      band: BAND,
      boresight: BORESIGHT,
      cadenceSeconds: 30,
      preloadWaitSeconds: 120,
      progress: quiet,
    });
    const monitor = new NightMonitor(cloud, broker, quiet);
    monitor.track(images);
    const finished = stage.complete && (await monitor.drain(RUN_TIMEOUT_MS));
    await new Promise((r) => setTimeout(r, 3000)); // late redeliveries
    const { tile } = plan.detectors[0];
    const record = await templateTiles(services()).get(BAND, tile);
    const [object] = await cloud.buckets.templates.file(templateKey(BAND, tile)).download();
    const version = await cloud.buckets.templates
      .file(versionKey(BAND, tile, 1))
      .download()
      .then(
        ([b]) => b,
        () => null,
      );
    const [versions] = await cloud.buckets.templates.getFiles({ prefix: 'versions/' });
    const ids = new Set(
      [object, version]
        .filter((b): b is Buffer => b !== null)
        .map((b) => readExposureWithHeader(b, 'template').exposure.info.templateVersion),
    );
    if (record?.tmplId) ids.add(record.tmplId);
    const states = new Map<string, number>();
    const keys = [...cloud.logs.entries]
      .filter((e) => e.message === 'no template yet: no alerts; offered as a template candidate')
      .map((e) => String(e.key));
    for (const key of [...new Set(keys), ...images.map((i) => i.key)]) {
      const state = (await services().records.get(key))?.state ?? 'none';
      states.set(state, (states.get(state) ?? 0) + 1);
    }
    await tap.close();
    await broker.close();
    return {
      killed,
      ...tap.counts(),
      tile: `${record?.state} v${record?.version}, lease ${record?.leaseUntil ?? 'none'}`,
      tmplIds: ids.size,
      sameAsVersion: version !== null && object.equals(version),
      versions: versions.length,
      builds: cloud.logs.entries.filter((e) => e.message === 'template built and frozen').length,
      retried: cloud.logs.entries.filter(
        (e) => e.message === 'function failed; the message will be retried',
      ).length,
      deadLetters: cloud.deadLetters.length,
      states: [...states].map(([state, n]) => `${n} ${state}`).join(', '),
      stageSeconds: stage.seconds,
      finished,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await cloud.stop();
    delete process.env[TEMPLATE_CONFIG_ENV];
    delete process.env[TEMPLATE_MIN_CANDIDATES_ENV];
  }
}

async function templateKills(only: string | undefined): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'ap-fault-kills-more-'));
  try {
    const plan = planSky(gridCamera('APSIM', SIZE, 14, 0.2), BORESIGHT, BAND, 1, true);
    const sky = {
      size: SIZE,
      visits: 1,
      seed: 5,
      band: BAND,
      startMjd: mjdTaiOf(Date.now()),
      cadenceSeconds: 30,
      dir: scratch,
      parallel: 1,
    };
    const inputs = await renderSky(plan, { ...sky, inputs: INPUTS });
    const rendered = await renderSky(plan, sky);
    console.log(
      `\ntemplateBuilder killed at a stage of a tile's first build (one instance, replaced; its message redelivered), from no template: ${INPUTS} template-input visits of one ${SIZE} x ${SIZE} detector through processImage and templateBuilder, then one visit observed:`,
    );
    console.log(
      '| templateBuilder killed | reached | alerts (baseline) | lost | duplicate deliveries | ids with two payloads | tile record | TMPLIDs | template object == version object | versions written | builds frozen | invocations retried | dead letters | records | template stage s | finished | s |',
    );
    console.log(
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    let baseline: Set<string> | null = null;
    for (const kill of [null, ...KILLS]) {
      if (kill && only && !kill.what.includes(only)) continue;
      const r = await runTemplates(kill, plan, inputs, rendered);
      baseline ??= r.ids;
      const lost = [...baseline].filter((id) => !r.ids.has(id)).length;
      console.log(
        `| ${kill ? kill.what : 'none'} | ${kill ? (r.killed ? 'yes' : 'NOT REACHED') : '-'} | ${r.ids.size} (${baseline.size}) | ${lost} | ${r.deliveries - r.ids.size} | ${r.conflicts} | ${r.tile} | ${r.tmplIds} | ${r.sameAsVersion ? 'yes' : 'NO'} | ${r.versions} | ${r.builds} | ${r.retried} | ${r.deadLetters} | ${r.states} | ${r.stageSeconds.toFixed(0)} | ${r.finished ? 'yes' : 'NO'} | ${r.seconds.toFixed(0)} |`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `npm run bench -- fault-kills-more`: the template rows, then the outage row (each after its baseline). */
export async function run(): Promise<void> {
  const only = process.env.AP_FAULT_KILLS;
  if (!only || KILLS.some((k) => k.what.includes(only))) await templateKills(only);
  if (!only || 'Firestore outage beyond the delivery budget'.includes(only))
    await killExperiments([OUTAGE]);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
