/**
 * What the emulators' `--data` journal costs: Pub/Sub messages/s (publish -> streaming pull ->
 * ack, 80 KB and 1 KB payloads) and Firestore documents/s (single-document commits), with the
 * emulators in a child process in memory, with the journal, and with the journal fsync'd. Besides
 * wall-clock rates (the scheduler's, on a shared machine) it prints the emulator's CPU per item.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sigkill, startEmulatorProcess } from '../emulators/process.js';

const MESSAGES = 4000;
const DOCUMENTS = 3000;
const IN_FLIGHT = 100;

/** CPU milliseconds (user + system) used so far by process `pid` (Linux /proc). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

interface Rate {
  perS: number;
  /** Emulator CPU microseconds per item. */
  cpuUs: number;
}

async function measure(pid: number, count: number, work: () => Promise<void>): Promise<Rate> {
  const cpu0 = cpuMs(pid);
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  return { perS: (count * 1000) / ms, cpuUs: ((cpuMs(pid) - cpu0) * 1000) / count };
}

/** Publishes `MESSAGES` payloads and waits until one streaming subscriber acked them all. */
async function pubsubRate(host: string, pid: number, bytes: number): Promise<Rate> {
  const pubsub = new PubSub({ projectId: 'bench', apiEndpoint: host });
  const id = `journal-${bytes}-${Date.now()}`;
  const [topic] = await pubsub.createTopic(id);
  const [sub] = await topic.createSubscription(id, {
    flowControl: { maxMessages: 5000, maxBytes: 1024 ** 3 },
  });
  const publisher = pubsub.topic(topic.name, {
    batching: { maxMessages: 100, maxBytes: 9 * 1024 * 1024, maxMilliseconds: 5 },
  });
  const payload = Buffer.alloc(bytes, 7);
  let received = 0;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  sub.on('message', (m: Message) => {
    m.ack();
    if (++received === MESSAGES) done();
  });
  const rate = await measure(pid, MESSAGES, async () => {
    for (let i = 0; i < MESSAGES; i += 1000)
      await Promise.all(
        Array.from({ length: 1000 }, () => publisher.publishMessage({ data: payload })),
      );
    await finished;
  });
  await sub.close();
  await pubsub.close();
  return rate;
}

async function firestoreRate(host: string, pid: number): Promise<Rate> {
  const db = new Firestore({ projectId: 'bench', host, ssl: false });
  await db.doc('warm/up').set({ x: 1 });
  const rate = await measure(pid, DOCUMENTS, async () => {
    for (let i = 0; i < DOCUMENTS; i += IN_FLIGHT)
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, (_, j) =>
          db
            .collection('diaObjects')
            .doc(String(i + j))
            .set({ ra: i * 1e-3, dec: -j * 1e-3, n: 1 }),
        ),
      );
  });
  await db.terminate();
  return rate;
}

export async function run(): Promise<void> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  console.log(
    `journal bench: load average ${loadavg()[0].toFixed(1)}; rate (emulator CPU per item)`,
  );
  const modes: Array<[string, (dir: string) => string[]]> = [
    ['in memory', () => []],
    ['--data (journal)', (dir) => ['--data', dir]],
    ['--data --fsync', (dir) => ['--data', dir, '--fsync']],
  ];
  const show = (r: Rate) => `${r.perS.toFixed(0)}/s (${r.cpuUs.toFixed(0)} us)`;
  console.log('| mode | Pub/Sub 80 KB messages | Pub/Sub 1 KB messages | Firestore documents |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, args] of modes) {
    const dir = mkdtempSync(join(tmpdir(), 'journal-bench-'));
    const { env, child } = await startEmulatorProcess(
      ['--bare', '--pubsub-port', '0', '--storage-port', '0', '--firestore-port', '0'].concat(
        args(dir),
      ),
    );
    try {
      const big = await pubsubRate(env.PUBSUB_EMULATOR_HOST, child.pid!, 80 * 1024);
      const small = await pubsubRate(env.PUBSUB_EMULATOR_HOST, child.pid!, 1024);
      const docs = await firestoreRate(env.FIRESTORE_EMULATOR_HOST, child.pid!);
      console.log(`| ${name} | ${show(big)} | ${show(small)} | ${show(docs)} |`);
    } finally {
      await sigkill(child);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
