/**
 * Crash rehearsal of a function instance, for the fault campaign (bench/fault-kills.ts): the
 * instance stops dead at a named point of its invocation, and the pool kills it there
 * (Worker.terminate: no further line of the function runs, no `finally`, its sockets close as a
 * killed process's do) and starts a replacement, as Cloud Run replaces a crashed instance; the
 * failed invocation nacks its message, which comes back after the retry backoff.
 */
import type { MessagePort } from 'node:worker_threads';

/** Where to crash: right after the `occurrence`-th checkpoint named `point` of one invocation. */
export interface CrashPlan {
  point: string;
  occurrence: number;
  /** The pool's verdict, written once the instance has stopped: 1 = go on (the plan was taken by another instance). */
  verdict: SharedArrayBuffer;
}

/** What an instance posts when it stopped at a crash point. */
export interface CrashingMessage {
  type: 'crashing';
  id: number;
  point: string;
}

/** How long a stopped instance waits for the pool's verdict before it goes on by itself. */
const VERDICT_WAIT_MS = 30_000;

/**
 * The checkpoint of invocation `id`: called with each point's name (a timed cloud call that
 * succeeded, a log line's message); at the plan's point it blocks this thread until the pool
 * kills it or lets it go on.
 */
export function checkpoints(
  port: MessagePort,
  id: number,
  plan: CrashPlan | undefined,
): (point: string) => void {
  let seen = 0;
  return (point) => {
    if (!plan || point !== plan.point || ++seen !== plan.occurrence) return;
    port.postMessage({ type: 'crashing', id, point } satisfies CrashingMessage);
    Atomics.wait(new Int32Array(plan.verdict), 0, 0, VERDICT_WAIT_MS);
  };
}
