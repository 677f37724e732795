/**
 * Pub/Sub notifications for Cloud Storage, in GCS's format: the JSON_API_V1 payload is the object
 * resource, and the attributes are notificationConfig, eventType, payloadFormat, bucketId, objectId,
 * objectGeneration, eventTime (+ overwroteGeneration / overwrittenByGeneration, custom attributes).
 */
import {
  HttpError,
  type BucketRecord,
  type NotificationConfig,
  type ObjectMetadata,
} from './store.js';

/** Publishes one message to a topic given as `projects/{p}/topics/{t}`. */
export type NotificationPublisher = (
  topic: string,
  data: Buffer,
  attributes: Record<string, string>,
) => void;

export type EventType = 'OBJECT_FINALIZE' | 'OBJECT_DELETE' | 'OBJECT_METADATA_UPDATE';

const EVENT_TYPES = new Set([
  'OBJECT_FINALIZE',
  'OBJECT_DELETE',
  'OBJECT_METADATA_UPDATE',
  'OBJECT_ARCHIVE',
]);

/** Validates and completes a notificationConfig resource posted by a client. */
export function createNotificationConfig(
  bucket: BucketRecord,
  body: Record<string, unknown>,
  id: string,
): NotificationConfig {
  const topic = typeof body.topic === 'string' ? body.topic : '';
  if (!/^(\/\/pubsub\.googleapis\.com\/)?projects\/[^/]+\/topics\/[^/]+$/.test(topic)) {
    throw new HttpError(
      400,
      `Invalid Google Cloud Pub/Sub topic. It should look like '//pubsub.googleapis.com/projects/*/topics/*'.`,
    );
  }
  const format = body.payload_format ?? 'JSON_API_V1';
  if (format !== 'JSON_API_V1' && format !== 'NONE')
    throw new HttpError(400, `Invalid payload format: ${String(format)}`);
  const eventTypes = body.event_types as string[] | undefined;
  if (eventTypes && (!Array.isArray(eventTypes) || eventTypes.some((t) => !EVENT_TYPES.has(t))))
    throw new HttpError(400, 'Invalid event type.');
  const name = bucket.meta.name;
  return {
    kind: 'storage#notification',
    id,
    selfLink: `/storage/v1/b/${name}/notificationConfigs/${id}`,
    topic: topic.startsWith('//') ? topic : `//pubsub.googleapis.com/${topic}`,
    payload_format: format,
    ...(eventTypes ? { event_types: eventTypes } : {}),
    ...(body.custom_attributes
      ? { custom_attributes: body.custom_attributes as Record<string, string> }
      : {}),
    ...(body.object_name_prefix ? { object_name_prefix: String(body.object_name_prefix) } : {}),
    etag: id,
  };
}

/** Sends `event` for `object` to every matching notification config of the bucket. */
export function notify(
  bucket: BucketRecord,
  event: EventType,
  object: ObjectMetadata,
  publish: NotificationPublisher | undefined,
  extra: Record<string, string> = {},
): void {
  if (!publish) return;
  for (const config of bucket.notifications.values()) {
    if (config.event_types && !config.event_types.includes(event)) continue;
    if (config.object_name_prefix && !object.name.startsWith(config.object_name_prefix)) continue;
    const attributes: Record<string, string> = {
      ...(config.custom_attributes ?? {}),
      notificationConfig: `projects/_/buckets/${object.bucket}/notificationConfigs/${config.id}`,
      eventType: event,
      payloadFormat: config.payload_format,
      bucketId: object.bucket,
      objectId: object.name,
      objectGeneration: object.generation,
      eventTime: new Date().toISOString(),
      ...extra,
    };
    const data =
      config.payload_format === 'JSON_API_V1'
        ? Buffer.from(JSON.stringify(object))
        : Buffer.alloc(0);
    publish(config.topic.replace('//pubsub.googleapis.com/', ''), data, attributes);
  }
}
