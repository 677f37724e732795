/**
 * alertFanout on the emulators, called as the trigger calls it: deliveries that fail transiently
 * (or are killed) are counted in the processing record and given up by the function itself,
 * before the subscription's maxDeliveryAttempts, with `reason`, `stage` and `attempts`; a flood
 * of alerts from one image delays another image's alerts by at most one slice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message, Subscription } from '@google-cloud/pubsub';
import {
  givenUpOnRefusedConnections,
  unreachableStorage,
  waitForLetter,
} from '../helpers/function-cloud.js';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';
import { startTriggerRunner } from '../../emulators/triggers.js';
import { alertFanout } from '../../functions/alert-fanout.js';
import { createServices, setServices, type Services } from '../../functions/context.js';
import { encodeResult, resultKey } from '../../functions/stored-result.js';
import { GcsObjectStore } from '../../shared/adapters/storage.js';
import type { VisitBatch } from '../../shared/apdb/types.js';
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

const letterFor = (key: string) => waitForLetter(letters, (a) => a.key === key, key);

test('transient failures are retried, then given up by alertFanout before the subscription would, with the reason', async () => {
  const key = 'APSIM_g-net_1';
  const event = batchEvent(key);
  // The work bucket behind a closed port: every read of the stored result is a connection refused.
  const down = unreachableStorage(s.config.projectId);
  const a = await givenUpOnRefusedConnections(
    s,
    { ...s, work: new GcsObjectStore(down.bucket(s.buckets.work.name)) },
    alertFanout,
    event,
    () => letterFor(key),
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

/** A stored result of `count` alerts of image `key` (opaque Confluent frames: fan-out never decodes them). */
async function storeResult(key: string, count: number, firstId: number): Promise<void> {
  const alerts = Array.from({ length: count }, (_, i) => {
    const frame = Buffer.alloc(64, i % 251);
    frame[0] = 0;
    frame.writeUInt32BE(0xffff, 1);
    return { diaSourceId: firstId + i, frame, attributes: { image: key } };
  });
  const batch = { diaSources: [], diaObjects: [] } as unknown as VisitBatch;
  await s.work.putIfAbsent(
    resultKey(key),
    encodeResult({ key, batch, alerts, readoutTime: '2026-12-06T20:00:00Z' }),
    'application/octet-stream',
  );
}

test('fan-out fairness: a flood from one image delays the next image by at most one slice', async () => {
  const config = { ...s.config, fanoutChunkSize: 50, fanoutSliceSize: 100 };
  setServices({ ...s, config });
  const flood = 'APSIM_g-flood_3';
  const small = 'APSIM_g-small_4';
  await storeResult(flood, 400, 1_000_000);
  await storeResult(small, 3, 2_000_000);
  const [watch] = await s.pubsub.topic(TOPICS.alerts).createSubscription('watch-fairness');
  const order: string[] = [];
  const ids = new Set<string>();
  watch.on('message', (m: Message) => {
    order.push(m.attributes.image);
    ids.add(m.id);
    m.ack();
  });
  // The functions' log lines (stderr), read for the latency every delivery reports.
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    lines.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  const runner = await startTriggerRunner({
    pubsubHost: emulators.pubsubHost,
    projectId: s.config.projectId,
    triggers: [
      {
        topic: TOPICS.alertBatches,
        handler: (event) => alertFanout(event as CloudEvent<unknown>),
        maxConcurrency: 1,
      },
    ],
  });
  try {
    const batches = s.pubsub.topic(TOPICS.alertBatches);
    for (const [key, count] of [
      [flood, 400],
      [small, 3],
    ] as const)
      await batches.publishMessage({
        json: {
          key,
          resultKey: resultKey(key),
          alertCount: count,
          readoutTime: '2026-12-06T20:00:00Z',
        },
      });
    const done = async () =>
      order.length >= 403 && (await s.records.get(flood))?.state === 'published';
    for (let i = 0; i < 300 && !(await done()); i++) await new Promise((r) => setTimeout(r, 100));
  } finally {
    process.stderr.write = write;
    await runner.stop();
    await watch.close();
    setServices(s);
  }
  assert.equal(order.length, 403, 'every alert once');
  // Every published alert's latency is logged, also by a delivery whose slice ran out in the archive.
  const reported = lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { key?: string; message: string; publishedNow?: number })
    .filter((e) => e.key === flood && e.message.startsWith('alerts published'))
    .reduce((n, e) => n + (e.publishedNow ?? 0), 0);
  assert.equal(reported, 400, 'alerts whose latency a log line reports');
  assert.equal(ids.size, 403);
  const floodBefore = order.indexOf(small);
  assert.ok(
    floodBefore <= config.fanoutSliceSize,
    `${floodBefore} flood alerts went out before the small image's first (slice ${config.fanoutSliceSize})`,
  );
  assert.equal((await s.records.get(flood))?.state, 'published');
  assert.deepEqual((await s.records.get(flood))?.chunksArchived, [0, 1, 2, 3, 4, 5, 6, 7]);
});
