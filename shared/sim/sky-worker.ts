/**
 * Worker thread of the simulator: draws the odd-indexed stars and galaxies of an image into a
 * shared buffer while the main thread draws the rest. It rebuilds the same plan from the resolved
 * config (every draw is seeded), so only the config, the image's visit and the buffer cross
 * the thread boundary.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { SimConfig } from './config.js';
import { planNight } from './night.js';
import type { SkyJob } from './parallel.js';
import { renderStaticHalf } from './render.js';

const { config } = workerData as { config: SimConfig };
const plan = planNight(config);

parentPort?.on('message', (job: SkyJob) => {
  const spec = job.visit === 0 ? plan.template : plan.visits[job.visit - 1];
  renderStaticHalf(plan.field, spec, plan.config.size, new Float32Array(job.buffer), 1);
  parentPort?.postMessage(job.visit);
});
