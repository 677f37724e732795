/**
 * Function instances as worker threads, as Cloud Functions runs instances side by side: the
 * CPU-heavy pipeline then uses both cores, and the main thread (emulators, broker, clock) stays
 * responsive so that latencies are measured where the broker sees them.
 */
import type { Worker } from 'node:worker_threads';
import type { CallTimings } from './call-timings.js';
import type { InstanceMessage, InvocationRequest } from './instance-worker.js';
import type { CrashPlan } from './crash-point.js';
import { siblingModule, startWorker } from '../../shared/util/worker.js';

export interface InvocationResult {
  fn: string;
  /** Wall time of the invocation in its instance, ms. */
  ms: number;
  calls: CallTimings;
}

export interface InstancePool {
  /** Runs entry point `fn` on `event` in a free instance; rejects when the function throws. */
  invoke(fn: string, event: unknown): Promise<InvocationResult>;
  /**
   * Crash rehearsal (crash-point.ts): the next instance of `fn` that reaches the `occurrence`-th
   * checkpoint `point` of an invocation (a timed call's category, call-timings.ts, that succeeded,
   * or a log line's message) is killed right there and replaced; its invocation fails, so the
   * message is redelivered. Resolves once that happened; one instance is killed per call.
   */
  crashAt(fn: string, point: string, occurrence?: number): Promise<void>;
  close(): Promise<void>;
}

export interface InstancePoolOptions {
  /** Instances per entry point (the trigger's concurrency). */
  instances: Record<string, number>;
  /** Each JSON log line of every instance. */
  onLog: (line: string) => void;
  /**
   * Wall time an invocation may take, seconds, as the platform's function timeout: an instance
   * that overruns it is killed (a hung pipeline cannot stop itself) and replaced by a fresh one,
   * and the invocation fails so that the message is redelivered. Default 300.
   */
  deadlineSeconds?: number;
  /** The instance's module (default ./instance-worker.ts; tests give a worker of their own). */
  workerUrl?: URL;
}

interface Instance {
  worker: Worker;
  busy: boolean;
}

/** The platform's default function timeout, seconds. */
const DEFAULT_DEADLINE_SECONDS = 300;

const WORKER_URL = siblingModule('./instance-worker', import.meta.url);

/** Starts the instances; their environment is this process's at the time of the call. */
export async function startInstances(options: InstancePoolOptions): Promise<InstancePool> {
  let nextId = 1;
  const waiting = new Map<
    number,
    { resolve: (r: InstanceMessage & { type: 'done' }) => void; crashing: (point: string) => void }
  >();
  // Armed crash rehearsals by entry point, each taken by the first instance that reaches it.
  const armed = new Map<string, { point: string; occurrence: number; taken: () => void }>();
  const pools = new Map<string, Instance[]>();
  const queues = new Map<string, Array<() => void>>();
  // Every worker alive, replacements still starting included, so that close() ends them all.
  const alive = new Set<Worker>();
  let closed = false;
  // Each instance told the entry point it serves, as Cloud Run functions do (functions/warm.ts).
  const spawn = (fn: string) =>
    new Promise<Worker>((resolve, reject) => {
      const worker = startWorker(options.workerUrl ?? WORKER_URL, {
        env: { ...process.env, FUNCTION_TARGET: fn },
      });
      alive.add(worker);
      worker.once('exit', () => alive.delete(worker));
      if (closed) void worker.terminate();
      worker.on('message', (m: InstanceMessage) => {
        if (m.type === 'log') options.onLog(m.line);
        else if (m.type === 'done') waiting.get(m.id)?.resolve(m);
        else if (m.type === 'crashing') waiting.get(m.id)?.crashing(m.point);
      });
      worker.once('error', reject);
      worker.once('exit', (code) =>
        reject(new Error(`function instance exited with code ${code}`)),
      );
      worker.on('message', (m: InstanceMessage) => {
        if (m.type === 'ready') resolve(worker);
      });
    });
  for (const [fn, count] of Object.entries(options.instances)) {
    pools.set(
      fn,
      await Promise.all(
        Array.from({ length: count }, async () => ({ worker: await spawn(fn), busy: false })),
      ),
    );
    queues.set(fn, []);
  }
  const acquire = async (fn: string): Promise<Instance> => {
    const pool = pools.get(fn);
    if (!pool) throw new Error(`no instances of '${fn}'`);
    for (;;) {
      const free = pool.find((i) => !i.busy);
      if (free) {
        free.busy = true;
        return free;
      }
      await new Promise<void>((resolve) => queues.get(fn)!.push(resolve));
    }
  };
  const release = (fn: string, instance: Instance) => {
    instance.busy = false;
    queues.get(fn)!.shift()?.();
  };
  /** Kills the instance; the replacement takes its place and is released once it is ready. */
  const replace = (fn: string, instance: Instance) => {
    void instance.worker.terminate();
    spawn(fn).then(
      (fresh) => {
        instance.worker = fresh;
        release(fn, instance);
      },
      (err: unknown) =>
        options.onLog(
          JSON.stringify({
            severity: 'ERROR',
            message: `replacement instance of ${fn} failed to start: ${String(err)}`,
          }),
        ),
    );
  };
  return {
    async invoke(fn, event) {
      const instance = await acquire(fn);
      const id = nextId++;
      const started = performance.now();
      const deadline = options.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS;
      let timer: NodeJS.Timeout | undefined;
      let killed = false;
      const plan = armed.get(fn);
      const crashAfter: CrashPlan | undefined = plan && {
        point: plan.point,
        occurrence: plan.occurrence,
        verdict: new SharedArrayBuffer(4),
      };
      try {
        const done = await new Promise<InstanceMessage & { type: 'done' }>((resolve, reject) => {
          const kill = (why: string) => {
            killed = true;
            replace(fn, instance);
            reject(new Error(why));
          };
          const crashing = (point: string) => {
            const taken = armed.get(fn);
            if (taken && taken.point === point) {
              armed.delete(fn);
              kill(`${fn} instance crashed after ${point}: killed and replaced`);
              taken.taken();
              return;
            }
            // Another instance took the rehearsal: this one goes on.
            const verdict = new Int32Array(crashAfter!.verdict);
            Atomics.store(verdict, 0, 1);
            Atomics.notify(verdict, 0);
          };
          waiting.set(id, { resolve, crashing });
          timer = setTimeout(
            () => kill(`${fn} overran its ${deadline} s deadline: instance killed and replaced`),
            deadline * 1000,
          );
          instance.worker.postMessage({ id, fn, event, crashAfter } satisfies InvocationRequest);
        });
        const result = { fn, ms: performance.now() - started, calls: done.calls };
        if (done.error) throw new Error(done.error);
        return result;
      } finally {
        clearTimeout(timer);
        waiting.delete(id);
        if (!killed) release(fn, instance);
      }
    },
    crashAt(fn, point, occurrence = 1) {
      if (!pools.has(fn)) return Promise.reject(new Error(`no instances of '${fn}'`));
      return new Promise<void>((taken) => armed.set(fn, { point, occurrence, taken }));
    },
    async close() {
      closed = true;
      await Promise.all([...alive].map((w) => w.terminate()));
    },
  };
}
