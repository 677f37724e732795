/**
 * Bad input gets Google's error codes and never brings an emulator down; state survives a restart
 * with --data; `npm run emulators` prints the env lines.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';

describe('malformed requests', () => {
  let emulators: RunningEmulators;
  before(
    async () =>
      (emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 })),
  );
  after(() => emulators.stop());

  it('Storage answers 400/404/405/416 JSON errors and keeps serving', async () => {
    const base = emulators.storageHost;
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, { method: 'POST', body, headers });
    assert.equal((await post('/storage/v1/b', '{not json')).status, 400);
    assert.equal((await post('/storage/v1/b', '{"name":"ok-bucket"}')).status, 200);
    assert.equal(
      (
        await post('/upload/storage/v1/b/ok-bucket/o?uploadType=multipart', 'garbage', {
          'content-type': 'multipart/related; boundary=x',
        })
      ).status,
      400,
    );
    assert.equal(
      (await post('/upload/storage/v1/b/ok-bucket/o?uploadType=bogus', 'x')).status,
      400,
    );
    assert.equal(
      (await post('/upload/storage/v1/b/ok-bucket/o?uploadType=media&name=', 'x')).status,
      400,
    );
    assert.equal(
      (
        await post(
          '/upload/storage/v1/b/ok-bucket/o?uploadType=media&name=a&ifGenerationMatch=abc',
          'x',
        )
      ).status,
      400,
    );
    assert.equal((await fetch(`${base}/storage/v1/b/ok-bucket/o/a%ZZ`)).status, 400);
    assert.equal((await fetch(`${base}/nowhere`)).status, 404);
    assert.equal((await fetch(`${base}/b/ok-bucket/o/missing?alt=media`)).status, 404);
    const session = await post(
      '/upload/storage/v1/b/ok-bucket/o?uploadType=resumable&name=r',
      '{}',
    );
    const location = session.headers.get('location')!;
    assert.equal(
      (
        await fetch(location, {
          method: 'PUT',
          body: 'x',
          headers: { 'content-range': 'nonsense' },
        })
      ).status,
      400,
    );
    assert.equal(
      (
        await fetch(location, {
          method: 'PUT',
          body: 'abc',
          headers: { 'content-range': 'bytes 5-7/8' },
        })
      ).status,
      400,
    );
    const partial = await fetch(location, {
      method: 'PUT',
      body: 'abc',
      headers: { 'content-range': 'bytes 0-2/6' },
    });
    assert.equal(partial.status, 308);
    assert.equal(partial.headers.get('range'), 'bytes=0-2');
    const done = await fetch(location, {
      method: 'PUT',
      body: 'def',
      headers: { 'content-range': 'bytes 3-5/6' },
    });
    assert.equal(done.status, 200);
    const ranged = await fetch(`${base}/b/ok-bucket/o/r?alt=media`, {
      headers: { range: 'bytes=10-20' },
    });
    assert.equal(ranged.status, 416);
    const media = await fetch(`${base}/download/storage/v1/b/ok-bucket/o/r?alt=media`);
    assert.equal(await media.text(), 'abcdef');
    const error = (await (await fetch(`${base}/b/nobucket`)).json()) as {
      error: { code: number; errors: Array<{ reason: string }> };
    };
    assert.equal(error.error.code, 404);
    assert.equal(error.error.errors[0].reason, 'notFound');
  });

  it('survives undecodable gRPC payloads and unknown methods', async () => {
    for (const [host, method] of [
      [emulators.pubsubHost, '/google.pubsub.v1.Publisher/Publish'],
      [emulators.firestoreHost, '/google.firestore.v1.Firestore/Commit'],
      [emulators.pubsubHost, '/google.pubsub.v1.Publisher/NoSuchMethod'],
    ]) {
      const client = new grpc.Client(host, grpc.credentials.createInsecure());
      const code = await new Promise<number>((resolve) =>
        client.makeUnaryRequest(
          method,
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from([0xff, 0xff, 0xff, 0x0f]),
          (err) => resolve(err?.code ?? 0),
        ),
      );
      assert.notEqual(code, grpc.status.OK, method);
      client.close();
    }
    const pubsub = new PubSub({ projectId: 'robust', apiEndpoint: emulators.pubsubHost });
    const [topic] = await pubsub.createTopic('after-garbage');
    assert.ok((await topic.publishMessage({ data: Buffer.from('alive') })).length > 0);
    await pubsub.close();
  });

  it('Pub/Sub answers malformed gRPC calls with INVALID_ARGUMENT / NOT_FOUND', async () => {
    const pubsub = new PubSub({ projectId: 'robust', apiEndpoint: emulators.pubsubHost });
    const subscriber = new (await import('@google-cloud/pubsub')).v1.SubscriberClient({
      servicePath: 'localhost',
      port: Number(emulators.pubsubHost.split(':')[1]),
      sslCreds: grpc.credentials.createInsecure(),
    });
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 0,
        (e: { code: number }) => e.code,
      );
    assert.equal(
      await code(subscriber.pull({ subscription: 'not/a/name', maxMessages: 1 })),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(
      await code(
        subscriber.pull({ subscription: 'projects/robust/subscriptions/none', maxMessages: 1 }),
      ),
      grpc.status.NOT_FOUND,
    );
    const [topic] = await pubsub.createTopic('robust-topic');
    const [sub] = await topic.createSubscription('robust-sub');
    assert.equal(
      await code(subscriber.pull({ subscription: sub.name, maxMessages: 0 })),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(
      await code(subscriber.acknowledge({ subscription: sub.name, ackIds: [] })),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(
      await code(subscriber.seek({ subscription: sub.name })),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.equal(
      await code(
        topic.createSubscription('robust-dl', {
          deadLetterPolicy: { deadLetterTopic: topic.name, maxDeliveryAttempts: 2 },
        }),
      ),
      grpc.status.INVALID_ARGUMENT,
    );
    assert.deepEqual(
      (await topic.publishMessage({ data: Buffer.from('still alive') })).length > 0,
      true,
    );
    await subscriber.close();
    await pubsub.close();
  });

  it('Firestore answers bad names and missing documents with INVALID_ARGUMENT / NOT_FOUND', async () => {
    const db = new Firestore({
      projectId: 'robust',
      host: emulators.firestoreHost,
      ssl: false,
      customHeaders: { Authorization: 'Bearer owner' },
    });
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 0,
        (e: { code: number }) => e.code,
      );
    assert.equal(
      await code(db.collection('c').doc('missing').update({ a: 1 })),
      grpc.status.NOT_FOUND,
    );
    assert.equal(
      await code(db.collection('c').doc('__bad__').set({ a: 1 })),
      grpc.status.INVALID_ARGUMENT,
    );
    await db.collection('c').doc('ok').set({ a: 1 });
    assert.equal((await db.collection('c').doc('ok').get()).get('a'), 1);
    await db.terminate();
  });
});

describe('persistence and the command line', () => {
  it('restores topics, unacked messages, objects and documents from --data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emulators-'));
    try {
      const first = await startEmulators({
        pubsubPort: 0,
        storagePort: 0,
        firestorePort: 0,
        dataDir: dir,
      });
      const big = Buffer.alloc(200_000, 3);
      const [topic] = await new PubSub({
        projectId: 'p',
        apiEndpoint: first.pubsubHost,
      }).createTopic('durable');
      await topic.createSubscription('durable-sub');
      await topic.publishMessage({ data: big, attributes: { k: 'v' } });
      const gcs = new Storage({ projectId: 'p', apiEndpoint: first.storageHost });
      const [bucket] = await gcs.createBucket('durable-bucket');
      await bucket.file('obj').save(big, { resumable: false });
      const db = new Firestore({ projectId: 'p', host: first.firestoreHost, ssl: false });
      await db.collection('c').doc('d').set({ n: 1 });
      await db.terminate();
      await first.stop();

      const second = await startEmulators({
        pubsubPort: 0,
        storagePort: 0,
        firestorePort: 0,
        dataDir: dir,
      });
      const pubsub = new PubSub({ projectId: 'p', apiEndpoint: second.pubsubHost });
      const message = await new Promise<{ data: Buffer; attributes: Record<string, string> }>(
        (resolve) => {
          const sub = pubsub.subscription('durable-sub');
          sub.once('message', (m) => {
            m.ack();
            void sub.close().then(() => resolve(m));
          });
        },
      );
      assert.ok(message.data.equals(big));
      assert.equal(message.attributes.k, 'v');
      assert.ok(second.storage.store.getObject('durable-bucket', 'obj', {}).data.equals(big));
      const db2 = new Firestore({ projectId: 'p', host: second.firestoreHost, ssl: false });
      assert.equal((await db2.collection('c').doc('d').get()).get('n'), 1);
      await db2.terminate();
      await pubsub.close();
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('npm run emulators prints the export lines and stops on SIGTERM', async () => {
    const main = fileURLToPath(new URL('../../emulators/main.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        main,
        '--pubsub-port',
        '0',
        '--storage-port',
        '0',
        '--firestore-port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let text = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('FIRESTORE_EMULATOR_HOST')) resolve();
      });
    });
    assert.match(text, /^export PUBSUB_EMULATOR_HOST=localhost:\d+$/m);
    assert.match(text, /^export STORAGE_EMULATOR_HOST=http:\/\/localhost:\d+$/m);
    assert.match(text, /^export FIRESTORE_EMULATOR_HOST=localhost:\d+$/m);
    const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
  });
});
