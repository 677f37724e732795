/**
 * Worker threads on TypeScript sources: Node 20 does not pass `--import tsx` on to workers, so the
 * worker registers tsx itself before importing its module (as shared/warp and shared/sim do).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTsWorker(url: URL, options: WorkerOptions = {}): Worker {
  const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
  return new Worker(
    `import(${tsx}).then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`,
    { ...options, eval: true },
  );
}
