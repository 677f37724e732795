/**
 * A synchronous pass over independent bands (row bands, mesh cell rows) shared with another thread
 * when that thread is free: the calling thread asks its helper to run the pass's task, claims bands
 * from a shared counter, then blocks (Atomics.wait) only for the bands the helper claimed and is
 * still computing. A busy helper runs the task late and finds nothing left, so the caller never
 * waits for it to become free. The helper of the main thread is its WorkerPool's workers
 * (poolHelper); a pool worker's helper is the main thread, which runs the task when its event loop
 * is idle (parentHelper, served by WorkerPool). Inputs and outputs must be on SharedArrayBuffers.
 * @example
 *   export function rowsTask(job: Job & { claim: BandClaim }): void {
 *     runClaimed(job.claim, (b) => rows(job, b));
 *   }
 *   shareBands(helper, poolTask(import.meta.url, { rowsTask }), job, count, (b) => rows(job, b));
 */
import { isMainThread, parentPort } from 'node:worker_threads';
import type { Task } from './pool-task.js';
import type { PoolTask, WorkerPool } from './worker-pool.js';

/** Runs a task (a module's exported function by URL) on another thread, fire and forget. */
export type Helper = (task: PoolTask) => void;

/** The shared counters of one pass: [next band to claim, bands done, a band failed]. */
export interface BandClaim {
  state: Int32Array;
  count: number;
}

const NEXT = 0;
const DONE = 1;
const FAILED = 2;
/** A helper that made no progress for this long is taken for dead (a crashed worker never counts its band). */
const STALL_MS = 60_000;

/** Runs band(b) for each band claimed until none is left; each counts as done (a failed one also sets the flag). */
export function runClaimed(claim: BandClaim, band: (b: number) => void): void {
  const { state, count } = claim;
  for (let b = Atomics.add(state, NEXT, 1); b < count; b = Atomics.add(state, NEXT, 1)) {
    try {
      band(b);
    } catch (err) {
      Atomics.store(state, FAILED, 1);
      throw err;
    } finally {
      Atomics.add(state, DONE, 1);
      Atomics.notify(state, DONE);
    }
  }
}

/**
 * Bands 0..count-1: `task(args + claim)` offered to `helper`, band(b) run here on the bands this
 * thread claims; returns once every band is done (throws if one failed on either thread).
 */
export function shareBands<A extends object>(
  helper: Helper | null,
  task: Task<A & { claim: BandClaim }, void>,
  args: A,
  count: number,
  band: (b: number) => void,
): void {
  const claim: BandClaim = { state: new Int32Array(new SharedArrayBuffer(12)), count };
  if (helper && count > 1) helper({ module: task.module, fn: task.fn, args: { ...args, claim } });
  runClaimed(claim, band);
  const { state } = claim;
  for (let done = Atomics.load(state, DONE); done < count; done = Atomics.load(state, DONE))
    if (Atomics.wait(state, DONE, done, STALL_MS) === 'timed-out')
      throw new Error(`a helper thread did not finish its band in ${STALL_MS} ms`);
  if (Atomics.load(state, FAILED)) throw new Error('a band of a shared pass failed');
}

/** The pool's workers as a helper (each is offered the task), or null without workers. */
export function poolHelper(pool: WorkerPool | null): Helper | null {
  if (!pool || pool.size === 0) return null;
  return (task) => {
    for (let i = 0; i < pool.size; i++) pool.run(task).catch(() => {});
  };
}

/** On a WorkerPool's worker, the thread that started it as a helper (WorkerPool runs the task); null on the main thread. */
export function parentHelper(): Helper | null {
  const port = parentPort;
  if (isMainThread || !port) return null;
  return (task) => port.postMessage({ help: task });
}

/** A SharedArrayBuffer-backed copy of `values` (a pass's input that a helper reads). */
export function sharedBytes(values: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(values.length));
  out.set(values);
  return out;
}
