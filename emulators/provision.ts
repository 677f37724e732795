/**
 * The system's resources on the emulators, as Terraform declares them in the cloud: the buckets
 * `<prefix>-raw|templates|alerts|work`, the topics (`next-visit`, `raw-arrived`, `alert-batches`,
 * `alerts`) and the functions' dead-letter topics, the raw bucket's OBJECT_FINALIZE notification
 * to `raw-arrived`, and the alert schema registered in the archive. Idempotent: `npm run
 * emulators` provisions at start so that a broker can subscribe to `alerts` before the night
 * starts, and `npm start` provisions again (a no-op) when it reuses those emulators.
 */
import type { PubSub } from '@google-cloud/pubsub';
import type { Bucket, Storage } from '@google-cloud/storage';
import { GcsObjectStore } from '../shared/adapters/storage.js';
import { AlertArchive } from '../shared/alerts/archive.js';
import { loadAlertSchema } from '../shared/alerts/schema.js';
import { emulatorConfig } from './config.js';
import {
  BUCKET_ROLES,
  bucketName,
  deadLetterTopic,
  TOPICS,
  type BucketRole,
} from '../shared/cloud/names.js';

/** The project id of the local system (.firebaserc's default project). */
export const LOCAL_PROJECT_ID = emulatorConfig().projectId;
/** The bucket prefix of the local system. */
export const LOCAL_BUCKET_PREFIX = 'ap';
/** Topics whose messages drive a function (each has a dead-letter topic). */
export const FUNCTION_TOPICS = [
  TOPICS.nextVisit,
  TOPICS.rawArrived,
  TOPICS.alertBatches,
  TOPICS.templateCandidates,
] as const;

const ALREADY_EXISTS = 6;
const CONFLICT = 409;

async function ignoreExisting(p: Promise<unknown>): Promise<void> {
  await p.catch((err: { code?: number }) => {
    if (err.code !== ALREADY_EXISTS && err.code !== CONFLICT) throw err;
  });
}

/** Creates what is missing of the system's buckets, topics, notification and schema; returns the buckets. */
export async function provisionSystem(
  pubsub: PubSub,
  storage: Storage,
  prefix = LOCAL_BUCKET_PREFIX,
): Promise<Record<BucketRole, Bucket>> {
  const buckets = Object.fromEntries(
    BUCKET_ROLES.map((role) => [role, storage.bucket(bucketName(prefix, role))]),
  ) as Record<BucketRole, Bucket>;
  for (const bucket of Object.values(buckets))
    await ignoreExisting(storage.createBucket(bucket.name));
  for (const topic of [...Object.values(TOPICS), ...FUNCTION_TOPICS.map(deadLetterTopic)])
    await ignoreExisting(pubsub.createTopic(topic));
  // One notification only: a second would announce every raw image twice.
  const [notifications] = await buckets.raw.getNotifications();
  if (
    !notifications.some((n) =>
      String(n.metadata.topic ?? '').endsWith(`/topics/${TOPICS.rawArrived}`),
    )
  ) {
    await buckets.raw.createNotification(TOPICS.rawArrived, {
      eventTypes: ['OBJECT_FINALIZE'],
      payloadFormat: 'JSON_API_V1',
    });
  }
  // Deployment registers the alert schema in the archive, so brokers can resolve schema ids.
  await new AlertArchive(new GcsObjectStore(buckets.alerts)).putSchema(loadAlertSchema());
  return buckets;
}
