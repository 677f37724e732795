/**
 * Emulator throughput through the official clients, with the emulators in a child process as
 * `npm run emulators` runs them: Pub/Sub 80 KB messages publish -> streaming pull (target
 * >= 5,000/s), Cloud Storage 16 MB uploads/s, Firestore commits/s. Besides wall-clock rates (which
 * on a shared, loaded machine mostly measure the scheduler) it prints work per CPU-second of the
 * emulator process (from /proc) and of the client process: the rates each would reach on an idle core.
 * Pub/Sub runs with publisher and subscriber in one process, then with the subscriber in its own,
 * then (the floor) against `pubsub-null-server.ts`, which does no Pub/Sub work.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../emulators/main.ts', import.meta.url));
const NULL_SERVER = fileURLToPath(new URL('./pubsub-null-server.ts', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

let emulatorPid = 0;

/** CPU milliseconds (user + system) used so far by process `pid` (Linux /proc; NaN elsewhere). */
function cpuMs(pid: number): number {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return NaN;
  const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

function emulatorCpuMs(): number {
  return cpuMs(emulatorPid);
}

/** Starts a server script on free ports; resolves once it printed `vars` env lines. */
async function startChild(
  args: string[],
  vars: number,
): Promise<{ env: Record<string, string>; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const env: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (const m of text.matchAll(/^export (\w+)=(\S+)$/gm)) env[m[1]] = m[2];
      if (Object.keys(env).length === vars) resolve();
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}`)));
  });
  return { env, child };
}

interface CpuMark {
  client: NodeJS.CpuUsage;
  emulatorMs: number;
}

function cpuMark(): CpuMark {
  return { client: process.cpuUsage(), emulatorMs: emulatorCpuMs() };
}

/** "emulator N/CPU-s, client M/CPU-s" for `count` items since `mark`. */
function cpuRates(count: number, mark: CpuMark): string {
  const used = process.cpuUsage(mark.client);
  const clientS = (used.user + used.system) / 1e6;
  const emulatorS = (emulatorCpuMs() - mark.emulatorMs) / 1000;
  return `emulator ${(count / emulatorS).toFixed(count < 100 ? 1 : 0)}/CPU-s, client ${(count / clientS).toFixed(count < 100 ? 1 : 0)}/CPU-s`;
}

function rate(count: number, ms: number): string {
  return `${((count * 1000) / ms).toFixed(0)}/s`;
}

const MESSAGES = 10_000;
const PAYLOAD = Buffer.alloc(80 * 1024, 7);
/** Client settings a user moving bulk 80 KB messages would pick: full batches, a wide window. */
const PUBLISH_BATCHING = { maxMessages: 100, maxBytes: 9 * 1024 * 1024, maxMilliseconds: 5 };
const SUBSCRIBER_OPTIONS = {
  flowControl: { maxMessages: 5000, maxBytes: 1024 * 1024 * 1024 },
  streamingOptions: { maxStreams: 1 },
};

/** Acks every message of `name`; `onMessage` gets the running count. */
function subscribe(pubsub: PubSub, name: string, onMessage: (count: number) => void): Subscription {
  const subscriber = pubsub.subscription(name, SUBSCRIBER_OPTIONS);
  let received = 0;
  subscriber.on('message', (m: Message) => {
    m.ack();
    onMessage(++received);
  });
  return subscriber;
}

/**
 * The subscriber process of the split run (`--pubsub-subscriber SUBSCRIPTION COUNT`): tells its
 * parent 'warm' after the first message and 'done' after COUNT more.
 */
function subscriberProcess(name: string, count: number): void {
  const pubsub = new PubSub({ projectId: 'bench' });
  const subscriber = subscribe(pubsub, name, (n) => {
    if (n === 1) process.send!('warm');
    if (n === count + 1) process.send!('done');
  });
  process.on('disconnect', () => void subscriber.close().then(() => process.exit(0)));
}

interface PubsubRun {
  publishMs: number;
  totalMs: number;
  /** CPU seconds of the server, the publishing process and the subscriber process (0 when one). */
  serverS: number;
  publisherS: number;
  subscriberS: number;
}

/** Publishes MESSAGES x 80 KB to `host` and waits until a subscriber, here or in a child, acked them. */
async function runPubsub(host: string, serverPid: number, split: boolean): Promise<PubsubRun> {
  process.env.PUBSUB_EMULATOR_HOST = host;
  const pubsub = new PubSub({ projectId: 'bench' });
  const id = `bench-${split ? 'split' : 'one'}-${Date.now()}`;
  const [topic] = await pubsub.createTopic(id);
  const [sub] = await topic.createSubscription(`${id}-sub`);
  const publisher = pubsub.topic(topic.name, { batching: PUBLISH_BATCHING });
  let warm!: () => void;
  let done!: () => void;
  const warmed = new Promise<void>((resolve) => (warm = resolve));
  const finished = new Promise<void>((resolve) => (done = resolve));
  const onCount = (n: number) => (n === 1 ? warm() : n === MESSAGES + 1 ? done() : undefined);
  let child: ChildProcess | undefined;
  let subscriber: Subscription | undefined;
  if (split) {
    child = spawn(
      process.execPath,
      ['--import', 'tsx', SELF, '--pubsub-subscriber', sub.name, String(MESSAGES)],
      {
        stdio: ['ignore', 'inherit', 'ignore', 'ipc'],
      },
    );
    child.on('message', (m) => (m === 'warm' ? warm() : done()));
  } else {
    subscriber = subscribe(pubsub, sub.name, onCount);
  }
  await publisher.publishMessage({ data: PAYLOAD });
  await warmed;
  const start = performance.now();
  const client0 = process.cpuUsage();
  const server0 = cpuMs(serverPid);
  const subscriber0 = child ? cpuMs(child.pid!) : 0;
  const window = 2000;
  for (let i = 0; i < MESSAGES; i += window) {
    await Promise.all(
      Array.from({ length: Math.min(window, MESSAGES - i) }, () =>
        publisher.publishMessage({ data: PAYLOAD }),
      ),
    );
  }
  const publishMs = performance.now() - start;
  await finished;
  const totalMs = performance.now() - start;
  const client = process.cpuUsage(client0);
  const run = {
    publishMs,
    totalMs,
    serverS: (cpuMs(serverPid) - server0) / 1000,
    publisherS: (client.user + client.system) / 1e6,
    subscriberS: child ? (cpuMs(child.pid!) - subscriber0) / 1000 : 0,
  };
  child?.disconnect();
  await subscriber?.close();
  await pubsub.close();
  return run;
}

/** CPU microseconds per message. */
function us(seconds: number): string {
  return `${((seconds * 1e6) / MESSAGES).toFixed(0)} us`;
}

async function benchPubsub(emulatorHost: string): Promise<void> {
  const settings = `client: batches of ${PUBLISH_BATCHING.maxMessages}, ${SUBSCRIBER_OPTIONS.streamingOptions.maxStreams} stream, flow control ${SUBSCRIBER_OPTIONS.flowControl.maxMessages} messages`;
  for (const split of [false, true]) {
    const r = await runPubsub(emulatorHost, emulatorPid, split);
    const where = split
      ? 'subscriber in its own process'
      : 'publisher and subscriber in one process';
    const clientCpu = split
      ? `publisher ${us(r.publisherS)}, subscriber ${us(r.subscriberS)}`
      : `client ${us(r.publisherS)} (${(MESSAGES / r.publisherS).toFixed(0)}/CPU-s)`;
    console.log(
      `pubsub, ${where}: ${MESSAGES} x 80 KB published in ${(r.publishMs / 1000).toFixed(2)} s (${rate(MESSAGES, r.publishMs)}), published+pulled in ${(r.totalMs / 1000).toFixed(2)} s: ${rate(MESSAGES, r.totalMs)} end to end (target >= 5000/s); CPU per message: emulator ${us(r.serverS)} (${(MESSAGES / r.serverS).toFixed(0)}/CPU-s), ${clientCpu}`,
    );
  }
  // The floor: the same split run against a server that does no Pub/Sub work.
  const { env, child } = await startChild([NULL_SERVER], 1);
  try {
    const r = await runPubsub(env.PUBSUB_EMULATOR_HOST, child.pid!, true);
    const perMessage = (r.publisherS + r.subscriberS + r.serverS) / MESSAGES;
    console.log(
      `pubsub floor, against a server that does no Pub/Sub work: ${rate(MESSAGES, r.totalMs)} end to end; CPU per message: server ${us(r.serverS)}, publisher ${us(r.publisherS)}, subscriber ${us(r.subscriberS)}: 2 cores fit at most ${(2 / perMessage).toFixed(0)}/s, a one-process client at most ${(MESSAGES / (r.publisherS + r.subscriberS)).toFixed(0)}/s`,
    );
  } finally {
    child.kill('SIGTERM');
  }
  console.log(`pubsub ${settings}`);
}

async function benchStorage(): Promise<void> {
  const gcs = new Storage({ projectId: 'bench' });
  const [bucket] = await gcs.createBucket('bench-uploads');
  const data = Buffer.alloc(16 * 1024 * 1024);
  for (let i = 0; i < data.length; i += 997) data[i] = i & 0xff;
  for (const resumable of [false, true]) {
    const n = 16;
    const start = performance.now();
    const cpu = cpuMark();
    for (let i = 0; i < n; i += 4) {
      await Promise.all(
        Array.from({ length: 4 }, (_, j) =>
          bucket
            .file(`img-${resumable}-${i + j}.fits`)
            .save(data, { resumable, validation: false }),
        ),
      );
    }
    const ms = performance.now() - start;
    console.log(
      `storage: ${n} x 16 MB ${resumable ? 'resumable' : 'simple'} uploads in ${(ms / 1000).toFixed(2)} s: ${((n * 1000) / ms).toFixed(2)} uploads/s, ${cpuRates(n, cpu)}`,
    );
  }
  const start = performance.now();
  for (let i = 0; i < 8; i++) await bucket.file(`img-false-${i}.fits`).download();
  console.log(
    `storage: 8 x 16 MB downloads (CRC32C-validated): ${((8 * 1000) / (performance.now() - start)).toFixed(2)} downloads/s`,
  );
}

async function benchFirestore(): Promise<void> {
  const db = new Firestore({ projectId: 'bench' });
  const n = 4000;
  const inFlight = 100;
  const start = performance.now();
  const cpu = cpuMark();
  for (let i = 0; i < n; i += inFlight) {
    await Promise.all(
      Array.from({ length: inFlight }, (_, j) =>
        db
          .collection('diaObjects')
          .doc(String(i + j))
          .set({ ra: i * 0.001, dec: -j * 0.001, nDiaSources: 1 }),
      ),
    );
  }
  const ms = performance.now() - start;
  console.log(
    `firestore: ${n} single-document commits in ${(ms / 1000).toFixed(2)} s: ${rate(n, ms)}, ${cpuRates(n, cpu)}`,
  );
  const tStart = performance.now();
  const txns = 200;
  for (let i = 0; i < txns; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, j) =>
        db.runTransaction(async (t) => {
          const ref = db.collection('diaObjects').doc(String((i + j) % 50));
          const snap = await t.get(ref);
          t.update(ref, { nDiaSources: (snap.get('nDiaSources') as number) + 1 });
        }),
      ),
    );
  }
  console.log(
    `firestore: ${txns} read-modify-write transactions (20 concurrent on 50 documents): ${rate(txns, performance.now() - tStart)}`,
  );
  await db.terminate();
}

export async function run(): Promise<void> {
  console.log(
    `emulators bench: load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`,
  );
  const { env, child } = await startChild(
    [MAIN, '--pubsub-port', '0', '--storage-port', '0', '--firestore-port', '0'],
    3,
  );
  emulatorPid = child.pid!;
  Object.assign(process.env, env);
  try {
    await benchPubsub(env.PUBSUB_EMULATOR_HOST);
    await benchStorage();
    await benchFirestore();
  } finally {
    child.kill('SIGTERM');
  }
}

if (process.argv[2] === '--pubsub-subscriber')
  subscriberProcess(process.argv[3], Number(process.argv[4]));
else if (import.meta.url === `file://${process.argv[1]}`) await run();
