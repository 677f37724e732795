/**
 * Emulator throughput through the official clients, with the emulators in a child process as
 * `npm run emulators` runs them: Pub/Sub 80 KB messages publish -> streaming pull (target
 * >= 5,000/s), Cloud Storage 16 MB uploads/s, Firestore commits/s. Besides wall-clock rates (which
 * on a shared, loaded machine mostly measure the scheduler) it prints work per CPU-second of the
 * emulator process (from /proc) and of the client process: the rates each would reach on an idle core.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../emulators/main.ts', import.meta.url));

let emulatorPid = 0;

/** CPU milliseconds used so far by the emulator process (Linux /proc; NaN elsewhere). */
function emulatorCpuMs(): number {
  const stat = `/proc/${emulatorPid}/stat`;
  if (!existsSync(stat)) return NaN;
  const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Starts `emulators/main.ts` on free ports; resolves its env lines. */
async function startChild(): Promise<{ env: Record<string, string>; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, '--pubsub-port', '0', '--storage-port', '0', '--firestore-port', '0'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  emulatorPid = child.pid ?? 0;
  const env: Record<string, string> = {};
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      for (const m of text.matchAll(/^export (\w+)=(\S+)$/gm)) env[m[1]] = m[2];
      if (Object.keys(env).length === 3) resolve();
    });
    child.on('exit', (code) => reject(new Error(`emulators exited with ${code}`)));
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

async function benchPubsub(): Promise<void> {
  const count = 10_000;
  const payload = Buffer.alloc(80 * 1024, 7);
  const pubsub = new PubSub({ projectId: 'bench' });
  const [topic] = await pubsub.createTopic('bench-throughput');
  const [sub] = await topic.createSubscription('bench-throughput-sub');
  const publisher = pubsub.topic(topic.name, {
    batching: { maxMessages: 100, maxBytes: 9 * 1024 * 1024, maxMilliseconds: 5 },
  });
  const subscriber = pubsub.subscription(sub.name, {
    flowControl: { maxMessages: 5000, maxBytes: 1024 * 1024 * 1024 },
    streamingOptions: { maxStreams: 1 },
  });
  let received = 0;
  const start = performance.now();
  const cpu = cpuMark();
  const done = new Promise<void>((resolve) =>
    subscriber.on('message', (m) => {
      m.ack();
      if (++received === count) resolve();
    }),
  );
  const window = 2000;
  for (let i = 0; i < count; i += window) {
    await Promise.all(
      Array.from({ length: Math.min(window, count - i) }, () =>
        publisher.publishMessage({ data: payload }),
      ),
    );
  }
  const published = performance.now() - start;
  await done;
  const total = performance.now() - start;
  console.log(
    `pubsub: ${count} x 80 KB published in ${(published / 1000).toFixed(2)} s (${rate(count, published)}), published+pulled in ${(total / 1000).toFixed(2)} s: ${rate(count, total)} end to end, ${cpuRates(count, cpu)} (target >= 5000/s)`,
  );
  await subscriber.close();
  await pubsub.close();
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
  const { env, child } = await startChild();
  Object.assign(process.env, env);
  try {
    await benchPubsub();
    await benchStorage();
    await benchFirestore();
  } finally {
    child.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
