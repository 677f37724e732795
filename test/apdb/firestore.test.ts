/**
 * The Firestore APDB against an emulator: the project's own (emulators/), else Google's
 * (`gcloud emulators firestore start`), else skipped with the reason printed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreApdb } from '../../shared/adapters/firestore.js';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import type { Apdb } from '../../shared/apdb/types.js';
import { associateVisit, type DetectorFootprint } from '../../shared/association/associate.js';
import { makeSky, observe, DEC0, RA0 } from '../association/sky.js';

interface Emulator {
  host: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, 'localhost', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function ours(): Promise<Emulator | null> {
  try {
    const { startEmulators } =
      (await import('../../emulators/main.js')) as typeof import('../../emulators/main.js');
    const running = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
    return { host: running.firestoreHost, stop: () => running.stop() };
  } catch (err) {
    process.stdout.write(
      `# project emulator unavailable (${(err as Error).message.split('\n')[0]}); trying gcloud\n`,
    );
    return null;
  }
}

async function gcloud(): Promise<Emulator | null> {
  if (spawnSync('gcloud', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  const port = await freePort();
  const child: ChildProcess = spawn(
    'gcloud',
    ['emulators', 'firestore', 'start', `--host-port=localhost:${port}`],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 60_000);
    const watch = (chunk: Buffer) => {
      if (chunk.toString().includes('Dev App Server is now running')) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout?.on('data', watch);
    child.stderr?.on('data', watch);
    child.on('exit', () => resolve(false));
  });
  const stop = async () => {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGTERM');
  };
  if (!ready) {
    await stop();
    return null;
  }
  return { host: `localhost:${port}`, stop };
}

const emulator = (await ours()) ?? (await gcloud());
const skip = emulator
  ? false
  : 'no Firestore emulator (project emulators/ not importable, gcloud absent)';
if (skip) process.stdout.write(`# SKIP ${skip}\n`);

const everywhere: DetectorFootprint = {
  cone: { ra: RA0, dec: DEC0, radiusDeg: 0.05 },
  contains: () => true,
};

async function runVisits(apdb: Apdb, n: number): Promise<void> {
  const visits = observe(makeSky(31, 10, 5, 3), n, 32);
  for (const v of visits) {
    const result = await associateVisit(apdb, {
      visit: v.info,
      records: v.records,
      footprint: everywhere,
      timeProcessedMjdTai: v.info.mjd + 0.01,
      forcedPhotometry: (positions) =>
        positions.map(() => ({ psfFlux: 1, psfFluxErr: 2, scienceFlux: 3, scienceFluxErr: 4 })),
    });
    assert.equal(await apdb.storeVisit(result.batch), true);
    assert.equal(
      await apdb.storeVisit(result.batch),
      false,
      'storing a (visit, detector) twice is refused',
    );
  }
}

test(
  'Firestore APDB gives the same DiaObjects, sources and forced sources as the embedded one',
  { skip, timeout: 120_000 },
  async () => {
    assert.ok(emulator);
    process.env.FIRESTORE_EMULATOR_HOST = emulator.host;
    const db = new Firestore({ projectId: 'apdb-test' });
    const remote = new FirestoreApdb(db, { prefix: `t${Date.now()}_` });
    const local = new EmbeddedApdb();
    try {
      await runVisits(remote, 6);
      await runVisits(local, 6);
      const byId = <T extends { diaObjectId: number }>(rows: T[]) =>
        [...rows].sort((a, b) => a.diaObjectId - b.diaObjectId);
      const remoteObjects = byId(await remote.getDiaObjectsInRegion(everywhere.cone));
      const localObjects = byId(await local.getDiaObjectsInRegion(everywhere.cone));
      assert.ok(localObjects.length > 10);
      assert.deepEqual(remoteObjects, localObjects);
      const ids = localObjects.map((o) => o.diaObjectId);
      const key = (r: { diaSourceId?: number; diaForcedSourceId?: number }) =>
        r.diaSourceId ?? r.diaForcedSourceId ?? 0;
      const sort = <T extends { diaSourceId?: number; diaForcedSourceId?: number }>(rows: T[]) =>
        [...rows].sort((a, b) => key(a) - key(b));
      assert.deepEqual(
        sort(await remote.getDiaSourcesForObjects(ids, 60002)),
        sort(await local.getDiaSourcesForObjects(ids, 60002)),
      );
      assert.deepEqual(
        sort(await remote.getForcedSourcesForObjects(ids, 0)),
        sort(await local.getForcedSourcesForObjects(ids, 0)),
      );
      const small = { ra: localObjects[0].ra, dec: localObjects[0].dec, radiusDeg: 0.5 / 3600 };
      assert.deepEqual(
        (await remote.getDiaObjectsInRegion(small)).map((o) => o.diaObjectId),
        [localObjects[0].diaObjectId],
      );
    } finally {
      await remote.close();
      await emulator.stop();
    }
  },
);
