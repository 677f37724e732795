/**
 * Every write an emulator acknowledged with `--data` survives a SIGKILL right after the reply:
 * objects, published messages, documents, acks and delivery attempt counts (the journal is written
 * before each reply and replayed at start).
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub, v1 } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { sigkill, startEmulatorProcess, type EmulatorProcess } from '../../emulators/process.js';

process.env.METADATA_SERVER_DETECTION = 'none';
const PROJECT = 'durable';

/** `npm run emulators -- --bare --data DIR` on free ports, as a process of its own. */
function startChild(dir: string): Promise<EmulatorProcess> {
  return startEmulatorProcess([
    '--bare',
    '--data',
    dir,
    '--pubsub-port',
    '0',
    '--storage-port',
    '0',
    '--firestore-port',
    '0',
  ]);
}

const kill = (p: EmulatorProcess) => sigkill(p.child);

function clients(env: Record<string, string>) {
  const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: env.PUBSUB_EMULATOR_HOST });
  const [host, port] = env.PUBSUB_EMULATOR_HOST.split(':');
  const subscriber = new v1.SubscriberClient({
    servicePath: host,
    port: Number(port),
    sslCreds: grpc.credentials.createInsecure(),
  });
  const storage = new Storage({ projectId: PROJECT, apiEndpoint: env.STORAGE_EMULATOR_HOST });
  const firestore = new Firestore({
    projectId: PROJECT,
    host: env.FIRESTORE_EMULATOR_HOST,
    ssl: false,
  });
  const close = async () => {
    await Promise.all([pubsub.close(), subscriber.close(), firestore.terminate()]);
  };
  return { pubsub, subscriber, storage, firestore, close };
}

it('a SIGKILL right after acknowledged writes of each kind loses none of them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'durable-'));
  const subscription = `projects/${PROJECT}/subscriptions/work`;
  const big = Buffer.alloc(300_000, 7);
  try {
    const first = await startChild(dir);
    const a = clients(first.env);
    const [topic] = await a.pubsub.createTopic('work');
    const [dead] = await a.pubsub.createTopic('work-dead');
    await topic.createSubscription('work', {
      deadLetterPolicy: { deadLetterTopic: dead.name, maxDeliveryAttempts: 5 },
    });
    const [bucket] = await a.storage.createBucket('durable-bucket');
    await bucket.file('raw/big.fits').save(big, { resumable: false });
    await bucket.file('raw/small.txt').save('small', { resumable: false });
    await bucket.file('raw/small.txt').setMetadata({ metadata: { state: 'patched' } });
    for (const n of [1, 2, 3]) await topic.publishMessage({ data: Buffer.from(`m${n}`) });
    const [pulled] = await a.subscriber.pull({ subscription, maxMessages: 10 });
    const messages = pulled.receivedMessages ?? [];
    assert.equal(messages.length, 3);
    const m1 = messages.find((m) => m.message?.data?.toString() === 'm1')!;
    await a.subscriber.acknowledge({ subscription, ackIds: [m1.ackId!] });
    await a.firestore.doc('records/one').set({ state: 'started', n: 1 });
    await a.firestore.runTransaction(async (tx) => {
      const doc = await tx.get(a.firestore.doc('records/one'));
      tx.update(doc.ref, { state: 'done', n: (doc.get('n') as number) + 1 });
    });
    await a.firestore.doc('records/gone').set({ x: 1 });
    await a.firestore.doc('records/gone').delete();
    await kill(first);
    await a.close();

    const second = await startChild(dir);
    const b = clients(second.env);
    try {
      const [data] = await b.storage.bucket('durable-bucket').file('raw/big.fits').download();
      assert.ok(data.equals(big));
      const [meta] = await b.storage.bucket('durable-bucket').file('raw/small.txt').getMetadata();
      assert.equal(meta.metadata?.state, 'patched');
      const one = await b.firestore.doc('records/one').get();
      assert.deepEqual(one.data(), { state: 'done', n: 2 });
      assert.equal((await b.firestore.doc('records/gone').get()).exists, false);
      const [again] = await b.subscriber.pull({ subscription, maxMessages: 10 });
      const redelivered = (again.receivedMessages ?? [])
        .map((m) => [m.message?.data?.toString(), m.deliveryAttempt])
        .sort();
      // m1 stays acked; m2 and m3 come back on their second delivery attempt.
      assert.deepEqual(redelivered, [
        ['m2', 2],
        ['m3', 2],
      ]);
      const [published] = await b.pubsub.topic('work').publishMessage({ data: Buffer.from('m4') });
      assert.equal(published, '4');
    } finally {
      await kill(second);
      await b.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
