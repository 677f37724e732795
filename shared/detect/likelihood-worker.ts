// Worker thread body: one separable correlation into a shared output plane (see likelihood.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { correlateSeparable, type SeparableTerm } from './separable.js';

export interface CorrelationJob {
  input: SharedArrayBuffer;
  output: SharedArrayBuffer;
  width: number;
  height: number;
  terms: SeparableTerm[];
}

const job = workerData as CorrelationJob;
correlateSeparable(
  new Float32Array(job.input),
  job.width,
  job.height,
  job.terms,
  new Float32Array(job.output),
);
parentPort?.postMessage('done');
