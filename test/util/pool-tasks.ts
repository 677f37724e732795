// Tasks for test/util/worker-pool.test.ts, run inside pool workers.
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';

/** Resolves to `value` after `ms`, with the worker's thread id. */
export async function slow(args: {
  ms: number;
  value: number;
}): Promise<{ value: number; thread: number }> {
  await sleep(args.ms);
  return { value: args.value, thread: threadId };
}

/** Ends the worker thread, as a kill would. */
export function die(args: { code: number }): never {
  process.exit(args.code);
}

/** Throws outside the task's promise: an uncaught error that crashes the worker. */
export function crash(): Promise<never> {
  setTimeout(() => {
    throw new Error('boom in the worker');
  }, 10);
  return new Promise<never>(() => {});
}

/** Adds two numbers (the typed-handle test's task). */
export function add(args: { a: number; b: number }): number {
  return args.a + args.b;
}

/** Not a function: a task handle must not name it. */
export const notATask = 42;

/** When this module was loaded in the worker (Date.now()). */
const loaded = Date.now();

/** This module's load time in the worker that runs it, and that worker's thread id. */
export function loadedAt(): { loaded: number; thread: number } {
  return { loaded, thread: threadId };
}
