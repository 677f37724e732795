/**
 * The one worker-thread bootstrap, for TypeScript sources under tsx (development, tests) and for
 * the compiled JavaScript in dist/ (production). Node 20 does not pass `--import tsx` on to worker
 * threads, so a worker on a `.ts` module registers tsx itself before importing it.
 * @example
 *   const worker = startWorker(siblingModule('./job-worker', import.meta.url), { workerData });
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The module `name` (no extension) next to `from`, with the extension the running code has. */
export function siblingModule(name: string, from: string): URL {
  return new URL(`${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from);
}

/** Starts a worker thread on module `url`, registering tsx first when it is TypeScript. */
export function startWorker(url: URL, options: WorkerOptions = {}): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, options);
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`,
    { ...options, eval: true },
  );
}
