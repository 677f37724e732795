/**
 * The whole event-driven system on one machine: the emulators in process, the buckets, topics,
 * the raw bucket's notification to `raw-arrived`, dead-letter topics, a local Eventarc delivering
 * each topic to its function (instances in worker threads), and the alert archive over HTTP.
 * `npm start`, test/e2e and bench/e2e.ts all run on it.
 *
 * @example
 *   const cloud = await startLocalCloud({ camera: { detectorSize: 2048 } });
 *   await cloud.buckets.raw.file('APSIM/g1/0/42.fits').save(bytes);
 *   await cloud.logs.waitFor((e) => e.message === 'alerts published');
 *   await cloud.stop();
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { Storage, type Bucket } from '@google-cloud/storage';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { emulatorConfig } from '../../emulators/config.js';
import { startEmulators, DEFAULT_PORTS, type RunningEmulators } from '../../emulators/main.js';
import {
  startTriggerRunner,
  type PubsubCloudEvent,
  type TriggerRunner,
} from '../../emulators/triggers.js';
import { GcsObjectStore } from '../../shared/adapters/storage.js';
import { AlertArchive } from '../../shared/alerts/archive.js';
import { loadAlertSchema } from '../../shared/alerts/schema.js';
import {
  BUCKET_ROLES,
  bucketName,
  deadLetterTopic,
  TOPICS,
  type BucketRole,
} from '../../shared/cloud/names.js';
import { parseRawPath, processingKey } from '../../shared/prompt/raw-path.js';
import '../index.js';
import { createServices, setServices } from '../context.js';
import { listen, type Listener } from './listen.js';
import { LogBus } from './log-bus.js';
import { startInstances, type InstancePool, type InvocationResult } from './instances.js';

export interface CameraOptions {
  instrument: string;
  detectorSize: number;
  detectorsPerSide: number;
  pixelScaleArcsec: number;
}

export const DEFAULT_CAMERA: CameraOptions = {
  instrument: 'APSIM',
  detectorSize: 4096,
  detectorsPerSide: 14,
  pixelScaleArcsec: 0.2,
};

/** The functions that Pub/Sub drives, with their instance counts. */
export interface Concurrency {
  nextVisit: number;
  processImage: number;
  alertFanout: number;
}

export interface LocalCloudOptions {
  /** 'contract': firebase.json's ports (8085/9023/8080, docs/contracts.md) where free, else free ports; 'free': free ports. Default 'free'. */
  ports?: 'contract' | 'free';
  projectId?: string;
  bucketPrefix?: string;
  camera?: Partial<CameraOptions>;
  /** Default: 1 nextVisit, 2 processImage (one a core), 1 alertFanout. */
  concurrency?: Partial<Concurrency>;
  /** Retry backoff of the triggers, seconds (Eventarc's defaults are 10 and 600). */
  backoffSeconds?: [number, number];
  /** Delivery attempts before the subscription dead-letters a message. Default 5. */
  maxDeliveryAttempts?: number;
  /** Also writes every structured log line to this file. */
  logFile?: string;
}

export const DEFAULT_CONCURRENCY: Concurrency = { nextVisit: 1, processImage: 2, alertFanout: 1 };

/** A message that reached a dead-letter topic. */
export interface DeadLetter {
  topic: string;
  data: Buffer;
  attributes: Record<string, string>;
}

export interface LocalCloud {
  projectId: string;
  env: Record<string, string>;
  emulators: RunningEmulators;
  storage: Storage;
  pubsub: PubSub;
  buckets: Record<BucketRole, Bucket>;
  /** `http://host:port` of the alertArchive function. */
  archiveUrl: string;
  /** Every structured log line of the functions (and of this harness). */
  logs: LogBus;
  /** Messages dead-lettered so far, by source topic. */
  deadLetters: DeadLetter[];
  /** processImage invocations by processing key: wall time and timed cloud calls. */
  invocations: Map<string, InvocationResult[]>;
  stop(): Promise<void>;
}

/** `preferred` when it can be bound on `host`, else 0 (a free port). */
async function portOrFree(preferred: number, host: string): Promise<number> {
  const server: Server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(0));
    server.listen(preferred, host, () => server.close(() => resolve(preferred)));
  });
}

async function ignoreExisting(p: Promise<unknown>): Promise<void> {
  await p.catch((err: { code?: number }) => {
    if (err.code !== 6 && err.code !== 409) throw err;
  });
}

