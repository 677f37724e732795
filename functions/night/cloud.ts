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
import type { PubsubCloudEvent } from '../../emulators/triggers.js';
import {
  FUNCTION_TOPICS,
  LOCAL_BUCKET_PREFIX,
  LOCAL_PROJECT_ID,
  provisionSystem,
} from '../../emulators/provision.js';
import { deadLetterTopic, TOPICS, type BucketRole } from '../../shared/cloud/names.js';
import { parseRawPath, processingKey } from '../../shared/prompt/raw-path.js';
import '../index.js';
import { createServices, setServices } from '../context.js';
import { freshSubscription, listen, type Listener } from './listen.js';
import { LogBus } from './log-bus.js';
import { startRestartingTriggers } from './restarting-triggers.js';
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
  /** 0: no trigger on `template-candidates` (the candidates wait there); `npm start`'s template stage runs 1. */
  templateBuilder: number;
}

export interface LocalCloudOptions {
  /**
   * 'contract': the emulators on firebase.json's ports (emulators/main.ts DEFAULT_PORTS), or
   * the emulators already running there (`npm run emulators`), reused; the archive on
   * ARCHIVE_PORT. Ports held by anything else are an error, never a silent move. 'free': free
   * ports (tests). Default 'free'.
   */
  ports?: 'contract' | 'free' | FixedPorts;
  projectId?: string;
  bucketPrefix?: string;
  camera?: Partial<CameraOptions>;
  /** Default: 1 nextVisit, 2 processImage (one a core), 1 alertFanout, no templateBuilder. */
  concurrency?: Partial<Concurrency>;
  /** Retry backoff of the triggers, seconds (Eventarc's defaults are 10 and 600). */
  backoffSeconds?: [number, number];
  /** Delivery attempts before the subscription dead-letters a message. Default 5. */
  maxDeliveryAttempts?: number;
  /** Also writes every structured log line to this file. */
  logFile?: string;
}

/** The alert archive's port with the contract's ports: firebase.json's functions emulator port. */
export const ARCHIVE_PORT = emulatorConfig().functions.port;

export const DEFAULT_CONCURRENCY: Concurrency = {
  nextVisit: 1,
  processImage: 2,
  alertFanout: 1,
  templateBuilder: 0,
};

/** A message that reached a dead-letter topic. */
export interface DeadLetter {
  topic: string;
  data: Buffer;
  attributes: Record<string, string>;
}

/** Fixed ports of the emulators and the archive ('contract': DEFAULT_PORTS and ARCHIVE_PORT). */
export interface FixedPorts {
  pubsub: number;
  storage: number;
  firestore: number;
  archive: number;
}

/** The emulators the system runs on: started here, or found running on the contract's ports. */
export type EmulatorEndpoints = Pick<
  RunningEmulators,
  'pubsubHost' | 'storageHost' | 'firestoreHost' | 'env' | 'stop'
> & {
  /** True when they were already running (`npm run emulators`) and are left running at stop. */
  reused: boolean;
};

export interface LocalCloud {
  projectId: string;
  env: Record<string, string>;
  emulators: EmulatorEndpoints;
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
  /** The function instances (the fault campaign's crash rehearsals: `instances.crashAt`). */
  instances: InstancePool;
  /** Stops templateBuilder's trigger (when it has instances): later candidates wait on `template-candidates`. */
  stopTemplateBuilder(): Promise<void>;
  stop(): Promise<void>;
}

/** Whether `port` can be bound on `host`. */
async function portIsFree(port: number, host: string): Promise<boolean> {
  const server: Server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Whether the project's Storage emulator answers at `url` (its bucket list, in GCS's JSON). */
