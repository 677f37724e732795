/**
 * The worker pool survives a crashed worker: only the tasks that worker held fail (with the
 * reason), the other worker's tasks complete, and a fresh worker takes the dead one's place, so
 * the pool keeps its size and later tasks run on both threads.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { tasksOf } from '../../shared/util/pool-task.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';

// The pool unrefs idle workers (so that they never keep a process alive); a test file has no other
// handle, and a worker's exit or reply arriving while none is ref'd let the runner see an empty event
// loop and cancel the test (seen ~1 in 6 runs of this file). A ref'd timer keeps the loop alive; a
// promise that never settles then fails on the tests' timeout instead.
const keepAlive = setInterval(() => {}, 1000);
after(() => clearInterval(keepAlive));
const TIMEOUT = { timeout: 60_000 };

const task = tasksOf<typeof import('./pool-tasks.js')>(
  new URL('./pool-tasks.ts', import.meta.url).href,
);
type Slow = { value: number; thread: number };
const slow = (pool: WorkerPool, value: number, ms = 50) =>
  pool.runTask(task('slow'), { ms, value });

test('a killed worker fails only its own tasks and is replaced', TIMEOUT, async () => {
  const pool = new WorkerPool(2);
  try {
    const before = pool.threadIds();
    // Tasks go to the least busy worker, the first on ties: A to thread 0, B to thread 1, the
    // killing task to thread 0, which then dies holding A as well.
    const a = slow(pool, 1, 800);
    const b = slow(pool, 2, 800);
    const kill = pool.runTask(task('die'), { code: 3 });
    const [ra, rb, rkill] = await Promise.allSettled([a, b, kill]);
    for (const r of [ra, rkill]) {
      assert.equal(r.status, 'rejected');
      assert.match(
        String((r as PromiseRejectedResult).reason),
        /worker thread exited with code 3; its task was lost/,
      );
    }
    assert.equal(rb.status, 'fulfilled');
    assert.deepEqual((rb as PromiseFulfilledResult<Slow>).value, { value: 2, thread: before[1] });
    assert.equal(pool.replaced, 1);
    const after = pool.threadIds();
    assert.equal(after.length, 2);
    assert.equal(after[1], before[1]);
    assert.ok(!before.includes(after[0]), "a new thread in the dead one's slot");
    // The pool works at full size afterwards.
    const later = await Promise.all([1, 2, 3, 4].map((v) => slow(pool, v)));
    assert.deepEqual(
      later.map((r) => r.value),
      [1, 2, 3, 4],
    );
    assert.deepEqual(new Set(later.map((r) => r.thread)), new Set(after));
  } finally {
    await pool.close();
  }
});

test(
  'an uncaught error in a worker fails its task with the error and the pool goes on',
  TIMEOUT,
  async () => {
    const pool = new WorkerPool(1);
    try {
      await assert.rejects(
        pool.runTask(task('crash'), null),
        /worker thread crashed: boom in the worker/,
      );
      assert.equal(pool.replaced, 1);
      assert.equal((await slow(pool, 7)).value, 7);
    } finally {
      await pool.close();
    }
  },
);

test(
  'preload loads a module in every worker before any task of it; a missing module rejects',
  TIMEOUT,
  async () => {
    const pool = new WorkerPool(2);
    try {
      await pool.preload([new URL('./pool-tasks.ts', import.meta.url).href]);
      const preloaded = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
      // A slow task on each worker, so the next two go one to each.
      await Promise.all([slow(pool, 1), slow(pool, 2)]);
      const loads = await Promise.all([
        pool.runTask(task('loadedAt'), undefined as never),
        pool.runTask(task('loadedAt'), undefined as never),
      ]);
      assert.deepEqual(new Set(loads.map((l) => l.thread)), new Set(pool.threadIds()));
      for (const l of loads) assert.ok(l.loaded <= preloaded, 'loaded by the preload');
      await assert.rejects(
        pool.preload([new URL('./no-such-module.ts', import.meta.url).href]),
        /no-such-module/,
      );
    } finally {
      await pool.close();
    }
  },
);
