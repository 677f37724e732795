/**
 * The SIGKILL experiments of the fault campaign (`npm run bench -- faults`): a small visit (two
 * 512 x 512 detectors of `ap simulate`'s sky) through the whole local system, the emulators in a
 * process of their own with `--data` (the journal), the functions in their worker instances. Each
 * experiment SIGKILLs the emulator process at one stage, restarts it on the same ports and data,
 * or cuts the network to Firestore (a loopback proxy in front of it drops and refuses every
 * connection for CUT_MS: transient errors, retries), and counts, against a run without either: alerts lost, raw objects lost, duplicate deliveries
 * and diaSourceIds that came with two different payloads. Bounded: each run waits at most
 * RUN_TIMEOUT_MS; loopback only.
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
import { startLocalCloud } from '../functions/night/cloud.js';
import { NightMonitor, playVisit, uploadTemplates } from '../functions/night/play.js';
import type { RenderedDetector } from '../functions/night/render-worker.js';
import { planSky, renderSky } from '../functions/night/sky.js';
import { TOPICS } from '../shared/cloud/names.js';
import { gridCamera } from '../shared/prompt/camera.js';
import { mjdTaiOf } from '../shared/pipeline/index.js';

const SIZE = 512;
const DETECTORS = 2;
const BORESIGHT: [number, number] = [150.1, 2.2];
const RUN_TIMEOUT_MS = 6 * 60_000;

type Stage = 'none' | 'raw written' | 'first alert at the broker' | 'Firestore cut';

/** How long the network cut to Firestore lasts. */
const CUT_MS = 8000;

interface RunResult {
  stage: Stage;
  ids: Set<string>;
  deliveries: number;
  conflicts: number;
  rawPresent: number;
  deadLetters: number;
  /** Invocations that failed (transient errors) and whose message was retried. */
  retried: number;
  finished: boolean;
  seconds: number;
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

async function runOnce(
  stage: Stage,
  plan: ReturnType<typeof planSky>,
  rendered: Map<number, RenderedDetector>,
): Promise<RunResult> {
  const dir = await mkdtemp(join(tmpdir(), 'ap-fault-kill-'));
  const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
  let emulators = await startEmulators(dir, ports);
  const proxy = await firestoreProxy(await freePort(), ports[2]);
  const cloud = await startLocalCloud({
    ports: { pubsub: ports[0], storage: ports[1], firestore: proxy.port, archive: ports[3] },
    camera: { detectorSize: SIZE },
    backoffSeconds: [1, 10],
  });
  const started = Date.now();
  const payloads = new Map<string, Set<string>>();
  let deliveries = 0;
  try {
    const [tap] = await cloud.pubsub.topic(TOPICS.alerts).createSubscription('fault-tap');
    tap.on('message', (m: Message) => {
      deliveries++;
      const id = m.attributes.diaSourceId ?? '?';
      const hashes = payloads.get(id) ?? new Set<string>();
      hashes.add(createHash('sha256').update(m.data).digest('hex'));
      payloads.set(id, hashes);
      m.ack();
    });
    const broker = await startBroker(cloud.pubsub, 'fault-broker');
    await uploadTemplates(cloud, plan, rendered, 'r');
    const quiet = () => {};
    const images = await playVisit(cloud, plan, rendered, 0, 'faults-kill-1', {
      instrument: 'APSIM',
      band: 'r',
      boresight: BORESIGHT,
      cadenceSeconds: 30,
      preloadWaitSeconds: 120,
      progress: quiet,
    });
    if (stage === 'first alert at the broker')
      for (let i = 0; i < RUN_TIMEOUT_MS / 100 && deliveries === 0; i++)
        await new Promise((r) => setTimeout(r, 100));
    if (stage === 'Firestore cut') {
      proxy.cut(CUT_MS);
    } else if (stage !== 'none') {
      await sigkill(emulators);
      emulators = await startEmulators(dir, ports);
    }
    const monitor = new NightMonitor(cloud, broker, quiet);
    monitor.track(images);
    const finished = await monitor.drain(RUN_TIMEOUT_MS);
    await new Promise((r) => setTimeout(r, 3000)); // late redeliveries
    let rawPresent = 0;
    for (const image of images)
      if ((await cloud.buckets.raw.file(image.objectName).exists())[0]) rawPresent++;
    await tap.close();
    await broker.close();
    return {
      stage,
      ids: new Set(payloads.keys()),
      deliveries,
      conflicts: [...payloads.values()].filter((h) => h.size > 1).length,
      rawPresent,
      deadLetters: cloud.deadLetters.length,
      retried: cloud.logs.entries.filter(
        (e) => e.message === 'function failed; the message will be retried',
      ).length,
      finished,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await cloud.stop();
    await proxy.close();
    await sigkill(emulators);
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the experiments and prints their table. */
export async function killExperiments(): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'ap-fault-kills-'));
  try {
    const plan = planSky(gridCamera('APSIM', SIZE, 14, 0.2), BORESIGHT, 'r', DETECTORS);
    const rendered = await renderSky(plan, {
      size: SIZE,
      visits: 1,
      seed: 5,
      band: 'r',
      startMjd: mjdTaiOf(Date.now()),
      cadenceSeconds: 30,
      dir: scratch,
      parallel: 1,
    });
    const stages: Stage[] = ['none', 'raw written', 'first alert at the broker', 'Firestore cut'];
    const results: RunResult[] = [];
    for (const stage of stages) results.push(await runOnce(stage, plan, rendered));
    const baseline = results[0].ids;
    console.log(
      `\nSIGKILL of the emulator process (--data journal) at a stage, restarted on the same ports, or every connection to Firestore dropped and refused for ${CUT_MS / 1000} s once the raw images are written; ${DETECTORS} detectors of ${SIZE} x ${SIZE}:`,
    );
    console.log(
      '| killed at | alerts (baseline) | lost | duplicate deliveries | ids with two payloads | raw objects kept | invocations retried | dead letters | finished | s |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of results) {
      const lost = [...baseline].filter((id) => !r.ids.has(id)).length;
      console.log(
        `| ${r.stage} | ${r.ids.size} (${baseline.size}) | ${lost} | ${r.deliveries - r.ids.size} | ${r.conflicts} | ${r.rawPresent}/${DETECTORS} | ${r.retried} | ${r.deadLetters} | ${r.finished ? 'yes' : 'NO'} | ${r.seconds.toFixed(0)} |`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await killExperiments();
