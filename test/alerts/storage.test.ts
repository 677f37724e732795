/**
 * The alert archive on Cloud Storage through @google-cloud/storage, against the project's
 * Storage emulator (skipped with the reason printed when emulators/ is not available).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Storage } from '@google-cloud/storage';
import { GcsObjectStore } from '../../shared/adapters/storage.js';
import { AlertArchive } from '../../shared/alerts/archive.js';
import { loadAlertSchema } from '../../shared/alerts/schema.js';

async function emulator(): Promise<{ host: string; stop(): Promise<void> } | string> {
  try {
    const { startEmulators } =
      (await import('../../emulators/main.js')) as typeof import('../../emulators/main.js');
    const running = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
    return { host: running.storageHost, stop: () => running.stop() };
  } catch (err) {
    return `project Storage emulator unavailable: ${(err as Error).message.split('\n')[0]}`;
  }
}

const running = await emulator();
const skip = typeof running === 'string' ? running : false;
if (skip) process.stdout.write(`# SKIP ${skip}\n`);

test(
  'archive on Cloud Storage: create-only alerts, duplicates detected, schema registry',
  { skip },
  async () => {
    assert.ok(typeof running !== 'string');
    process.env.STORAGE_EMULATOR_HOST = running.host;
    try {
      const storage = new Storage({ projectId: 'archive-test' });
      const [bucket] = await storage.createBucket(`alerts-${Date.now()}`);
      const archive = new AlertArchive(new GcsObjectStore(bucket));
      const frame = Buffer.from([0, 0, 0, 0, 100, 9, 8, 7]);
      assert.equal(await archive.putAlert(7, frame), true);
      assert.equal(
        await archive.putAlert(7, Buffer.from([0, 0, 0, 0, 100, 1])),
        false,
        'second write of an id is a duplicate',
      );
      assert.deepEqual(await archive.getAlert(7), frame, 'the first write survives');
      assert.equal(await archive.getAlert(8), null);
      assert.equal(await archive.putSchema(loadAlertSchema()), true);
      assert.equal(await archive.getSchemaText(101), loadAlertSchema().text);
      assert.deepEqual(await archive.store.list('v1/'), [
        'v1/alerts/7.avro.gz',
        'v1/schemas/101.json',
      ]);
    } finally {
      await running.stop();
    }
  },
);
