/**
 * `npm run bench [-- AREA ...]`: runs the benchmarks of each area (bench/<area>.ts exports `run`)
 * and prints their figures: per-stage times and peak memory on 4096 x 4096 images, throughputs,
 * and the TensorFlow.js backend in use. With no AREA, all of them, in pipeline order.
 */
import { cpus, totalmem } from 'node:os';
import { initTf } from '../shared/tf/backend.js';

const AREAS = [
  'cold-start',
  'fits',
  'simulate',
  'characterize',
  'warp',
  'diffim',
  'realworld',
  'detect',
  'rb',
  'alerts',
  'filter',
  'pipeline',
  'solar',
  'emulators',
  'e2e',
] as const;

const requested = process.argv.slice(2);
const unknown = requested.filter((a) => !(AREAS as readonly string[]).includes(a));
if (unknown.length) {
  process.stderr.write(
    `bench: unknown area(s) ${unknown.join(', ')}; choose from ${AREAS.join(', ')}\n`,
  );
  process.exit(2);
}
const areas = requested.length ? requested : AREAS;
const backend = await initTf(undefined, () => {});
console.log(
  `# machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; node ${process.version}; tfjs backend: ${backend}`,
);
for (const area of areas) {
  console.log(`\n## ${area}`);
  const started = Date.now();
  const module = (await import(`./${area}.js`)) as { run: () => Promise<void> };
  await module.run();
  console.log(`(${area}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