function keyOfEvent(event: PubsubCloudEvent): string | null {
  try {
    return processingKey(parseRawPath(event.data.message.attributes?.objectId ?? ''));
  } catch {
    return null;
  }
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const host = 'localhost';
  const projectId = options.projectId ?? emulatorConfig().projectId;
  const prefix = options.bucketPrefix ?? 'ap';
  const camera = { ...DEFAULT_CAMERA, ...options.camera };
  const concurrency = { ...DEFAULT_CONCURRENCY, ...options.concurrency };
  const contract = options.ports === 'contract';
  const emulators = await startEmulators({
    host,
    pubsubPort: contract ? await portOrFree(DEFAULT_PORTS.pubsub, host) : 0,
    storagePort: contract ? await portOrFree(DEFAULT_PORTS.storage, host) : 0,
    firestorePort: contract ? await portOrFree(DEFAULT_PORTS.firestore, host) : 0,
  });
  const env: Record<string, string> = {
    ...emulators.env,
    GOOGLE_CLOUD_PROJECT: projectId,
    // No metadata server on a laptop: the auth library need not look for one.
    METADATA_SERVER_DETECTION: 'none',
    AP_BUCKET_PREFIX: prefix,
    AP_INSTRUMENT: camera.instrument,
    AP_DETECTOR_SIZE: String(camera.detectorSize),
    AP_DETECTORS_PER_SIDE: String(camera.detectorsPerSide),
    AP_PIXEL_SCALE: String(camera.pixelScaleArcsec),
  };
  // The functions read their configuration from the environment, in every instance.
  Object.assign(process.env, env);
  const mainServices = createServices();
  setServices(mainServices);

  const logFile: WriteStream | null = options.logFile ? createWriteStream(options.logFile) : null;
  const logs = new LogBus((line) => logFile?.write(`${line}\n`));
  const storage = new Storage({ projectId });
  const pubsub = new PubSub({ projectId });
  const buckets = Object.fromEntries(
    BUCKET_ROLES.map((role) => [role, storage.bucket(bucketName(prefix, role))]),
  ) as Record<BucketRole, Bucket>;
  for (const bucket of Object.values(buckets))
    await ignoreExisting(storage.createBucket(bucket.name));
  const functionTopics = [TOPICS.nextVisit, TOPICS.rawArrived, TOPICS.alertBatches];
  for (const topic of [...Object.values(TOPICS), ...functionTopics.map(deadLetterTopic)])
    await ignoreExisting(pubsub.createTopic(topic));
  await buckets.raw.createNotification(TOPICS.rawArrived, {
    eventTypes: ['OBJECT_FINALIZE'],
    payloadFormat: 'JSON_API_V1',
  });
  // Deployment registers the alert schema in the archive, so brokers can resolve schema ids.
  await new AlertArchive(new GcsObjectStore(buckets.alerts)).putSchema(loadAlertSchema());

  const deadLetters: DeadLetter[] = [];
  const deadSubscriptions: Listener[] = [];
  for (const topic of functionTopics) {
    const [sub] = await pubsub
      .topic(deadLetterTopic(topic))
      .createSubscription(`watch-${deadLetterTopic(topic)}`);
    const onMessage = (m: Message) => {
      deadLetters.push({ topic, data: m.data, attributes: { ...m.attributes } });
      logs.add({
        severity: 'WARNING',
        message: 'dead letter received',
        topic,
        reason: m.attributes.reason ?? null,
        objectId: m.attributes.objectId ?? null,
      });
      m.ack();
    };
    deadSubscriptions.push(listen(pubsub, sub.name, {}, onMessage));
  }

  const pool: InstancePool = await startInstances({
    instances: { ...concurrency },
    onLog: (line) => logs.addLine(line),
  });
  const invocations = new Map<string, InvocationResult[]>();
  const [minBackoff, maxBackoff] = options.backoffSeconds ?? [10, 600];
  const trigger = (topic: string, fn: keyof Concurrency) => ({
    topic,
    subscription: `eventarc-${topic}-${fn}`,
    handler: async (event: PubsubCloudEvent) => {
      const result = await pool.invoke(fn, event);
      const key = fn === 'processImage' ? keyOfEvent(event) : null;
      if (key) invocations.set(key, [...(invocations.get(key) ?? []), result]);
    },
    deadLetterTopic: deadLetterTopic(topic),
    maxDeliveryAttempts: options.maxDeliveryAttempts ?? 5,
    minBackoffSeconds: minBackoff,
    maxBackoffSeconds: maxBackoff,
    maxConcurrency: concurrency[fn],
  });
  let stopped = false;
  let restarting: Promise<void> | null = null;
  const startRunner = (): Promise<TriggerRunner> =>
    startTriggerRunner({
      pubsubHost: emulators.pubsubHost,
      projectId,
      triggers: [
        trigger(TOPICS.nextVisit, 'nextVisit'),
        trigger(TOPICS.rawArrived, 'processImage'),
        trigger(TOPICS.alertBatches, 'alertFanout'),
      ],
      onError: (error, t, event) => {
        const text = error instanceof Error ? error.message : String(error);
        if (event) {
          logs.add({
            severity: 'ERROR',
            message: 'function failed; the message will be retried',
            topic: t.topic,
            messageId: event.id,
            error: text,
          });
          return;
        }
        // A subscription's stream failed and the client closed it: deliveries resume on fresh subscribers.
        logs.add({
          severity: 'WARNING',
          message: 'trigger subscription stream ended; restarting the triggers',
          topic: t.topic,
          error: text,
        });
        restarting ??= (async () => {
          const old = runner;
          await old.stop().catch(() => {});
          if (!stopped) runner = await startRunner();
          restarting = null;
        })();
      },
    });
  let runner: TriggerRunner = await startRunner();

  const archiveServer = getTestServer('alertArchive');
  const archivePort = contract ? await portOrFree(emulatorConfig().functions.port, host) : 0;
  await new Promise<void>((resolve) => archiveServer.listen(archivePort, host, resolve));
  const archiveUrl = `http://${host}:${(archiveServer.address() as AddressInfo).port}`;

  return {
    projectId,
    env,
    emulators,
    storage,
    pubsub,
    buckets,
    archiveUrl,
    logs,
    deadLetters,
    invocations,
    async stop() {
      stopped = true;
      await restarting;
      await runner.stop();
      await pool.close();
      await Promise.all(deadSubscriptions.map((s) => s.close()));
      await new Promise<void>((resolve) => archiveServer.close(() => resolve()));
      await pubsub.close();
      setServices(null);
      await Promise.all([mainServices.pubsub.close(), mainServices.firestore.terminate()]);
      await emulators.stop();
      await new Promise<void>((resolve) => (logFile ? logFile.end(resolve) : resolve()));
    },
  };
}
