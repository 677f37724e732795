/**
 * A second thread for the simulator's heaviest work: half of the static stars and galaxies of
 * each image (see sky-worker.ts). If the worker cannot run, the caller draws that half itself,
 * with the same pixels.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorker } from '../util/worker.js';
import type { SimConfig } from './config.js';

/** One image's odd half of the static sky, drawn by the worker into `buffer`. */
export interface SkyJob {
  visit: number;
  buffer: SharedArrayBuffer;
}

/** Starts the sky worker on the simulation's config. */
function startSkyWorker(config: SimConfig): Worker {
  return startWorker(siblingModule('./sky-worker', import.meta.url), { workerData: { config } });
}

export class SkyWorker {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  constructor(config: SimConfig) {
    this.worker = startSkyWorker(config);
    this.worker.on('message', (visit: number) => {
      this.waiting.get(visit)?.resolve();
      this.waiting.delete(visit);
    });
    const fail = (error: Error): void => {
      this.failure = error;
      for (const { reject } of this.waiting.values()) reject(error);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`sky worker exited with code ${code}`)));
  }

  /** The odd half of the static sky of image `visit` (0 = template), drawn on the worker thread. */
  render(visit: number, size: number): Promise<Float32Array> {
    const buffer = new SharedArrayBuffer(size * size * 4);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(visit, { resolve, reject });
      this.worker.postMessage({ visit, buffer } satisfies SkyJob);
    }).then(() => new Float32Array(buffer));
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
