/**
 * alertFanout on the emulators, called as the trigger calls it: deliveries that fail transiently
 * (or are killed) are counted in the processing record and given up by the function itself,
 * before the subscription's maxDeliveryAttempts, with `reason`, `stage` and `attempts`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';
import { alertFanout } from '../../functions/alert-fanout.js';
import { createServices, setServices, type Services } from '../../functions/context.js';
import { GcsObjectStore } from '../../shared/adapters/storage.js';
import { deadLetterTopic, TOPICS } from '../../shared/cloud/names.js';

let emulators: RunningEmulators;
let s: Services;
let dead: Subscription;
const letters: Message[] = [];

before(async () => {
  emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
  Object.assign(process.env, emulators.env);
  s = createServices({
    ...createServices().config,
    projectId: 'test-alert-fanout',
    bucketPrefix: 'af',
  });
  setServices(s);
  for (const bucket of Object.values(s.buckets)) await bucket.create();
  for (const topic of [TOPICS.alerts, TOPICS.alertBatches, deadLetterTopic(TOPICS.alertBatches)])
    await s.pubsub.createTopic(topic);
  [dead] = await s.pubsub
    .topic(deadLetterTopic(TOPICS.alertBatches))
    .createSubscription('watch-fanout-dead');
  dead.on('message', (m: Message) => {
    letters.push(m);
    m.ack();
  });
});

after(async () => {
  await dead?.close();
  setServices(null);
  await s?.pubsub.close();
  await s?.firestore.terminate();
  await emulators?.stop();
});

let eventId = 0;
/** The alert-batches delivery of detector `key`'s stored result. */
function batchEvent(key: string): CloudEvent<unknown> {
  const batch = {
    key,
    resultKey: `results/${key}.bin`,
    alertCount: 3,
    readoutTime: '2026-12-06T20:00:00Z',
  };
  const id = `fanout-${++eventId}`;
  return {
    specversion: '1.0',
    id,
    source: 'test',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: {
      message: {
        data: Buffer.from(JSON.stringify(batch)).toString('base64'),
        attributes: { key },
        messageId: id,
      },
    },
  } as CloudEvent<unknown>;
}

async function letterFor(key: string): Promise<Record<string, string>> {
  for (let i = 0; i < 100; i++) {
    const m = letters.find((l) => l.attributes.key === key);
    if (m) return m.attributes;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no dead letter for ${key}`);
}

test('transient failures are retried, then given up by alertFanout before the subscription would, with the reason', async () => {
  const key = 'APSIM_g-net_1';
  const event = batchEvent(key);
  // The work bucket behind a closed port: every read of the stored result is a connection refused.
  const emulatorHost = process.env.STORAGE_EMULATOR_HOST;
  process.env.STORAGE_EMULATOR_HOST = 'http://127.0.0.1:9';
  const down = new Storage({ projectId: s.config.projectId, retryOptions: { autoRetry: false } });
  process.env.STORAGE_EMULATOR_HOST = emulatorHost;
  setServices({ ...s, work: new GcsObjectStore(down.bucket(s.buckets.work.name)) });
  try {
    for (let attempt = 1; attempt <= s.config.maxAttempts; attempt++)
      await assert.rejects(alertFanout(event), /ECONNREFUSED|connect/);
    await alertFanout(event);
  } finally {
    setServices(s);
  }
  assert.ok(s.config.maxAttempts < 5, 'below the subscription maxDeliveryAttempts (5)');
  const a = await letterFor(key);
  assert.match(
    a.reason,
    new RegExp(`^gave up after ${s.config.maxAttempts} attempts: .*(ECONNREFUSED|connect)`),
  );
  assert.equal(a.stage, 'read');
  assert.equal(a.attempts, String(s.config.maxAttempts));
});

test('deliveries killed before they could report are counted and given up with a reason', async () => {
  const key = 'APSIM_g-kill_2';
  // Each kill leaves only the counted start of its delivery behind.
  for (let attempt = 1; attempt <= s.config.maxAttempts; attempt++)
    await s.records.beginFanout(key);
  await alertFanout(batchEvent(key));
  const a = await letterFor(key);
  assert.match(a.reason, /gave up after \d+ attempts: no attempt finished .*deadline/);
  assert.equal(a.attempts, String(s.config.maxAttempts));
});
