/**
 * The local emulators' endpoints, read from the top-level firebase.json (its `emulators` section,
 * in the form Google's Firebase emulator suite reads) and the project id from .firebaserc: the one
 * source of the ports that `npm run emulators`, `npm start` and the tests use.
 */
import { readFileSync } from 'node:fs';
import { findUpwards } from '../shared/util/assets.js';

export interface EmulatorEndpoint {
  host: string;
  port: number;
}

export interface EmulatorConfig {
  pubsub: EmulatorEndpoint;
  firestore: EmulatorEndpoint;
  storage: EmulatorEndpoint;
  /** Where the local HTTP functions (the alert archive) listen. */
  functions: EmulatorEndpoint;
  projectId: string;
}

type Service = 'pubsub' | 'firestore' | 'storage' | 'functions';

/** Parses firebase.json and .firebaserc texts; throws one line naming the file and the field. */
export function parseEmulatorConfig(firebaseJson: string, firebaserc: string): EmulatorConfig {
  const emulators = (
    JSON.parse(firebaseJson) as { emulators?: Record<string, Partial<EmulatorEndpoint>> }
  ).emulators;
  if (!emulators) throw new Error('firebase.json: no "emulators" section');
  const endpoint = (name: Service): EmulatorEndpoint => {
    const e = emulators[name];
    if (!e || !Number.isInteger(e.port) || e.port! <= 0 || e.port! > 65535)
      throw new Error(
        `firebase.json: emulators.${name}.port must be an integer port, got ${JSON.stringify(e?.port)}`,
      );
    return { host: e.host ?? 'localhost', port: e.port! };
  };
  const projectId = (JSON.parse(firebaserc) as { projects?: { default?: unknown } }).projects
    ?.default;
  if (typeof projectId !== 'string' || !projectId)
    throw new Error('.firebaserc: projects.default must name the project');
  return {
    pubsub: endpoint('pubsub'),
    firestore: endpoint('firestore'),
    storage: endpoint('storage'),
    functions: endpoint('functions'),
    projectId,
  };
}

let cached: EmulatorConfig | null = null;

/** The repository's emulator configuration (firebase.json and .firebaserc at the top level). */
export function emulatorConfig(): EmulatorConfig {
  cached ??= parseEmulatorConfig(
    readFileSync(findUpwards(import.meta.url, 'firebase.json'), 'utf8'),
    readFileSync(findUpwards(import.meta.url, '.firebaserc'), 'utf8'),
  );
  return cached;
}
