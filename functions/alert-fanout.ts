/**
 * alertFanout (topic alert-batches): publishes a detector's alerts to topic `alerts`, one alert a
 * message with its attributes, and archives each one create-only. Chunks are recorded as done, so
 * a redelivered batch re-sends at most the chunk a crash interrupted, and a finished batch nothing.
 * Every chunk is published before any is archived, so the last alert reaches brokers without
 * waiting for the archive, and an archived alert has certainly been published.
 *
 * Crash window: progress is recorded after each chunk of `fanoutChunkSize` alerts (default 100),
 * so a crash between a chunk's publish and its record re-sends at most that one chunk: the worst
 * case is fanoutChunkSize duplicate messages (same ids, same bytes) per crash. An archived alert
 * with other content than the one being archived is an error, dead-lettered with the reason.
 *
 * Fairness: one delivery publishes or archives at most `fanoutSliceSize` alerts (whole chunks),
 * then records its progress and publishes the batch message again, behind the batches already
 * queued, so a flood of alerts from one image delays another image's first alert by at most one
 * slice of each batch ahead of it in the queue, not by the whole flood.
 *
 * Deliveries are counted in the record: after `maxAttempts` (below the subscription's
 * maxDeliveryAttempts) that failed transiently or were killed, the function gives up itself, so
 * the dead letter carries the last error as `reason`, the `stage` and the attempt count.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { alertSchemaById, CURRENT_SCHEMA, schemaIdOf } from '../shared/alerts/schema.js';
import { frameSchemaId } from '../shared/alerts/wire.js';
import { TOPICS } from '../shared/cloud/names.js';
import { MessageError } from '../shared/prompt/next-visit.js';
import { deadLetter } from './dead-letter.js';
import { pubsubMessage, type PubsubDelivery } from './events.js';
import { log } from './log.js';
import { services, type Services } from './context.js';
import { isTransient, withDeadline } from './errors.js';
import type { ProcessingRecord } from './processing-record.js';
import { decodeResult, type AlertBatchMessage, type StoredAlert } from './stored-result.js';

/** Schema ids this instance has registered in the archive (v1/schemas/{id}.json), create-only. */
const registeredSchemas = new Set<number>();

async function registerSchemas(s: Services, ids: Iterable<number>): Promise<void> {
  for (const id of new Set(ids)) {
    if (registeredSchemas.has(id)) continue;
    const schema = alertSchemaById(id);
    if (schema) await s.archive.putSchema(schema);
    registeredSchemas.add(id);
  }
}

/** Cold start (warm.ts): the current alert schema parsed and registered before the first batch. */
export async function warmAlertFanout(s: Services): Promise<void> {
  await registerSchemas(s, [schemaIdOf(CURRENT_SCHEMA.major, CURRENT_SCHEMA.minor)]);
}

function parseBatchMessage(data: Buffer): AlertBatchMessage {
  let m: Partial<AlertBatchMessage>;
  try {
    m = JSON.parse(data.toString('utf8')) as Partial<AlertBatchMessage>;
  } catch {
    throw new MessageError('alert batch message is not JSON');
  }
  if (
    typeof m.key !== 'string' ||
    typeof m.resultKey !== 'string' ||
    typeof m.readoutTime !== 'string'
  ) {
    throw new MessageError('alert batch message lacks key, resultKey or readoutTime');
  }
  return {
    key: m.key,
    resultKey: m.resultKey,
    alertCount: Number(m.alertCount ?? 0),
    readoutTime: m.readoutTime,
  };
}

export async function alertFanout(event: CloudEvent<unknown>): Promise<void> {
  const s = services();
  const message = pubsubMessage(event);
  let batch: AlertBatchMessage;
  try {
    batch = parseBatchMessage(message.data);
  } catch (err) {
    if (err instanceof MessageError)
      return deadLetter(s.pubsub, TOPICS.alertBatches, message, err.message, {
        stage: 'decode',
        attempts: 0,
      });
    throw err;
  }
  const progress = { stage: 'begin' };
  const record = await s.records.beginFanout(batch.key);
  const attempts = record.fanoutAttempts ?? 0;
  if (record.state !== 'published' && attempts > s.config.maxAttempts) {
    const last =
      record.fanoutError ??
      `no attempt finished or reported an error within the ${s.config.deadlineSeconds} s deadline (instance killed?)`;
    return deadLetter(
      s.pubsub,
      TOPICS.alertBatches,
      message,
      `gave up after ${attempts - 1} attempts: ${last}`,
      { stage: record.fanoutStage ?? 'unknown', attempts: attempts - 1 },
    );
  }
  progress.stage = 'read';
  try {
    const finished = await withDeadline(
      fanOut(s, batch, record, progress),
      Date.now() + s.config.deadlineSeconds * 1000,
      s.config.deadlineSeconds,
      () => progress.stage,
    );
    if (!finished) await handBack(s, batch.key, message);
  } catch (err) {
    const reason = `${(err as Error).name}: ${(err as Error).message}`;
    if (isTransient(err)) {
      // Best effort: with Firestore itself down the give-up says the deadline instead.
      await s.records.noteFanoutError(batch.key, reason, progress.stage).catch(() => undefined);
      throw err;
    }
    await deadLetter(s.pubsub, TOPICS.alertBatches, message, reason, {
      stage: progress.stage,
      attempts,
    });
  }
}

