/**
 * Good images interleaved with bad ones (`npm run bench -- faults`, or AP_FAULTS=mix): a few
 * visits of two 512 x 512 detectors through the whole local system, once alone and once with
 * every malformed input of fault-inputs.ts fed in at a steady rate over the same visits, each by
 * the way it would arrive (raw images written to the raw bucket, malformed events published to
 * raw-arrived). Prints the good images' readout -> broker latency in both runs (the acceptance:
 * p90 within 2x) and, per kind, what became of the bad ones: dead-lettered with a reason and
 * the time to the dead letter (<= 60 s each), hangs (nothing after 60 s) and instances killed.
 * Bounded: every wait has a limit; loopback only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../functions/night/broker.js';
import { startLocalCloud, type LocalCloud } from '../functions/night/cloud.js';
import {
  NightMonitor,
  outcomeOf,
  playVisit,
  uploadTemplates,
  type PlayedImage,
} from '../functions/night/play.js';
import type { RenderedDetector } from '../functions/night/render-worker.js';
import { planSky, renderSky } from '../functions/night/sky.js';
import { services } from '../functions/context.js';
import { TOPICS } from '../shared/cloud/names.js';
import { parseRawPath, processingKey } from '../shared/prompt/raw-path.js';
import { gridCamera } from '../shared/prompt/camera.js';
import { mjdTaiOf } from '../shared/pipeline/index.js';
import { kinds, type Input } from './fault-inputs.js';

const SIZE = 512;
const DETECTORS = 2;
const VISITS = 4;
const CADENCE_SECONDS = 20;
const BORESIGHT: [number, number] = [150.1, 2.2];
/** A bad input without a dead letter this long after it was sent counts as hung. */
const HANG_SECONDS = 60;
/** Variants of each kind (AP_FAULT_VARIANTS overrides, as in faults.ts). */
const VARIANTS = Number(process.env.AP_FAULT_VARIANTS ?? 12);
const RUN_TIMEOUT_MS = 8 * 60_000;

interface Bad {
  kind: string;
  input: Input;
  sentAt: number;
  /** Arrival of its dead letter at the watcher, ms since 1970. */
  letterAt: number | null;
  reason: string | null;
  /** Without a dead letter: its processing record's state at the end ('none': no record). */
  state?: string;
}

interface MixResult {
  /** Readout -> last alert at the broker, seconds, per good image. */
  latencies: number[];
  goodDeadLettered: number;
  bad: Bad[];
  /** Invocations killed at the instance deadline, and invocations that failed (retried). */
  deadlineKills: number;
  retried: number;
  finished: boolean;
}

/** Sends one bad input the way it would arrive: its bytes to the raw bucket, or its event to raw-arrived. */
async function send(cloud: LocalCloud, input: Input): Promise<void> {
  if (input.bytes) {
    await cloud.buckets.raw.file(input.name).save(input.bytes, { resumable: false });
    return;
  }
  const attributes = { eventType: 'OBJECT_FINALIZE', objectId: input.name };
  const data = input.noMessage
    ? Buffer.alloc(0)
    : Buffer.from(
        input.payload ??
          JSON.stringify({
            bucket: cloud.buckets.raw.name,
            name: input.name,
            generation: '1',
            timeCreated: new Date().toISOString(),
            size: 0,
          }),
      );
  await cloud.pubsub.topic(TOPICS.rawArrived).publishMessage({ data, attributes });
}

