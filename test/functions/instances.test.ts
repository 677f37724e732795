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
