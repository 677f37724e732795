/**
 * The filtering service's kill experiment (`npm run bench -- fault-kills-filter`, run alone): the
 * visit of fault-kills (two 512 x 512 detectors of `ap simulate`'s sky) through the local system,
 * with filterAlerts in a worker instance of its own (InstancePool) behind its trigger on `alerts`,
 * and two filters of one user created through the filter API's logic. Once the streams hold a few
 * matches, the instance is killed right after it published a match, before its message is acked
 * (instances.ts crashAt at MATCH_PUBLISHED): the message comes back and its matches are
 * published again. Per filter, against a run without the kill: matched diaSourceIds lost,
 * duplicate deliveries (the window: the killed invocation's matches, one per filter at most),
 * messages whose bytes differ from the alert's on `alerts`, and the in-process evaluation of the
 * filter over every alert. Bounded: each wait has a time limit; loopback only.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@google-cloud/pubsub';
import { startTriggerRunner } from '../emulators/triggers.js';
import { filterServices, setFilterServices } from '../functions/filter-context.js';
import { startBroker } from '../functions/night/broker.js';
import { startLocalCloud } from '../functions/night/cloud.js';
import { startInstances } from '../functions/night/instances.js';
import { listen } from '../functions/night/listen.js';
import { NightMonitor, uploadTemplates } from '../functions/night/play.js';
import { decodeAlert } from '../shared/alerts/wire.js';
import { deadLetterTopic, TOPICS } from '../shared/cloud/names.js';
import { compileForOwner, FilterApi } from '../shared/filter/service.js';
import { siblingModule } from '../shared/util/worker.js';
import { MATCH_PUBLISHED } from './fault-kills-filter-point.js';
import {
  DETECTORS,
  FANOUT_CHUNK,
  FANOUT_SLICE,
  playKillVisit,
  renderKillVisit,
  RUN_TIMEOUT_MS,
  SIZE,
} from './fault-kills.js';

const USER = 'faults@example.org';
/** Two overlapping filters: an alert may match both, so the killed invocation may have published one of its two. */
const FILTERS: Record<string, string> = {
  positive: 'diaSource.snr > 0',
  bright: 'abs(diaSource.snr) >= 10',
};
/** Matches in the streams before the kill is armed: it lands mid-stream. */
const KILL_AFTER = 4;
/** How long a stream may receive nothing while it lacks matches before the run stops waiting. */
const STREAM_STALL_MS = 30_000;
const QUIET_MS = 3000;

interface Stream {
  name: string;
  /** Matched in process over every alert on `alerts`. */
  expected: Set<string>;
  /** Deliveries per diaSourceId. */
  received: Map<string, number>;
  digests: Array<[string, string]>;
}

