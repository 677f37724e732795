/**
 * The kill experiments of the fault campaign (`npm run bench -- fault-kills`, part of `faults`):
 * a small visit (two 512 x 512 detectors of `ap simulate`'s sky) through the whole local system,
 * the emulators in a process of their own with `--data` (the journal), the functions in their
 * worker instances. Each experiment SIGKILLs the emulator process at one stage and restarts it
 * on the same ports and data; or cuts the network to Firestore (a loopback proxy in front of it
 * drops and refuses every connection) for CUT_MS, within the client's retry budget, or for
 * LONG_CUT_MS, beyond it; or kills a function instance at one point of its invocation
 * (instances.ts crashAt: Cloud Run's crashed instance, replaced, its message redelivered). It
 * counts, against a run without any: alerts lost, duplicate deliveries (and the window the
 * design allows), diaSourceIds that came with two different payloads, raw objects kept, dead
 * letters (and those without a reason) and the images' processing records at the end.
 * Bounded: each run waits at most RUN_TIMEOUT_MS; loopback only. AP_FAULT_KILLS=TEXT runs only
 * the experiments whose name contains TEXT (after the baseline).
 */
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@google-cloud/pubsub';
import { sigkill, startEmulatorProcess } from '../emulators/process.js';
import { startBroker } from '../functions/night/broker.js';
import { startLocalCloud, type LocalCloud } from '../functions/night/cloud.js';
import { services } from '../functions/context.js';
import { NightMonitor, playVisit, uploadTemplates } from '../functions/night/play.js';
import type { RenderedDetector } from '../functions/night/render-worker.js';
import { planSky, renderSky } from '../functions/night/sky.js';
import { TOPICS } from '../shared/cloud/names.js';
import { gridCamera } from '../shared/prompt/camera.js';
import { mjdTaiOf } from '../shared/pipeline/index.js';

export const SIZE = 512;
export const DETECTORS = 2;
const BORESIGHT: [number, number] = [150.1, 2.2];
export const RUN_TIMEOUT_MS = 6 * 60_000;

/** One experiment: nothing, an emulator SIGKILL at a stage, a Firestore cut, or a function instance killed at a point. */
type Experiment =
  | { kind: 'none' }
  | { kind: 'emulators'; stage: 'raw written' | 'first alert at the broker' }
  | { kind: 'cut'; ms: number }
  /** Firestore cut for longer than processImage's whole delivery budget; then its dead letters replayed. */
  | { kind: 'outage'; ms: number }
  | { kind: 'instance'; fn: string; point: string; occurrence: number; what: string };

function nameOf(e: Experiment): string {
  if (e.kind === 'none') return 'none';
  if (e.kind === 'emulators') return `emulators at ${e.stage}`;
  if (e.kind === 'cut') return `Firestore cut ${e.ms / 1000} s`;
  if (e.kind === 'outage')
    return `Firestore outage ${e.ms / 1000} s, beyond the delivery budget; dead letters replayed after`;
  return `${e.fn} ${e.what}`;
}

/** How long the network cut to Firestore lasts: within the client's retry budget, and beyond it. */
const CUT_MS = 8000;
const LONG_CUT_MS = 90_000;
/**
 * The outage beyond the whole delivery budget of processImage: with the invocation deadline at
 * OUTAGE_DEADLINE_S, 5 deliveries and the backoff of 1, 2, 4, 8 s take at most 5 x 15 + 15 = 90 s.
 */
const OUTAGE_MS = 120_000;
const OUTAGE_DEADLINE_S = 15;
/**
 * Fan-out chunk and slice (AP_FANOUT_CHUNK, AP_FANOUT_SLICE) in these runs: small, so that a
 * detector's few dozen alerts span several chunks and slices, as a 4k detector's hundreds do.
 */
export const FANOUT_CHUNK = 4;
export const FANOUT_SLICE = 8;

/**
 * Function instances killed at each stage (instances.ts crashAt: the instance stops at the point
 * and is terminated, then replaced). Points are the timed calls of call-timings.ts and log lines.
 */
