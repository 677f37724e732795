/**
 * A small pool of worker threads that run exported functions of modules, by module URL, with
 * structured-cloneable arguments (SharedArrayBuffers are shared, not copied). Each worker is
 * started by shared/util/worker.ts (tsx sources or compiled code alike).
 * Idle workers do not keep the process alive.
 * @example
 *   const pool = WorkerPool.shared();
 *   await pool.run({ module: new URL('./job.js', import.meta.url).href, fn: 'work', args: { buffer } });
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
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

interface Slot {
  worker: Worker;
  busy: number;
}

let sharedPool: WorkerPool | null = null;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** `size` worker threads (0 is allowed: run() then fails, callers check `size`). */
  constructor(readonly size: number) {
    const url = siblingModule('./pool-worker', import.meta.url);
    for (let i = 0; i < size; i++) {
      const worker = startWorker(url);
      const slot: Slot = { worker, busy: 0 };
      worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (--slot.busy === 0) worker.unref();
        if (!p) return;
        if (m.error !== undefined) p.reject(new Error(`worker task failed: ${m.error}`));
        else p.resolve(m.result);
      });
      worker.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      worker.unref();
      this.slots.push(slot);
    }
  }

  /** One pool per process: one worker per core beyond the main thread's (AP_THREADS overrides the total). */
  static shared(): WorkerPool {
    const threads = Number(process.env.AP_THREADS ?? availableParallelism());
    sharedPool ??= new WorkerPool(Math.max(0, Math.floor(threads) - 1));
    return sharedPool;
  }

  run<T>(task: PoolTask): Promise<T> {
    if (this.slots.length === 0) return Promise.reject(new Error('WorkerPool has no workers'));
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.nextId++;
    if (slot.busy++ === 0) slot.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      slot.worker.postMessage({ id, ...task });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
    if (sharedPool === this) sharedPool = null;
  }
}
