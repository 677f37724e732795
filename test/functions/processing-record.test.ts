import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Firestore } from '@google-cloud/firestore';
import { startEmulators } from '../../emulators/main.js';
import { ProcessingRecords } from '../../functions/processing-record.js';

const emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
const db = new Firestore({ projectId: 'test-records' });
const records = new ProcessingRecords(db);
after(async () => {
  await db.terminate();
  await emulators.stop();
});

test('a record moves started -> stored -> published, and replays become no-ops', async () => {
  const first = await records.begin('APSIM_g1_0', 3);
  assert.equal(first.action, 'process');
  assert.equal(first.record.attempts, 1);
  await records.markStored('APSIM_g1_0', 'results/APSIM_g1_0.bin', 12);
  const retry = await records.begin('APSIM_g1_0', 3);
  assert.equal(retry.action, 'republish');
  assert.equal(retry.record.resultKey, 'results/APSIM_g1_0.bin');
  assert.equal(retry.record.attempts, 1, 'a re-send is not a processing attempt');
  await records.markChunkPublished('APSIM_g1_0', 1);
  await records.markChunkPublished('APSIM_g1_0', 0);
  await records.markChunkPublished('APSIM_g1_0', 1);
  await records.markPublished('APSIM_g1_0');
  const replay = await records.begin('APSIM_g1_0', 3);
  assert.equal(replay.action, 'duplicate');
  assert.deepEqual(replay.record.chunksDone, [0, 1]);
});

test('alerts published before a failed APDB write: the next delivery processes again, then replays are no-ops', async () => {
  assert.equal((await records.begin('APSIM_g5_3', 3)).action, 'process');
  await records.markChunkPublished('APSIM_g5_3', 0);
  await records.markPublished('APSIM_g5_3');
  const retry = await records.begin('APSIM_g5_3', 3);
  assert.equal(retry.action, 'process', 'the APDB rows were never written');
  assert.equal(retry.record.attempts, 2);
  await records.markStored('APSIM_g5_3', 'results/APSIM_g5_3.bin', 4);
  const after = await records.begin('APSIM_g5_3', 3);
  assert.equal(after.action, 'duplicate');
  assert.equal(after.record.state, 'published', 'markStored keeps a published record published');
});

test('deliveries that keep failing are exhausted after maxAttempts', async () => {
  for (let i = 1; i <= 2; i++) {
    const b = await records.begin('APSIM_g2_5', 2);
    assert.equal(b.action, 'process');
    await records.noteError('APSIM_g2_5', `transient ${i}`);
  }
  const third = await records.begin('APSIM_g2_5', 2);
  assert.equal(third.action, 'exhausted');
  assert.equal(third.record.error, 'transient 2');
  await records.markFailed('APSIM_g2_5', 'gave up');
  assert.equal((await records.begin('APSIM_g2_5', 2)).action, 'duplicate');
});

test('concurrent deliveries of one image count every attempt (transactions do not lose updates)', async () => {
  const results = await Promise.all(
    Array.from({ length: 6 }, () => records.begin('APSIM_g3_1', 100)),
  );
  assert.ok(results.every((r) => r.action === 'process'));
  assert.deepEqual(
    results.map((r) => r.record.attempts).sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6],
  );
});

test('a failed image is retried when a new generation is uploaded, not when the same one is replayed', async () => {
  assert.equal((await records.begin('APSIM_g4_2', 3, '1001')).action, 'process');
  await records.markFailed('APSIM_g4_2', 'FitsError: truncated file');
  assert.equal((await records.begin('APSIM_g4_2', 3, '1001')).action, 'duplicate');
  const fixed = await records.begin('APSIM_g4_2', 3, '1002');
  assert.equal(fixed.action, 'process');
  assert.equal(fixed.record.attempts, 1);
  assert.equal(fixed.record.generation, '1002');
  assert.equal(fixed.record.error, null);
});

test('the stored result records the configuration hash and code version that made it', async () => {
  const begun = await records.begin('APSIM_g9_1', 3);
  assert.equal(begun.record.configHash, null);
  const stored = await records.markStored('APSIM_g9_1', 'results/APSIM_g9_1.bin', 2, {
    configHash: '0123456789abcdef',
    codeVersion: '0.1.0+abc',
  });
  assert.equal(stored.configHash, '0123456789abcdef');
  assert.equal(stored.codeVersion, '0.1.0+abc');
  assert.equal((await records.get('APSIM_g9_1'))?.codeVersion, '0.1.0+abc');
});

test('a concurrent delivery while an attempt holds its lease is busy, and processes once the attempt ends', async () => {
  const first = await records.begin('APSIM_lease_1', 3, 'g1', 60);
  assert.equal(first.action, 'process');
  const second = await records.begin('APSIM_lease_1', 3, 'g1', 60);
  assert.equal(second.action, 'busy', 'the first attempt holds the record');
  assert.equal(second.record.attempts, 1, 'a busy delivery is not an attempt');
  await records.noteError('APSIM_lease_1', 'transient');
  const retry = await records.begin('APSIM_lease_1', 3, 'g1', 60);
  assert.equal(retry.action, 'process', 'the lease ends with the attempt');
  assert.equal(retry.record.attempts, 2);
});

test("a killed attempt's lease lapses unless renewed, and a renewal never revives an ended attempt", async () => {
  const key = 'APSIM_lease_2';
  const first = await records.begin(key, 3, 'g1', 1);
  assert.equal(first.action, 'process');
  // The running attempt's heartbeat keeps the record held past its first lease.
  await new Promise((r) => setTimeout(r, 600));
  await records.renewLease(key, first.record.attempts, 1);
  await new Promise((r) => setTimeout(r, 600));
  assert.equal((await records.begin(key, 3, 'g1', 1)).action, 'busy');
  // Killed: no more renewals; the lease lapses and a redelivery takes the image over.
  await new Promise((r) => setTimeout(r, 1100));
  const takeover = await records.begin(key, 3, 'g1', 1);
  assert.equal(takeover.action, 'process');
  assert.equal(takeover.record.attempts, 2);
  // The killed attempt's late heartbeat does not hold the record against the new attempt's end.
  await records.noteError(key, 'transient');
  await records.renewLease(key, takeover.record.attempts, 60);
  await records.renewLease(key, first.record.attempts, 60);
  assert.equal((await records.get(key))?.leaseUntil, null);
});