const INSTANCE_KILLS: Experiment[] = [
  {
    kind: 'instance',
    fn: 'processImage',
    point: 'preloadRead',
    occurrence: 1,
    what: 'after the preload read',
  },
  {
    kind: 'instance',
    fn: 'processImage',
    point: 'stage subtract done',
    occurrence: 1,
    what: 'after the difference',
  },
  {
    kind: 'instance',
    fn: 'processImage',
    point: 'handOff',
    occurrence: 1,
    what: 'after the hand-off to alert-batches',
  },
  {
    kind: 'instance',
    fn: 'processImage',
    point: 'apdbWrite',
    occurrence: 1,
    what: 'after the APDB write',
  },
  {
    kind: 'instance',
    fn: 'nextVisit',
    point: 'templateRead',
    occurrence: 1,
    what: 'mid-preload, after its first template read',
  },
  {
    kind: 'instance',
    fn: 'nextVisit',
    point: 'preloadWrite',
    occurrence: 1,
    what: 'mid-preload, after its first preload object written',
  },
  {
    kind: 'instance',
    fn: 'alertFanout',
    point: 'alertPublish',
    occurrence: FANOUT_CHUNK + 2,
    what: 'after publishing alerts of chunk 2, before recording it',
  },
  {
    kind: 'instance',
    fn: 'alertFanout',
    point: 'record.markChunkPublished',
    occurrence: 1,
    what: 'mid-slice, after chunk 1 recorded',
  },
  {
    kind: 'instance',
    fn: 'alertFanout',
    point: 'record.markChunkArchived',
    occurrence: 1,
    what: 'while archiving, after chunk 1',
  },
];

interface RunResult {
  experiment: Experiment;
  /** An instance kill: whether the instance reached its point and was killed. */
  killed: boolean;
  ids: Set<string>;
  deliveries: number;
  conflicts: number;
  rawPresent: number;
  deadLetters: number;
  /** Dead letters without a `reason` (the subscription's own policy, not the function's give-up). */
  reasonless: number;
  /** The images' processing records at the end: state counts (an outage: before the replay, then after). */
  states: string;
  /** Invocations that failed (transient errors) and whose message was retried. */
  retried: number;
  finished: boolean;
  seconds: number;
}

/** What a subscription on the alerts topic saw: each diaSourceId's payload hashes, all deliveries. */
export interface AlertTap {
  readonly deliveries: number;
  /** Ids received, deliveries, and ids that came with two different payloads. */
  counts(): { ids: Set<string>; deliveries: number; conflicts: number };
  close(): Promise<void>;
}

