/**
 * Local emulators for Pub/Sub (gRPC), Cloud Storage (JSON API) and Firestore (gRPC) in one process.
 *
 *   npm run emulators -- [--host localhost] [--pubsub-port 8085] [--storage-port 9023]
 *                        [--firestore-port 8080] [--data DIR [--fsync]] [--bare]
 *
 * creates the system's buckets, topics, notification and schema (emulators/provision.ts; not with
 * --bare), so that a broker can subscribe to `alerts` before `npm start` plays a night on these
 * emulators, and prints the `export ..._EMULATOR_HOST=...` lines for the official client
 * libraries and GOOGLE_CLOUD_PROJECT. The default ports and host are firebase.json's `emulators`
 * section (emulators/config.ts). Tests use
 * `startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 })` in process.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { Storage } from '@google-cloud/storage';
import { FirestoreEmulator } from './firestore/server.js';
import { emulatorConfig } from './config.js';
import { LOCAL_PROJECT_ID, provisionSystem } from './provision.js';
import { RpcError } from './grpc.js';
import { Persister } from './persist.js';
import { PubSubEmulator } from './pubsub/server.js';
import { StorageEmulator } from './storage/server.js';

export interface EmulatorOptions {
  /** Interface to bind; default localhost. */
  host?: string;
  /** Ports; 0 picks a free port. Defaults 8085, 9023, 8080. */
  pubsubPort?: number;
  storagePort?: number;
  firestorePort?: number;
  /** Directory for on-disk persistence (a journal written before each reply); in memory only when absent. */
  dataDir?: string;
  /** With dataDir: fsync each journal record too (survives a machine crash; slower). */
  fsync?: boolean;
}

export interface RunningEmulators {
  /** `host:port` for PUBSUB_EMULATOR_HOST. */
  pubsubHost: string;
  /** `http://host:port` for STORAGE_EMULATOR_HOST. */
  storageHost: string;
  /** `host:port` for FIRESTORE_EMULATOR_HOST. */
  firestoreHost: string;
  /** The three variables, ready to merge into process.env or a child's env. */
  env: {
    PUBSUB_EMULATOR_HOST: string;
    STORAGE_EMULATOR_HOST: string;
    FIRESTORE_EMULATOR_HOST: string;
  };
  pubsub: PubSubEmulator;
  storage: StorageEmulator;
  firestore: FirestoreEmulator;
  stop(): Promise<void>;
}

/** The contract's ports, from firebase.json (emulators/config.ts). */
export const DEFAULT_PORTS = {
  pubsub: emulatorConfig().pubsub.port,
  storage: emulatorConfig().storage.port,
  firestore: emulatorConfig().firestore.port,
} as const;

function log(severity: string, message: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ severity, message, ...fields })}\n`);
}

/** Starts all three emulators; Storage notifications go straight to the in-process Pub/Sub. */
export async function startEmulators(options: EmulatorOptions = {}): Promise<RunningEmulators> {
  const host = options.host ?? emulatorConfig().pubsub.host;
  const pubsub = new PubSubEmulator();
  const storage = new StorageEmulator((topic, data, attributes) => {
    try {
      pubsub.publish(topic, [{ data, attributes, orderingKey: '' }]);
    } catch (err) {
      if (!(err instanceof RpcError)) throw err;
      log('WARNING', `storage notification not published: ${err.message}`, {
        topic,
        objectId: attributes.objectId,
      });
    }
  });
  const firestore = new FirestoreEmulator();
  const persister = options.dataDir
    ? new Persister(options.dataDir, { pubsub, storage, firestore }, { fsync: options.fsync })
    : undefined;
  persister?.load();
  const pubsubPort = await pubsub.start(options.pubsubPort ?? DEFAULT_PORTS.pubsub, host);
  const storagePort = await storage.start(options.storagePort ?? DEFAULT_PORTS.storage, host);
  const firestorePort = await firestore.start(
    options.firestorePort ?? DEFAULT_PORTS.firestore,
    host,
  );
  persister?.start();
  const env = {
    PUBSUB_EMULATOR_HOST: `${host}:${pubsubPort}`,
    STORAGE_EMULATOR_HOST: `http://${host}:${storagePort}`,
    FIRESTORE_EMULATOR_HOST: `${host}:${firestorePort}`,
  };
  return {
    pubsubHost: env.PUBSUB_EMULATOR_HOST,
    storageHost: env.STORAGE_EMULATOR_HOST,
    firestoreHost: env.FIRESTORE_EMULATOR_HOST,
    env,
    pubsub,
    storage,
    firestore,
    async stop() {
      persister?.stop();
      await Promise.all([pubsub.stop(), storage.stop(), firestore.stop()]);
    },
  };
}

/** A port from a flag, else from an `..._EMULATOR_HOST` variable, else the fallback. */
export function portFrom(
  flag: string | undefined,
  envHost: string | undefined,
  fallback: number,
): number {
  const text = flag ?? envHost?.replace(/^https?:\/\//, '').split(':')[1];
  const port = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${text}`);
  return port;
}

/** The system's resources, created through the official clients as a deployment would. */
async function provision(env: RunningEmulators['env']): Promise<void> {
  Object.assign(process.env, env, { METADATA_SERVER_DETECTION: 'none' });
  const pubsub = new PubSub({ projectId: LOCAL_PROJECT_ID });
  try {
    await provisionSystem(pubsub, new Storage({ projectId: LOCAL_PROJECT_ID }));
  } finally {
    await pubsub.close();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      'pubsub-port': { type: 'string' },
      'storage-port': { type: 'string' },
      'firestore-port': { type: 'string' },
      data: { type: 'string' },
      fsync: { type: 'boolean' },
      bare: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(
      'usage: npm run emulators -- [--host H] [--pubsub-port 8085] [--storage-port 9023] [--firestore-port 8080] [--data DIR [--fsync]] [--bare]\n\n' +
        `Creates the system's buckets, topics (alerts among them), the raw bucket's notification and the alert schema in project ${LOCAL_PROJECT_ID}\n` +
        "(not with --bare), so a broker can subscribe before 'npm start', which reuses emulators running on these ports.\n",
    );
    return;
  }
  const running = await startEmulators({
    host: values.host,
    pubsubPort: portFrom(
      values['pubsub-port'],
      process.env.PUBSUB_EMULATOR_HOST,
      DEFAULT_PORTS.pubsub,
    ),
    storagePort: portFrom(
      values['storage-port'],
      process.env.STORAGE_EMULATOR_HOST,
      DEFAULT_PORTS.storage,
    ),
    firestorePort: portFrom(
      values['firestore-port'],
      process.env.FIRESTORE_EMULATOR_HOST,
      DEFAULT_PORTS.firestore,
    ),
    dataDir: values.data,
    fsync: values.fsync,
  });
  const shutdown = () => {
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  // An emulator outlives a bad request: anything that escapes a handler is logged, not fatal.
  process.on('uncaughtException', (err) =>
    log('ERROR', `uncaught: ${err.message}`, { stack: err.stack }),
  );
  // Handlers first: whoever reads the env lines may signal at once.
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  if (!values.bare) await provision(running.env);
  for (const [name, value] of Object.entries({
    ...running.env,
    GOOGLE_CLOUD_PROJECT: LOCAL_PROJECT_ID,
  }))
    process.stdout.write(`export ${name}=${value}\n`);
  log('INFO', 'emulators running', { ...running.env, data: values.data ?? null });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    process.stderr.write(`emulators: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
