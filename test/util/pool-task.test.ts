/**
 * Typed pool tasks: a handle runs the named export with its arguments on a worker, and a misspelt
 * task name, a non-function export or wrong arguments fail the type check (npx tsc, part of
 * npm test: each @ts-expect-error below is itself an error if the line compiles).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolTask, tasksOf } from '../../shared/util/pool-task.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';

const TASKS_URL = new URL('./pool-tasks.ts', import.meta.url).href;
const task = tasksOf<typeof import('./pool-tasks.js')>(TASKS_URL);

test('a typed handle runs its export on a worker and resolves to its result', async () => {
  const pool = new WorkerPool(1);
  try {
    const sum: number = await pool.runTask(task('add'), { a: 2, b: 3 });
    assert.equal(sum, 5);
  } finally {
    await pool.close();
  }
});

test('misspelt names, non-functions and wrong arguments are compile-time errors', () => {
  // @ts-expect-error: no export 'ad'
  assert.deepEqual(task('ad'), { module: TASKS_URL, fn: 'ad' });
  // @ts-expect-error: 'notATask' is not a function
  task('notATask');
  const pool = new WorkerPool(0);
  // @ts-expect-error: add takes { a, b }
  void pool.runTask(task('add'), { a: 1 }).catch(() => undefined);
  void pool.close();
});

function double(args: { n: number }): number {
  return 2 * args.n;
}

test('poolTask takes the name from the function itself', () => {
  assert.deepEqual(poolTask('file:///m.js', { double }), { module: 'file:///m.js', fn: 'double' });
  assert.throws(() => poolTask('file:///m.js', {}), /one function, got 0/);
});

test('a task naming no exported function fails with the module and the name', async () => {
  const pool = new WorkerPool(1);
  try {
    await assert.rejects(
      pool.runTask({ module: TASKS_URL, fn: 'notATask' }, null),
      /exports no function notATask/,
    );
  } finally {
    await pool.close();
  }
});