/** Subscribes to the alerts topic before anything is published and hashes every payload. */
export async function tapAlerts(cloud: LocalCloud): Promise<AlertTap> {
  const payloads = new Map<string, Set<string>>();
  let deliveries = 0;
  const [sub] = await cloud.pubsub.topic(TOPICS.alerts).createSubscription('fault-tap');
  sub.on('message', (m: Message) => {
    deliveries++;
    const id = m.attributes.diaSourceId ?? '?';
    const hashes = payloads.get(id) ?? new Set<string>();
    hashes.add(createHash('sha256').update(m.data).digest('hex'));
    payloads.set(id, hashes);
    m.ack();
  });
  return {
    get deliveries() {
      return deliveries;
    },
    counts: () => ({
      ids: new Set(payloads.keys()),
      deliveries,
      conflicts: [...payloads.values()].filter((h) => h.size > 1).length,
    }),
    close: () => sub.close(),
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `npm run emulators -- --bare --data DIR` on fixed ports, as its own process. */
async function startEmulators(dir: string, ports: number[]): Promise<ChildProcess> {
  const flags = ['--bare', '--data', dir, '--pubsub-port', String(ports[0])];
  flags.push('--storage-port', String(ports[1]), '--firestore-port', String(ports[2]));
  return (await startEmulatorProcess(flags)).child;
}

/**
 * A TCP proxy in front of the Firestore emulator (loopback); `cut()` drops every connection and
 * refuses new ones for `ms`, as a network partition would.
 */
async function firestoreProxy(port: number, target: number) {
  const sockets = new Set<Socket>();
  let cutUntil = 0;
  const server = createServer((client) => {
    if (Date.now() < cutUntil) return client.destroy();
    const upstream = connect(target, 'localhost');
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ]) {
      a.pipe(b);
      a.on('error', () => b.destroy());
      a.on('close', () => b.destroy());
      sockets.add(a);
      a.on('close', () => sockets.delete(a));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, 'localhost', resolve));
  return {
    port,
    cut(ms: number) {
      cutUntil = Date.now() + ms;
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/**
 * Duplicates a fault may cause: one chunk re-sent per interrupted fan-out delivery
 * (alert-fanout.ts), one delivery at a time; an emulator SIGKILL also redelivers to the broker
 * the alerts whose acks it had not yet recorded (Pub/Sub's own at-least-once).
 */
function windowOf(e: Experiment): string {
  if (e.kind === 'none') return '0';
  return e.kind === 'emulators' ? `<= ${FANOUT_CHUNK} + acks in flight` : `<= ${FANOUT_CHUNK}`;
}

async function runOnce(
  experiment: Experiment,
  plan: ReturnType<typeof planSky>,
  rendered: Map<number, RenderedDetector>,
): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'ap-fault-kill-'));
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  let emulators = await startEmulators(dir, ports);
  const proxy = await firestoreProxy(await freePort(), ports[2]);
  process.env.AP_FANOUT_CHUNK = String(FANOUT_CHUNK);
  process.env.AP_FANOUT_SLICE = String(FANOUT_SLICE);
  if (experiment.kind === 'outage') process.env.AP_DEADLINE_SECONDS = String(OUTAGE_DEADLINE_S);
  else delete process.env.AP_DEADLINE_SECONDS;
  const cloud = await startLocalCloud({
    ports: { pubsub: ports[0], storage: ports[1], firestore: proxy.port, archive: ports[3] },
    camera: { detectorSize: SIZE },
    backoffSeconds: [1, 10],
  });
  const started = Date.now();
  let killed = false;
  if (experiment.kind === 'instance')
    void cloud.instances
      .crashAt(experiment.fn, experiment.point, experiment.occurrence)
      .then(() => (killed = true));
  try {
    const tap = await tapAlerts(cloud);
    const broker = await startBroker(cloud.pubsub, 'fault-broker');
    await uploadTemplates(cloud, plan, rendered, 'r');
    const quiet = () => {};
    const images = await playKillVisit(cloud, plan, rendered, 'faults-kill-1');
    if (experiment.kind === 'emulators' && experiment.stage === 'first alert at the broker')
      for (let i = 0; i < RUN_TIMEOUT_MS / 100 && tap.deliveries === 0; i++)
        await new Promise((r) => setTimeout(r, 100));
    const cutAt = Date.now();
    if (experiment.kind === 'cut' || experiment.kind === 'outage') proxy.cut(experiment.ms);
    if (experiment.kind === 'emulators') {
      await sigkill(emulators);
      emulators = await startEmulators(dir, ports);
    }
    const monitor = new NightMonitor(cloud, broker, quiet);
    monitor.track(images);
    let finished = await monitor.drain(RUN_TIMEOUT_MS);
    await new Promise((r) => setTimeout(r, 3000)); // late redeliveries
    let rawPresent = 0;
    for (const image of images)
      if ((await cloud.buckets.raw.file(image.objectName).exists())[0]) rawPresent++;
    const stateCounts = async () => {
      const states = new Map<string, number>();
      for (const image of images) {
        const state = (await services().records.get(image.key))?.state ?? 'none';
        states.set(state, (states.get(state) ?? 0) + 1);
      }
      return [...states].map(([state, n]) => `${n} ${state}`).join(', ');
    };
    const deadLetters = cloud.deadLetters.length;
    const reasonless = cloud.deadLetters.filter((d) => !d.attributes.reason).length;
    let states = '';
    if (experiment.kind === 'outage') {
      // Once Firestore is back, the operator's replay: each dead letter republished as it is.
      await new Promise((r) => setTimeout(r, Math.max(0, cutAt + experiment.ms - Date.now())));
      states = `${await stateCounts()}, then after the replay: `;
      for (const d of cloud.deadLetters.filter((l) => l.topic === TOPICS.rawArrived))
        await cloud.pubsub
          .topic(TOPICS.rawArrived)
          .publishMessage({ data: d.data, attributes: d.attributes });
      const done = Date.now() + RUN_TIMEOUT_MS;
      finished = false;
      while (!finished && Date.now() < done) {
        await new Promise((r) => setTimeout(r, 1000));
        finished = (await stateCounts()) === `${images.length} published`;
      }
      await new Promise((r) => setTimeout(r, 3000)); // the last alerts to the tap
    }
    states += await stateCounts();
    await tap.close();
    await broker.close();
    return {
      experiment,
      killed,
      ...tap.counts(),
      rawPresent,
      deadLetters,
      reasonless,
      states,
      retried: cloud.logs.entries.filter(
        (e) => e.message === 'function failed; the message will be retried',
      ).length,
      finished,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    delete process.env.AP_DEADLINE_SECONDS;
    await cloud.stop();
    await proxy.close();
    await sigkill(emulators);
    await rm(dir, { recursive: true, force: true });
  }
}

/** The campaign's visit: DETECTORS detectors of SIZE x SIZE of `ap simulate`'s sky, rendered into `dir`. */
export async function renderKillVisit(dir: string) {
  const plan = planSky(gridCamera('APSIM', SIZE, 14, 0.2), BORESIGHT, 'r', DETECTORS);
  const rendered = await renderSky(plan, {
    size: SIZE,
    visits: 1,
    seed: 5,
    band: 'r',
    startMjd: mjdTaiOf(Date.now()),
    cadenceSeconds: 30,
    dir,
    parallel: 1,
  });
  return { plan, rendered };
}

/** Observes the campaign's visit as `name` (its raw images written, next_visit first): the images to track. */
export function playKillVisit(
  cloud: LocalCloud,
  plan: ReturnType<typeof planSky>,
  rendered: Map<number, RenderedDetector>,
  name: string,
) {
  return playVisit(cloud, plan, rendered, 0, name, {
    instrument: 'APSIM',
    band: 'r',
    boresight: BORESIGHT,
    cadenceSeconds: 30,
    preloadWaitSeconds: 120,
    progress: () => {},
  });
}

/** The outage row of `fault-kills-more` (bench/fault-kills-more.ts). */
export const OUTAGE: Experiment = { kind: 'outage', ms: OUTAGE_MS };

/** Runs the experiments (default: this part's) after a baseline run without any, and prints their table. */
export async function killExperiments(chosen?: Experiment[]): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'ap-fault-kills-'));
  try {
    const { plan, rendered } = await renderKillVisit(scratch);
    const experiments: Experiment[] = [
      { kind: 'none' },
      ...(chosen ?? [
        { kind: 'emulators', stage: 'raw written' },
        { kind: 'emulators', stage: 'first alert at the broker' },
        { kind: 'cut', ms: CUT_MS },
        { kind: 'cut', ms: LONG_CUT_MS },
        ...INSTANCE_KILLS,
      ]),
    ];
    const only = process.env.AP_FAULT_KILLS;
    console.log(
      `\nSIGKILL of the emulator process (--data journal) at a stage, restarted on the same ports; every connection to Firestore dropped and refused for a while once the raw images are written; a function instance killed at a point and replaced. ${DETECTORS} detectors of ${SIZE} x ${SIZE}, fan-out chunk ${FANOUT_CHUNK} and slice ${FANOUT_SLICE}:`,
    );
    console.log(
      `| fault | instance killed | alerts (baseline) | lost | duplicate deliveries (window) | ids with two payloads | raw objects kept | invocations retried | dead letters (without reason) | records | finished | s |`,
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    // Each row as soon as its run ends, against the first run's alerts.
    let baseline: Set<string> | null = null;
    for (const [i, e] of experiments.entries()) {
      if (i > 0 && only && !nameOf(e).includes(only)) continue;
      const r = await runOnce(e, plan, rendered);
      baseline ??= r.ids;
      const lost = [...baseline].filter((id) => !r.ids.has(id)).length;
      console.log(
        `| ${nameOf(r.experiment)} | ${r.experiment.kind === 'instance' ? (r.killed ? 'yes' : 'NOT REACHED') : '-'} | ${r.ids.size} (${baseline.size}) | ${lost} | ${r.deliveries - r.ids.size} (${windowOf(r.experiment)}) | ${r.conflicts} | ${r.rawPresent}/${DETECTORS} | ${r.retried} | ${r.deadLetters} (${r.reasonless}) | ${r.states} | ${r.finished ? 'yes' : 'NO'} | ${r.seconds.toFixed(0)} |`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `npm run bench -- fault-kills`. */
export const run = () => killExperiments();

if (import.meta.url === `file://${process.argv[1]}`) await killExperiments();
