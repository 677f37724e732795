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
  'apdb',
  'journal',
  'e2e',
  'templates',
  'faults',
] as const;
/** Parts of an area, run alone by name (not again when all areas run). */
const PARTS = [
  'fault-mix',
  'fault-kills',
  'fault-kills-more',
  'fault-kills-filter',
  'independent-noise',
] as const;
const NAMES = [...AREAS, ...PARTS];

/** What each area measures, printed by --help. */
const SUMMARIES: Record<(typeof NAMES)[number], string> = {
  fits: 'FITS read/write of a 4096 x 4096 detector: plain float32, RICE_1 int32 and quantized float32',
  simulate: "'ap simulate --size 4096' (template + 2 visits): wall, CPU time, peak memory",
  characterize: 'characterization of a 4096 x 4096 visit: time and memory per stage',
  warp: 'Lanczos-3 warp of a 4096 x 4096 template onto a distorted science grid',
  realworld:
    "ap simulate's real-world effects (vignetting, diffuse light, WCS errors, no WCS, units, no GAIN/SATURATE): false positives, completeness, noise, registration",
  diffim:
    "'ap diff' on the default and the crowded 4096 x 4096 pair (AP_BENCH_DIFFIM_SIZE): time per stage, CPU use, peak memory; recorded",
  detect: 'detection and measurement of 1,000 sources on a 4096 x 4096 difference, 1 and 2 threads',
  rb: 'real/bogus inference throughput per TF.js backend, training step time, the model figures',
  'independent-noise':
    "the independent held-out pairs' difference noise against VARIANCE: per-pixel std, sky-source ratio, autocorrelation, per input-variance estimator (not run by rb)",
  alerts: 'alert size with cutouts, Avro throughput, association against 1,000,000 DIAObjects',
  pipeline:
    'the per-detector pipeline on a 4096 x 4096 detector (AP_BENCH_PIPELINE_SIZE): time per stage',
  apdb: 'APDB storeVisit on the Firestore emulator, 5 visits of ~700 DiaObjects in turn: wall and CPU per visit',
  emulators: 'emulator throughput through the official clients: Pub/Sub, Storage, Firestore',
  journal:
    "what the emulators' --data journal costs: Pub/Sub messages/s and Firestore documents/s, in memory, journal, journal + fsync",
  e2e: 'one 4096 x 4096 detector on the emulators (default, then crowded field), raw finalize to the last alert at a broker; CPU seconds per detector; recorded',
  filter:
    '100 filters over a 10,000-alert visit, a 100,000-entry watchlist, the safety fuzz per expression',
  templates:
    'template quality per rejection method, and ap template on 12 inputs of 4096 x 4096: wall time, peak memory',
  solar: 'known-object preload: 100,000 main-belt orbits predicted for one visit (target <= 2 s)',
  'cold-start':
    'process start to the first event handled, compiled build and tsx sources (npm run build first)',
  faults:
    'fault campaign: 528 malformed raw images and events of 44 kinds through processImage on the emulators (dead letters with reason, hangs, crashes), then its parts fault-mix and fault-kills',
  'fault-mix':
    'good images alone, then interleaved with the 528 malformed inputs through the whole local system: readout -> broker p50/p90 of the good ones, per kind the time to the dead letter',
  'fault-kills':
    'SIGKILL of the emulator process at each stage, Firestore cut 8 s and 90 s, function instances (processImage, alertFanout, nextVisit) killed at each stage (AP_FAULT_KILLS=TEXT: only the rows naming it): alerts lost, duplicates, ids with two payloads, records',
  'fault-kills-filter':
    'filterAlerts in an instance of its own, killed after publishing a match before its ack: per filter, matches lost, duplicates, altered messages against a run without the kill (not run by faults)',
  'fault-kills-more':
    "templateBuilder killed at each stage of a tile's first build, from no template (tile frozen once, one TMPLID, template object == version object, no lease left, alerts lost), and Firestore cut beyond processImage's whole delivery budget, its dead letters then replayed (not run by faults)",
};

const args = process.argv.slice(2);
/** `compare`: areas that record their figures (bench/records.ts) print the change against the last run. */
const compare = args.includes('compare');
const requested = args.filter((a) => a !== 'compare');
if (requested.includes('--help') || requested.includes('-h')) {
  const width = Math.max(...NAMES.map((a) => a.length));
  process.stdout.write(
    `usage: npm run bench [-- AREA ...] [compare]\n\nRuns the benchmarks of each AREA (all of them, in pipeline order, with none) and prints their figures.\ndiffim and e2e append theirs, with the commit, to bench/records/AREA.jsonl; with 'compare' they also\nprint the change against the last recorded run.\n\nareas (and parts of one, run alone by name):\n${NAMES.map((a) => `  ${a.padEnd(width)}  ${SUMMARIES[a]}`).join('\n')}\n`,
  );
  process.exit(0);
}
const unknown = requested.filter((a) => !(NAMES as readonly string[]).includes(a));
if (unknown.length) {
  process.stderr.write(
    `bench: unknown area(s) ${unknown.join(', ')}; choose from ${NAMES.join(', ')}\n`,
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
  const module = (await import(`./${area}.js`)) as {
    run: (options: { compare: boolean }) => Promise<void>;
  };
  await module.run({ compare });
  console.log(`(${area}: ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
