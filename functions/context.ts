/**
 * The cloud services a function instance uses, built once per instance from its environment.
 * On Google Cloud the clients use the runtime's credentials; locally the emulator variables
 * (PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST, FIRESTORE_EMULATOR_HOST) point them at emulators/.
 */
import { Firestore } from '@google-cloud/firestore';
import { PubSub } from '@google-cloud/pubsub';
import { Storage, type Bucket } from '@google-cloud/storage';
import { FirestoreApdb } from '../shared/adapters/firestore.js';
import { GcsObjectStore } from '../shared/adapters/storage.js';
import { AlertArchive } from '../shared/alerts/archive.js';
import { BUCKET_ROLES, bucketName, type BucketRole } from '../shared/cloud/names.js';
import {
  configHash,
  pipelineConfigFromJson,
  type PipelineConfig,
} from '../shared/pipeline/config.js';
import { gridCamera, type CameraGeometry } from '../shared/prompt/camera.js';
import { ProcessingRecords } from './processing-record.js';

export interface FunctionConfig {
  projectId: string;
  /** Buckets are `<prefix>-raw`, `<prefix>-templates`, `<prefix>-alerts`, `<prefix>-work`, `<prefix>-orbits`. */
  bucketPrefix: string;
  /**
   * Deliveries of one image that may fail transiently before this function dead-letters it with
   * the reason; must stay below the subscription's maxDeliveryAttempts (default 5) so that the
   * function's give-up path, not the subscription's reason-less policy, ends the image.
   */
  maxAttempts: number;
  /** Deadline of one invocation, seconds: below the trigger's timeout (300 s by default). */
  deadlineSeconds: number;
  /**
   * How long processImage's running attempt holds its image's record without renewing it,
   * seconds; it renews it every third of that. A killed instance's lease lapses within it, and a
   * redelivery that finds the record held waits up to this long for the lease to lapse (then
   * takes the image over) before it gives the message back as busy.
   */
  leaseSeconds: number;
  /** Alerts published and archived per chunk by alertFanout (and recorded as done). */
  fanoutChunkSize: number;
  /**
   * Fairness: alerts one alertFanout delivery publishes or archives (whole chunks, at least one)
   * before it hands the rest of its batch back to the queue, behind the batches waiting there.
   * The default (1000) holds a normal 4k detector's alerts (430-680 in the e2e bench), whose batch
   * then goes out in one delivery: each hand-back costs a redelivery and a re-read of the stored
   * result before the rest of the alerts. A flood (the quality gate allows ~8,400) is still sliced.
   */
  fanoutSliceSize: number;
  camera: CameraGeometry;
  /** The pipeline configuration: the defaults with the deploy-time override AP_PIPELINE_CONFIG (JSON), validated. */
  pipeline: PipelineConfig;
  /** Its hash (APCONFIG), recorded in processing records and alerts. */
  configHash: string;
}

/** The environment variable of the deploy-time pipeline configuration override (terraform var.pipeline_config). */
export const PIPELINE_CONFIG_ENV = 'AP_PIPELINE_CONFIG';

/** Reads the configuration from the environment (documented defaults for local runs). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  const number = (name: string, fallback: number) => {
    const value = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
    if (!Number.isFinite(value))
      throw new Error(`environment ${name}='${env[name]}' is not a number`);
    return value;
  };
  const pipeline = pipelineConfigFromJson(
    env[PIPELINE_CONFIG_ENV] ?? '',
    `environment ${PIPELINE_CONFIG_ENV}`,
  );
  return {
    pipeline,
    configHash: configHash(pipeline),
    projectId: env.GOOGLE_CLOUD_PROJECT || env.GCLOUD_PROJECT || 'ap-local',
    bucketPrefix: env.AP_BUCKET_PREFIX || 'ap',
    maxAttempts: number('AP_MAX_ATTEMPTS', 4),
    deadlineSeconds: number('AP_DEADLINE_SECONDS', 240),
    leaseSeconds: number('AP_LEASE_SECONDS', 30),
    fanoutChunkSize: number('AP_FANOUT_CHUNK', 100),
    fanoutSliceSize: number('AP_FANOUT_SLICE', 1000),
    camera: gridCamera(
      env.AP_INSTRUMENT || 'APSIM',
      number('AP_DETECTOR_SIZE', 4096),
      number('AP_DETECTORS_PER_SIDE', 14),
      number('AP_PIXEL_SCALE', 0.2),
    ),
  };
}

export interface Services {
  config: FunctionConfig;
  storage: Storage;
  pubsub: PubSub;
  firestore: Firestore;
  buckets: Record<BucketRole, Bucket>;
  /** The work bucket as a create-only object store (preloads, stored results), read without MD5 (shared/adapters/storage.ts). */
  work: GcsObjectStore;
  archive: AlertArchive;
  apdb: FirestoreApdb;
  records: ProcessingRecords;
}

export function createServices(config: FunctionConfig = configFromEnv()): Services {
  const storage = new Storage({ projectId: config.projectId });
  const pubsub = new PubSub({ projectId: config.projectId });
  const firestore = new Firestore({ projectId: config.projectId, ignoreUndefinedProperties: true });
  const buckets = Object.fromEntries(
    BUCKET_ROLES.map((role) => [role, storage.bucket(bucketName(config.bucketPrefix, role))]),
  ) as Record<BucketRole, Bucket>;
  return {
    config,
    storage,
    pubsub,
    firestore,
    buckets,
    work: new GcsObjectStore(buckets.work, { verifyDownloads: false }),
    archive: new AlertArchive(new GcsObjectStore(buckets.alerts)),
    apdb: new FirestoreApdb(firestore),
    records: new ProcessingRecords(firestore),
  };
}

let instance: Services | null = null;

/** The instance's services, created on first use and kept warm between invocations. */
export function services(): Services {
  instance ??= createServices();
  return instance;
}

/** Replaces the instance's services (the local runner and tests point them at emulators). */
export function setServices(next: Services | null): void {
  instance = next;
}
