// Worker thread body: claims chunks of output rows and resamples them into the shared output planes.
import { parentPort, workerData } from 'node:worker_threads';
import { resampleClaimed } from './resample.js';
import type { ClaimedRowsTask } from './warp.js';

const { job, claims, thread } = workerData as ClaimedRowsTask;
parentPort?.postMessage(resampleClaimed(job, claims, thread));