interface RunResult {
  killed: boolean;
  streams: Stream[];
  /** SHA-256 of each alert's bytes on `alerts`, by diaSourceId. */
  published: Map<string, string>;
  retried: number;
  deadLetters: number;
  finished: boolean;
  seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function runOnce(
  kill: boolean,
  { plan, rendered }: Awaited<ReturnType<typeof renderKillVisit>>,
): Promise<RunResult> {
  process.env.AP_FANOUT_CHUNK = String(FANOUT_CHUNK);
  process.env.AP_FANOUT_SLICE = String(FANOUT_SLICE);
  process.env.AP_FILTER_MATCHES_PER_VISIT = '1000000';
  setFilterServices(null);
  const cloud = await startLocalCloud({ camera: { detectorSize: SIZE }, backoffSeconds: [1, 10] });
  const started = Date.now();
  const quiet = () => {};
  const f = filterServices();
  const api = new FilterApi(f.store, f.streams, f.quotas);
  const streams: Array<
    Stream & { id: string; matches: (a: ReturnType<typeof decodeAlert>) => boolean }
  > = [];
  for (const [name, where] of Object.entries(FILTERS)) {
    const response = await api.handle({
      method: 'POST',
      path: '/v1/filters',
      body: { name, where },
      user: USER,
    });
    if (response.status >= 300) throw new Error(`filter API: ${JSON.stringify(response.body)}`);
    const compiled = await compileForOwner(f.store, USER, where);
    streams.push({
      name,
      id: (response.body as { id: string }).id,
      matches: (a) => compiled.matches(a),
      expected: new Set(),
      received: new Map(),
      digests: [],
    });
  }
  await cloud.pubsub.createTopic(deadLetterTopic(TOPICS.alerts)).catch((err: { code?: number }) => {
    if (err.code !== 6) throw err;
  });
  const pool = await startInstances({
    instances: { filterAlerts: 1 },
    onLog: (line) => cloud.logs.addLine(line),
    workerUrl: siblingModule('./fault-kills-filter-worker', import.meta.url),
  });
  let retried = 0;
  const runner = await startTriggerRunner({
    pubsubHost: cloud.emulators.pubsubHost,
    projectId: cloud.projectId,
    triggers: [
      {
        topic: TOPICS.alerts,
        subscription: 'eventarc-alerts-filterAlerts',
        handler: async (event) => void (await pool.invoke('filterAlerts', event)),
        deadLetterTopic: deadLetterTopic(TOPICS.alerts),
        maxDeliveryAttempts: 5,
        minBackoffSeconds: 1,
        maxBackoffSeconds: 10,
        maxConcurrency: 1,
      },
    ],
    onError: () => retried++,
  });
  const published = new Map<string, string>();
  let last = Date.now();
  let deliveries = 0;
  const [tap] = await cloud.pubsub.topic(TOPICS.alerts).createSubscription('filter-fault-tap');
  const listeners = [
    listen(cloud.pubsub, tap.name, {}, (m: Message) => {
      const alert = decodeAlert(m.data);
      const id = String(alert.diaSourceId);
      published.set(id, digest(m.data));
      for (const s of streams) if (s.matches(alert)) s.expected.add(id);
      last = Date.now();
      m.ack();
    }),
    ...streams.map((s) =>
      listen(cloud.pubsub, `filter-${s.id}`, {}, (m: Message) => {
        const id = m.attributes.diaSourceId;
        s.received.set(id, (s.received.get(id) ?? 0) + 1);
        s.digests.push([id, digest(m.data)]);
        deliveries++;
        last = Date.now();
        m.ack();
      }),
    ),
  ];
  let killed = false;
  void (async () => {
    if (!kill) return;
    for (let i = 0; i < RUN_TIMEOUT_MS / 100 && deliveries < KILL_AFTER; i++) await sleep(100);
    await pool.crashAt('filterAlerts', MATCH_PUBLISHED, 1);
    killed = true;
  })();
  try {
    const broker = await startBroker(cloud.pubsub, 'filter-fault-broker');
    await uploadTemplates(cloud, plan, rendered, 'r');
    const images = await playKillVisit(cloud, plan, rendered, 'faults-filter-1');
    const monitor = new NightMonitor(cloud, broker, quiet);
    monitor.track(images);
    let finished = await monitor.drain(RUN_TIMEOUT_MS);
    // The streams lag the alerts: wait while one lacks matches and still makes progress, then for quiet.
    const complete = () => streams.every((s) => [...s.expected].every((id) => s.received.has(id)));
    while (!complete() && Date.now() - last < STREAM_STALL_MS) await sleep(200);
    finished &&= complete();
    while (Date.now() - last < QUIET_MS) await sleep(200);
    await broker.close();
    return {
      killed,
      streams,
      published,
      retried,
      deadLetters: cloud.deadLetters.length,
      finished,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await runner.stop();
    await Promise.all(listeners.map((l) => l.close()));
    await pool.close();
    await cloud.stop();
    setFilterServices(null);
  }
}

export async function run(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'ap-fault-kills-filter-'));
  try {
    const visit = await renderKillVisit(scratch);
    console.log(
      `\nfilterAlerts in an instance of its own, killed after publishing a match (once the streams hold ${KILL_AFTER}), before its ack; ${DETECTORS} detectors of ${SIZE} x ${SIZE}; filters ${Object.entries(
        FILTERS,
      )
        .map(([n, w]) => `${n}: \`${w}\``)
        .join(', ')}:`,
    );
    console.log(
      '| run | filter | instance killed | matched in process | received (baseline) | lost | duplicate deliveries (window) | altered | invocations retried | dead letters | finished | s |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    let baseline: Stream[] | null = null;
    for (const kill of [false, true]) {
      const r = await runOnce(kill, visit);
      baseline ??= r.streams;
      for (const [k, s] of r.streams.entries()) {
        const base = baseline[k].received;
        const lost = [...base.keys()].filter((id) => !s.received.has(id)).length;
        const missing = [...s.expected].filter((id) => !s.received.has(id)).length;
        const duplicates = [...s.received.values()].reduce((n, c) => n + c - 1, 0);
        const altered = s.digests.filter(([id, d]) => r.published.get(id) !== d).length;
        console.log(
          `| ${kill ? 'filterAlerts killed' : 'none'} | ${s.name} | ${kill ? (r.killed ? 'yes' : 'NOT REACHED') : '-'} | ${s.expected.size} (${missing} not received) | ${s.received.size} (${base.size}) | ${lost} | ${duplicates} (${kill ? '<= 1' : '0'}) | ${altered} | ${r.retried} | ${r.deadLetters} | ${r.finished ? 'yes' : 'NO'} | ${r.seconds.toFixed(0)} |`,
        );
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
