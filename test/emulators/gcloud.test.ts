/**
 * The same client-level suites against Google's own emulators (gcloud's pubsub-emulator and
 * cloud-firestore-emulator), where gcloud is installed; skipped with the reason printed otherwise.
 * Differences are either fixed in ours or listed as Google's gaps in emulators/README.md.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after } from 'node:test';
import { firestoreSuite } from './firestore-suite.js';
import { pubsubSuite } from './pubsub-suite.js';

const info = spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
  encoding: 'utf8',
});
const sdkRoot = info.status === 0 ? info.stdout.trim() : null;
const hasJava = spawnSync('java', ['-version'], { stdio: 'ignore' }).status === 0;

/** Why Google's emulator `component` cannot run here, or false when it can. */
function missing(component: string): string | false {
  if (!sdkRoot) return 'gcloud not found: Google emulator comparison skipped';
  if (!existsSync(join(sdkRoot, 'platform', component)))
    return `gcloud component ${component} not installed: Google emulator comparison skipped`;
  if (!hasJava) return 'java not found: Google emulator comparison skipped';
  return false;
}

const pubsubMissing = missing('pubsub-emulator');
const firestoreMissing = missing('cloud-firestore-emulator');
for (const reason of new Set([pubsubMissing, firestoreMissing]))
  if (reason) process.stdout.write(`# SKIP ${reason}\n`);

/** Gaps of Google's Pub/Sub emulator that ours fills (see emulators/README.md). */
const PUBSUB_GAPS: Record<string, string> = {
  filters: "Google's Pub/Sub emulator ignores subscription filters (delivers every message)",
  deadLetter:
    "Google's Pub/Sub emulator does not forward to a dead-letter topic after maxDeliveryAttempts",
};

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, 'localhost', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const children: ChildProcess[] = [];
/** Google's emulators print their ready line within ~30 s here; one that has not by this is skipped, never waited on. */
const START_TIMEOUT_MS = 120_000;

/** Starts `gcloud ARGS --host-port=localhost:PORT` and resolves the host once `ready` is printed. */
async function startGcloud(args: string[], ready: RegExp): Promise<string> {
  const port = await freePort();
  const child = spawn('gcloud', [...args, `--host-port=localhost:${port}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(
      () =>
        reject(new Error(`no ready line in ${START_TIMEOUT_MS / 1000} s: ${output.slice(-300)}`)),
      START_TIMEOUT_MS,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(`localhost:${port}`);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gcloud ${args.join(' ')} exited with ${code}: ${output.slice(-500)}`));
    });
  });
}

after(() => {
  for (const child of children) {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
  }
});

/** The emulator's host, or null with the reason printed as a skip when it did not start. */
async function startOrSkip(name: string, started: Promise<string>): Promise<string | null> {
  try {
    return await started;
  } catch (err) {
    process.stdout.write(`# SKIP ${name} did not start: ${(err as Error).message}\n`);
    return null;
  }
}

const [pubsubHost, firestoreHost] = await Promise.all([
  pubsubMissing
    ? null
    : startOrSkip(
        "Google's Pub/Sub emulator",
        startGcloud(
          ['beta', 'emulators', 'pubsub', 'start', '--project=emulator-suite'],
          /Server started, listening on/,
        ),
      ),
  firestoreMissing
    ? null
    : startOrSkip(
        "Google's Firestore emulator",
        startGcloud(['emulators', 'firestore', 'start'], /Dev App Server is now running/),
      ),
]);
if (pubsubHost)
  pubsubSuite({ name: "Google's emulator", host: async () => pubsubHost, gaps: PUBSUB_GAPS });
if (firestoreHost) firestoreSuite({ name: "Google's emulator", host: async () => firestoreHost });
