/**
 * Decoding of the events that drive the functions: Pub/Sub messages inside CloudEvents (as
 * Eventarc sends them, and as the functions framework converts a push delivery), and the Cloud
 * Storage notifications inside them.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { MessageError } from '../shared/prompt/next-visit.js';

/** A Pub/Sub message as delivered: payload bytes, string attributes, id and publish time. */
export interface PubsubDelivery {
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
  publishTime: Date;
  /**
   * Which delivery of the message this is (1 = the first): Pub/Sub's `deliveryAttempt`, which the
   * push body (so Eventarc's event data) carries when the subscription has a dead-letter policy.
   */
  deliveryAttempt?: number;
}

/** Largest message payload accepted, bytes (Pub/Sub itself allows 10 MB). */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** The time a field states, or `fallback()` when it is absent or not a time (never an Invalid Date). */
function dateOr(value: unknown, fallback: () => Date): Date {
  const t = typeof value === 'string' ? new Date(value) : null;
  return t && Number.isFinite(t.getTime()) ? t : fallback();
}

/** Extracts the Pub/Sub message from a `google.cloud.pubsub.topic.v1.messagePublished` event. */
export function pubsubMessage(event: CloudEvent<unknown>): PubsubDelivery {
  const data = event.data as
    { message?: Record<string, unknown>; deliveryAttempt?: unknown } | undefined;
  const message = data?.message;
  if (!message || typeof message !== 'object')
    throw new MessageError(`event ${event.id}: no Pub/Sub message in the CloudEvent data`);
  const encoded = typeof message.data === 'string' ? message.data : '';
  if (encoded.length > (MAX_MESSAGE_BYTES * 4) / 3 + 4)
    throw new MessageError(`event ${event.id}: message larger than ${MAX_MESSAGE_BYTES} bytes`);
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(
    (message.attributes as Record<string, unknown> | undefined) ?? {},
  )) {
    if (typeof v === 'string') attributes[k] = v;
  }
  const messageId = String(message.messageId ?? message.message_id ?? event.id);
  const publishTime = dateOr(
    message.publishTime ?? message.publish_time ?? event.time,
    () => new Date(),
  );
  const attempt = Number(data.deliveryAttempt);
  return {
    data: Buffer.from(encoded, 'base64'),
    attributes,
    messageId,
    publishTime,
    ...(Number.isSafeInteger(attempt) && attempt > 0 ? { deliveryAttempt: attempt } : {}),
  };
}

/** The object named by a Cloud Storage notification (JSON_API_V1 payload and attributes). */
export interface StorageObjectEvent {
  bucket: string;
  name: string;
  generation: string;
  eventType: string;
  /** When the object was finalized: the image's readout-complete time for latency. */
  timeCreated: Date;
  size: number;
}

export function storageNotification(message: PubsubDelivery): StorageObjectEvent {
  const a = message.attributes;
  let payload: Record<string, unknown> = {};
  if (message.data.length > 0) {
    try {
      payload = JSON.parse(message.data.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new MessageError(
        `message ${message.messageId}: storage notification payload is not JSON`,
      );
    }
  }
  const bucket = String(payload.bucket ?? a.bucketId ?? '');
  const name = String(payload.name ?? a.objectId ?? '');
  if (!bucket || !name)
    throw new MessageError(
      `message ${message.messageId}: not a storage notification (no bucket/object)`,
    );
  return {
    bucket,
    name,
    generation: String(payload.generation ?? a.objectGeneration ?? ''),
    eventType: a.eventType ?? 'OBJECT_FINALIZE',
    timeCreated: dateOr(payload.timeCreated ?? a.eventTime, () => message.publishTime),
    size: Number(payload.size ?? Number.NaN),
  };
}