/** The processing record's state of a raw object ('none' without a record, 'bad path' when it has no key). */
async function recordState(name: string): Promise<string> {
  let key: string;
  try {
    key = processingKey(parseRawPath(name));
  } catch {
    return 'bad path';
  }
  return (await services().records.get(key))?.state ?? 'none';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runMix(
  plan: ReturnType<typeof planSky>,
  rendered: Map<number, RenderedDetector>,
  badInputs: Array<{ kind: string; input: Input }>,
): Promise<MixResult> {
  const cloud = await startLocalCloud({ camera: { detectorSize: SIZE }, backoffSeconds: [1, 10] });
  const bad: Bad[] = [];
  const byName = new Map<string, Bad>();
  let seen = 0;
  let watching = true;
  // Dead letters' arrival times, by the object they name.
  const watcher = (async () => {
    while (watching) {
      for (; seen < cloud.deadLetters.length; seen++) {
        const d = cloud.deadLetters[seen];
        const b = byName.get(d.attributes.objectId ?? '');
        if (b && b.letterAt === null) {
          b.letterAt = Date.now();
          b.reason = d.attributes.reason ?? null;
        }
      }
      await sleep(50);
    }
  })();
  try {
    const broker = await startBroker(cloud.pubsub, 'mix-broker');
    await uploadTemplates(cloud, plan, rendered, 'r');
    const quiet = () => {};
    // The bad inputs go in at a steady rate over the visits.
    const gapMs = (VISITS * CADENCE_SECONDS * 1000) / Math.max(1, badInputs.length);
    const feeder = (async () => {
      for (const { kind, input } of badInputs) {
        const b: Bad = { kind, input, sentAt: Date.now(), letterAt: null, reason: null };
        bad.push(b);
        byName.set(input.name, b);
        await send(cloud, input);
        await sleep(gapMs);
      }
    })();
    const images: PlayedImage[] = [];
    for (let v = 0; v < VISITS; v++) {
      const started = Date.now();
      images.push(
        ...(await playVisit(cloud, plan, rendered, v, `faults-mix-${v}`, {
          instrument: 'APSIM',
          band: 'r',
          boresight: BORESIGHT,
          cadenceSeconds: CADENCE_SECONDS,
          preloadWaitSeconds: 60,
          progress: quiet,
        })),
      );
      await sleep(Math.max(0, started + CADENCE_SECONDS * 1000 - Date.now()));
    }
    await feeder;
    const monitor = new NightMonitor(cloud, broker, quiet);
    monitor.track(images);
    const finished = await monitor.drain(RUN_TIMEOUT_MS);
    // Every bad input's dead letter, or no new one for HANG_SECONDS (the rest never come).
    const waitUntil = Date.now() + RUN_TIMEOUT_MS;
    while (bad.some((b) => b.letterAt === null) && Date.now() < waitUntil) {
      const last = Math.max(...bad.map((b) => b.letterAt ?? b.sentAt));
      if (Date.now() - last > HANG_SECONDS * 1000) break;
      await sleep(250);
    }
    for (const b of bad) if (b.letterAt === null) b.state = await recordState(b.input.name);
    const latencies = images
      .map((image) => (outcomeOf(cloud, broker, image).lastReceivedAt - image.finalizedAt) / 1000)
      .filter((s) => Number.isFinite(s));
    const goodDeadLettered = images.filter(
      (image) => outcomeOf(cloud, broker, image).deadLetterReason !== null,
    ).length;
    await broker.close();
    const failed = cloud.logs.entries.filter(
      (e) => e.message === 'function failed; the message will be retried',
    );
    return {
      latencies,
      goodDeadLettered,
      bad,
      deadlineKills: failed.filter((e) => /overran its/.test(String(e.error))).length,
      retried: failed.length,
      finished,
    };
  } finally {
    watching = false;
    await watcher;
    await cloud.stop();
  }
}

function countStates(rows: Bad[]): string {
  const counts = new Map<string, number>();
  for (const b of rows) if (b.state) counts.set(b.state, (counts.get(b.state) ?? 0) + 1);
  return [...counts].map(([state, n]) => `${n} ${state}`).join(', ') || '-';
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length
    ? sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
    : NaN;
}

/** Runs the good images alone, then interleaved with the bad inputs, and prints both tables. */
export async function mixExperiment(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'ap-fault-mix-'));
  try {
    const plan = planSky(gridCamera('APSIM', SIZE, 14, 0.2), BORESIGHT, 'r', DETECTORS);
    const rendered = await renderSky(plan, {
      size: SIZE,
      visits: VISITS,
      seed: 7,
      band: 'r',
      startMjd: mjdTaiOf(Date.now()),
      cadenceSeconds: CADENCE_SECONDS,
      dir: scratch,
      parallel: 1,
    });
    const table = Object.entries(kinds());
    const badInputs = table.flatMap(([kind, make], k) =>
      Array.from({ length: VARIANTS }, (_, v) => ({ kind, input: make(100 * k + v + 1) })),
    );
    // Interleave the kinds, so that each stretch of the run sees all of them.
    badInputs.sort(
      (a, b) =>
        (a.input.name.length % 7) - (b.input.name.length % 7) || a.kind.localeCompare(b.kind),
    );
    const alone = await runMix(plan, rendered, []);
    const mixed = await runMix(plan, rendered, badInputs);
    console.log(
      `\nGood images alone and interleaved with ${badInputs.length} malformed inputs of ${table.length} kinds (sent at a steady rate over ${VISITS} visits of ${DETECTORS} detectors of ${SIZE} x ${SIZE}, ${CADENCE_SECONDS} s apart):`,
    );
    console.log(
      '| run | good images at the broker | dead-lettered | readout -> broker p50 s | p90 s | max s | invocations retried | killed at the deadline | finished |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [name, r] of [
      ['alone', alone],
      ['interleaved', mixed],
    ] as const)
      console.log(
        `| ${name} | ${r.latencies.length}/${VISITS * DETECTORS} | ${r.goodDeadLettered} | ${quantile(r.latencies, 0.5).toFixed(1)} | ${quantile(r.latencies, 0.9).toFixed(1)} | ${Math.max(...r.latencies).toFixed(1)} | ${r.retried} | ${r.deadlineKills} | ${r.finished ? 'yes' : 'NO'} |`,
      );
    const ratio = quantile(mixed.latencies, 0.9) / quantile(alone.latencies, 0.9);
    console.log(`p90 interleaved / alone: ${ratio.toFixed(2)} (acceptance: <= 2)`);
    console.log(
      `\n| kind | inputs | dead-lettered with a reason | within ${HANG_SECONDS} s | slowest s to the dead letter | reason of the first | without a dead letter: record |`,
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    const totals = { inputs: 0, lettered: 0, inTime: 0, slowest: 0 };
    for (const [kind] of table) {
      const rows = mixed.bad.filter((b) => b.kind === kind);
      const lettered = rows.filter((b) => b.letterAt !== null && b.reason);
      const seconds = lettered.map((b) => (b.letterAt! - b.sentAt) / 1000);
      const inTime = seconds.filter((s) => s <= HANG_SECONDS).length;
      const slowest = seconds.length ? Math.max(...seconds) : NaN;
      const reason = (lettered[0]?.reason ?? '-').replace(/\|/g, '/').slice(0, 90);
      console.log(
        `| ${kind} | ${rows.length} | ${lettered.length} | ${inTime} | ${slowest.toFixed(1)} | ${reason} | ${countStates(rows)} |`,
      );
      totals.inputs += rows.length;
      totals.lettered += lettered.length;
      totals.inTime += inTime;
      totals.slowest = Math.max(totals.slowest, Number.isFinite(slowest) ? slowest : 0);
    }
    console.log(
      `| **all ${table.length} kinds** | ${totals.inputs} | ${totals.lettered} (${((100 * totals.lettered) / totals.inputs).toFixed(1)} %) | ${totals.inTime} | ${totals.slowest.toFixed(1)} | | ${countStates(mixed.bad)} |`,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `npm run bench -- fault-mix`. */
export const run = mixExperiment;

if (import.meta.url === `file://${process.argv[1]}`) await mixExperiment();