async function storageEmulatorAt(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/storage/v1/b?project=probe`, {
      signal: AbortSignal.timeout(2000),
    });
    return res.ok && ((await res.json()) as { kind?: string }).kind === 'storage#buckets';
  } catch {
    return false;
  }
}

/**
 * The emulators on the contract's ports: started here when the three ports are free, reused
 * when `npm run emulators` (or another `npm start -- --keep`) holds them, an error otherwise.
 */
async function fixedPortEmulators(host: string, fixed: FixedPorts): Promise<EmulatorEndpoints> {
  const ports = [fixed.pubsub, fixed.storage, fixed.firestore];
  const free = await Promise.all(ports.map((p) => portIsFree(p, host)));
  if (free.every(Boolean)) {
    const started = await startEmulators({
      host,
      pubsubPort: ports[0],
      storagePort: ports[1],
      firestorePort: ports[2],
    });
    return { ...started, stop: () => started.stop(), reused: false };
  }
  const env = {
    PUBSUB_EMULATOR_HOST: `${host}:${ports[0]}`,
    STORAGE_EMULATOR_HOST: `http://${host}:${ports[1]}`,
    FIRESTORE_EMULATOR_HOST: `${host}:${ports[2]}`,
  };
  if (free.some(Boolean) || !(await storageEmulatorAt(env.STORAGE_EMULATOR_HOST))) {
    const busy = ports.filter((_, i) => !free[i]);
    throw new Error(
      `port(s) ${busy.join(', ')} on ${host} are held by something other than the project's emulators; stop it, or run 'npm run emulators' there to have npm start reuse them`,
    );
  }
  return {
    pubsubHost: env.PUBSUB_EMULATOR_HOST,
    storageHost: env.STORAGE_EMULATOR_HOST,
    firestoreHost: env.FIRESTORE_EMULATOR_HOST,
    env,
    stop: async () => {},
    reused: true,
  };
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
  const projectId = options.projectId ?? LOCAL_PROJECT_ID;
  const prefix = options.bucketPrefix ?? LOCAL_BUCKET_PREFIX;
  const camera = { ...DEFAULT_CAMERA, ...options.camera };
  const concurrency = { ...DEFAULT_CONCURRENCY, ...options.concurrency };
  const fixed =
    options.ports === 'contract'
      ? { ...DEFAULT_PORTS, archive: ARCHIVE_PORT }
      : options.ports === 'free' || options.ports === undefined
        ? null
        : options.ports;
  if (fixed && !(await portIsFree(fixed.archive, host)))
    throw new Error(
      `port ${fixed.archive} on ${host} (the alert archive) is in use: is another 'npm start -- --keep' running?`,
    );
  const emulators: EmulatorEndpoints = fixed
    ? await fixedPortEmulators(host, fixed)
    : {
        ...(await startEmulators({ host, pubsubPort: 0, storagePort: 0, firestorePort: 0 })),
        reused: false,
      };
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
  const buckets = await provisionSystem(pubsub, storage, prefix);

  const deadLetters: DeadLetter[] = [];
  const deadSubscriptions: Listener[] = [];
  for (const topic of FUNCTION_TOPICS) {
    const sub = await freshSubscription(
      pubsub,
      deadLetterTopic(topic),
      `watch-${deadLetterTopic(topic)}`,
    );
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
  const startTriggers = (triggers: Array<ReturnType<typeof trigger>>) =>
    startRestartingTriggers(emulators.pubsubHost, projectId, triggers, logs);
  const system = await startTriggers([
    trigger(TOPICS.nextVisit, 'nextVisit'),
    trigger(TOPICS.rawArrived, 'processImage'),
    trigger(TOPICS.alertBatches, 'alertFanout'),
  ]);
  let builder =
    concurrency.templateBuilder > 0
      ? await startTriggers([trigger(TOPICS.templateCandidates, 'templateBuilder')])
      : null;
  const stopTemplateBuilder = async () => {
    const b = builder;
    builder = null;
    await b?.stop();
  };

  const archiveServer = getTestServer('alertArchive');
  await new Promise<void>((resolve) => archiveServer.listen(fixed?.archive ?? 0, host, resolve));
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
    instances: pool,
    stopTemplateBuilder,
    async stop() {
      await stopTemplateBuilder();
      await system.stop();
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
