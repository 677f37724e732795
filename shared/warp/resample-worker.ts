// Worker thread body: resamples its band of output rows into the shared output planes.
import { parentPort, workerData } from 'node:worker_threads';
import { resampleRows, type ResampleJob } from './resample.js';

const { job, yStart, yEnd } = workerData as { job: ResampleJob; yStart: number; yEnd: number };
parentPort?.postMessage(resampleRows(job, yStart, yEnd));