/** Queues the rest of a batch behind the waiting ones (the record says what is done). */
async function handBack(s: Services, key: string, message: PubsubDelivery): Promise<void> {
  await s.records.continueFanout(key);
  await s.pubsub
    .topic(TOPICS.alertBatches)
    .publishMessage({ data: message.data, attributes: message.attributes });
  log('INFO', 'alert batch sliced: the rest queued behind the waiting batches', { key });
}

/** Publishes, then archives, the batch's alerts not yet done; false when its slice ran out first. */
async function fanOut(
  s: Services,
  batch: AlertBatchMessage,
  record: ProcessingRecord,
  progress: { stage: string },
): Promise<boolean> {
  if (record.state === 'published') {
    log('INFO', 'alert batch already published', { key: batch.key });
    return true;
  }
  const started = performance.now();
  const bytes = await s.work.get(batch.resultKey);
  if (!bytes) throw new Error(`stored result ${batch.resultKey} not found`);
  const result = decodeResult(bytes);
  const readMs = performance.now() - started;
  await registerSchemas(
    s,
    result.alerts.map((a) => frameSchemaId(a.frame)),
  );
  const published = new Set(record.chunksDone ?? []);
  const archived = new Set(record.chunksArchived ?? []);
  const size = s.config.fanoutChunkSize;
  const chunks = Array.from({ length: Math.ceil(result.alerts.length / size) }, (_, i) =>
    result.alerts.slice(i * size, (i + 1) * size),
  );
  const topic = s.pubsub.topic(TOPICS.alerts, {
    batching: { maxMessages: 1000, maxMilliseconds: 5, maxBytes: 9 * 1024 * 1024 },
  });
  const readout = Date.parse(batch.readoutTime);
  const latencies: number[] = [];
  let slice = Math.max(1, s.config.fanoutSliceSize);
  // Whole chunks, at least one per delivery, so every delivery makes progress.
  const sliceLeft = (part: StoredAlert[]) => {
    if (slice <= 0) return false;
    slice -= part.length;
    return true;
  };
  progress.stage = 'publish';
  for (const [index, part] of chunks.entries()) {
    if (published.has(index)) continue;
    if (!sliceLeft(part)) break;
    await Promise.all(
      part.map((a) => topic.publishMessage({ data: a.frame, attributes: a.attributes })),
    );
    const now = Date.now();
    await s.records.markChunkPublished(batch.key, index);
    published.add(index);
    for (let i = 0; i < part.length; i++) latencies.push((now - readout) / 1000);
  }
  await topic.flush();
  // A sliced delivery's alerts are out: their latency is logged now, as the batch's last line will
  // not see them (also when the slice ran out in the archive, after this delivery's publishes).
  const sliced = (): false => {
    if (latencies.length)
      log('INFO', 'alerts published, batch sliced', {
        key: batch.key,
        publishedNow: latencies.length,
        readoutToAlertSecondsMax: latencies.at(-1) ?? null,
      });
    return false;
  };
  if (published.size < chunks.length) return sliced();
  const publishMs = performance.now() - started - readMs;
  progress.stage = 'archive';
  for (const [index, part] of chunks.entries()) {
    if (archived.has(index)) continue;
    if (!sliceLeft(part)) return sliced();
    await Promise.all(part.map((a) => s.archive.putAlertChecked(a.diaSourceId, a.frame)));
    await s.records.markChunkArchived(batch.key, index);
  }
  await s.records.markPublished(batch.key);
  latencies.sort((a, b) => a - b);
  log('INFO', 'alerts published', {
    key: batch.key,
    alerts: result.alerts.length,
    publishedNow: latencies.length,
    readoutToAlertSecondsMedian: latencies[Math.floor(latencies.length / 2)] ?? null,
    readoutToAlertSecondsMax: latencies.at(-1) ?? null,
    stagesMs: {
      readResult: Math.round(readMs),
      publish: Math.round(publishMs),
      archive: Math.round(performance.now() - started - readMs - publishMs),
    },
  });
  return true;
}
