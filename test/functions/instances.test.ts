/**
 * The local runner's function instances enforce the deadline: an invocation that overruns it
 * (a synchronous loop no promise race can stop) fails, its instance is killed and replaced, and
 * the next invocation runs on the replacement.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startInstances } from '../../functions/night/instances.js';

test(
  'an instance that overruns its deadline is killed and replaced',
  { timeout: 60_000 },
  async () => {
    const pool = await startInstances({
      instances: { hang: 1, ok: 1 },
      onLog: () => {},
      deadlineSeconds: 1,
      workerUrl: new URL('./hanging-worker.ts', import.meta.url),
    });
    try {
      await assert.rejects(
        pool.invoke('hang', {}),
        /hang overran its 1 s deadline: instance killed and replaced/,
      );
      // The one 'hang' instance was replaced: the next invocation gets an instance (and overruns again).
      await assert.rejects(pool.invoke('hang', {}), /overran/);
      assert.equal((await pool.invoke('ok', {})).fn, 'ok');
    } finally {
      await pool.close();
    }
  },
);

test(
  'a crash rehearsal kills one instance at its point, the message fails, the replacement serves the next',
  { timeout: 60_000 },
  async () => {
    const pool = await startInstances({
      instances: { ok: 2 },
      onLog: () => {},
      workerUrl: new URL('./hanging-worker.ts', import.meta.url),
    });
    try {
      const crashed = pool.crashAt('ok', 'stored');
      // Two invocations at once on the two instances: exactly one is killed, the other goes on.
      const outcomes = await Promise.allSettled([pool.invoke('ok', {}), pool.invoke('ok', {})]);
      await crashed;
      const failed = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(failed.length, 1);
      assert.match(
        String(failed[0].reason),
        /ok instance crashed after stored: killed and replaced/,
      );
      // Taken once: both instances (one a replacement) serve again.
      const again = await Promise.all([pool.invoke('ok', {}), pool.invoke('ok', {})]);
      assert.deepEqual(
        again.map((r) => r.fn),
        ['ok', 'ok'],
      );
    } finally {
      await pool.close();
    }
  },
);
