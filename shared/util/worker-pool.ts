/**
 * A small pool of worker threads that run exported functions of modules, by module URL, with
 * structured-cloneable arguments (SharedArrayBuffers are shared, not copied). Each worker is
 * started by shared/util/worker.ts (tsx sources or compiled code alike).
 * Idle workers do not keep the process alive. Callers name tasks through the typed handles of
 * pool-task.ts (runTask), so a misspelt task fails at compile time. A worker may ask this thread for
 * help with a pass it shares (shared-bands.ts parentHelper): the task runs here when the event loop is free.
 * @example
 *   const pool = WorkerPool.shared();
 *   await pool.runTask(poolTask(import.meta.url, { work }), { buffer });
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { Task } from './pool-task.js';
import { siblingModule, startWorker } from './worker.js';

export interface PoolTask {
  /** Module URL (import.meta.url-relative, e.g. new URL('./x.js', import.meta.url).href). */
  module: string;
  /** Name of the exported function, called as fn(args) (it may return a promise). */
  fn: string;
  args: unknown;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** One worker and the tasks it holds; a crashed worker is replaced in its slot. */
interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

let sharedPool: WorkerPool | null = null;

/** Runs a task on this thread, as a worker would (pool-worker.ts). */
async function runHere(task: PoolTask): Promise<void> {
  const mod = (await import(task.module)) as Record<string, (args: unknown) => unknown>;
  await mod[task.fn](task.args);
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly url = siblingModule('./pool-worker', import.meta.url);
  private nextId = 0;
  private closing = false;
  /** Workers replaced after a crash, since the pool started. */
  replaced = 0;

  /** `size` worker threads (0 is allowed: run() then fails, callers check `size`). */
  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) {
      const slot: Slot = { worker: this.spawn(), pending: new Map() };
      this.watch(slot);
      this.slots.push(slot);
    }
  }

  private spawn(): Worker {
    const worker = startWorker(this.url);
    worker.unref();
    return worker;
  }

  /**
   * Settles the slot's tasks from its worker's replies. If the worker dies (an uncaught error, a
   * native crash, process.exit or a kill), only the tasks it held fail, and a fresh worker takes
   * its place, so the pool keeps its size.
   */
  private watch(slot: Slot): void {
    const { worker } = slot;
    let failure: Error | null = null;
    worker.on('message', (m: { id: number; result?: unknown; error?: string; help?: PoolTask }) => {
      // A worker's request for help (shared-bands.ts parentHelper): its task runs here; a failure
      // is counted in the pass's shared state, which the worker reads.
      if (m.help) return void runHere(m.help).catch(() => {});
      const p = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      if (slot.pending.size === 0) worker.unref();
      if (!p) return;
      if (m.error !== undefined) p.reject(new Error(`worker task failed: ${m.error}`));
      else p.resolve(m.result);
    });
    worker.on('error', (err) => (failure = err));
    worker.once('exit', (code) => {
      if (slot.worker !== worker) return;
      const reason = failure ? `crashed: ${failure.message}` : `exited with code ${code}`;
      for (const p of slot.pending.values())
        p.reject(new Error(`worker thread ${reason}; its task was lost`));
      slot.pending.clear();
      if (this.closing) return;
      slot.worker = this.spawn();
      this.replaced++;
      this.watch(slot);
    });
  }

  /** One pool per process: one worker per core beyond the main thread's (AP_THREADS overrides the total). */
  static shared(): WorkerPool {
    const threads = Number(process.env.AP_THREADS ?? availableParallelism());
    sharedPool ??= new WorkerPool(Math.max(0, Math.floor(threads) - 1));
    return sharedPool;
  }

  run<T>(task: PoolTask): Promise<T> {
    if (this.slots.length === 0) return Promise.reject(new Error('WorkerPool has no workers'));
    const slot = this.slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = this.nextId++;
    if (slot.pending.size === 0) slot.worker.ref();
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      slot.worker.postMessage({ id, ...task });
    });
  }

  /** Runs a typed task (pool-task.ts) with its arguments. */
  runTask<A, R>(task: Task<A, R>, args: A): Promise<R> {
    return this.run<R>({ module: task.module, fn: task.fn, args });
  }

  /**
   * Every worker loads `modules` (URLs, as a task's module) now, e.g. while the caller reads its
   * inputs, so that the first task on them does not wait for their loading (and, under tsx,
   * compiling). Resolves when all are loaded; a module that fails to load rejects it.
   */
  async preload(modules: readonly string[]): Promise<void> {
    await Promise.all(
      this.slots.flatMap((slot) =>
        modules.map(
          (module) =>
            new Promise<void>((resolve, reject) => {
              const id = this.nextId++;
              if (slot.pending.size === 0) slot.worker.ref();
              slot.pending.set(id, { resolve: () => resolve(), reject });
              slot.worker.postMessage({ id, module, fn: '', args: null });
            }),
        ),
      ),
    );
  }

  /** The worker threads' ids, one per slot (a replaced worker has a new id). */
  threadIds(): number[] {
    return this.slots.map((s) => s.worker.threadId);
  }

  async close(): Promise<void> {
    this.closing = true;
    // Ref'd until they exit: an idle (unref'd) worker's exit does not keep the event loop alive, so
    // terminate()'s promise could be left pending when nothing else runs (a test then cancelled).
    await Promise.all(
      this.slots.map((s) => {
        s.worker.ref();
        return s.worker.terminate();
      }),
    );
    this.slots.length = 0;
    if (sharedPool === this) sharedPool = null;
  }
}
