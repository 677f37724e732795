/**
 * Filtering benchmarks (issue 21): 100 filters of mixed kinds over a 10,000-alert visit on one
 * thread (target <= 2 s, Avro decoding included), a 100,000-entry watchlist's match rate (target
 * >= 20,000 alerts/s), and the time of each of the safety fuzz's 10,000 expressions (target
 * < 50 ms each). Alerts are the association scene's (with history), cloned over a 3.5-degree field
 * with new ids, positions, bands and fluxes, and framed with three cutouts of a 30-pixel stamp's
 * size (CUTOUT_BYTES) as on the `alerts` topic. Decoding is the service's: each frame once,
 * projected to the fields the 100 filters read (shared/filter/projection.ts); a full decode is
 * timed beside it for comparison.
 */
import { performance } from 'node:perf_hooks';
import type { Alert } from '../shared/alerts/types.js';
import { decodeAlert, encodeAlert } from '../shared/alerts/wire.js';
import { compileFilter, type FilterContext } from '../shared/filter/index.js';
import { FilterSet } from '../shared/filter/filter-set.js';
import { healpixNest } from '../shared/healpix/index.js';
import { parseMoc } from '../shared/filter/moc.js';
import { Watchlist, type WatchlistEntry } from '../shared/filter/watchlist.js';
import { runScene } from '../test/alerts/scene.js';
import { fuzz, fuzzExpressions, fuzzSetup, seeded } from '../test/filter/fuzz.js';

const VISIT_ALERTS = 10_000;
const FILTERS = 100;
const WATCHLIST_ENTRIES = 100_000;
const FIELD = { ra: 150, dec: 2, radiusDeg: 1.75 };
/** One cutout: a 30 x 30 float32 stamp with its variance, mask and PSF HDUs, ~3 FITS blocks. */
const CUTOUT_BYTES = 3 * 2880;

function print(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(60)} ${value}\n`);
}

/** A visit of `n` alerts cloned from the scene's, spread over the field. */
async function visitAlerts(n: number): Promise<Alert[]> {
  const { visits } = await runScene(12, undefined, false);
  const models = visits.slice(-4).flatMap((v) => v.alerts);
  const rng = seeded(5);
  return Array.from({ length: n }, (_, k) => {
    const m = models[k % models.length];
    const ra = FIELD.ra + (rng() - 0.5) * 2 * FIELD.radiusDeg;
    const dec = FIELD.dec + (rng() - 0.5) * 2 * FIELD.radiusDeg;
    const scale = 0.2 + 5 * rng();
    const diaSource = {
      ...m.diaSource,
      diaSourceId: 1e9 + k,
      ra,
      dec,
      band: 'ugrizy'[k % 6],
      psfFlux: (m.diaSource.psfFlux ?? 0) * scale,
      snr: (m.diaSource.snr ?? 0) * scale,
      reliability: rng(),
    };
    const cutout = Buffer.alloc(CUTOUT_BYTES, k % 251);
    return {
      ...m,
      diaSourceId: 1e9 + k,
      diaSource,
      cutoutDifference: cutout,
      cutoutScience: cutout,
      cutoutTemplate: cutout,
    };
  });
}

function randomWatchlist(n: number, rng: () => number, inField: number): WatchlistEntry[] {
  return Array.from({ length: n }, (_, k) => {
    const near = k < inField;
    return {
      ra: near ? FIELD.ra + (rng() - 0.5) * 2 * FIELD.radiusDeg : rng() * 360,
      dec: near
        ? FIELD.dec + (rng() - 0.5) * 2 * FIELD.radiusDeg
        : Math.asin(2 * rng() - 1) * (180 / Math.PI),
      radiusArcsec: 1 + 9 * rng(),
      name: `w${k}`,
    };
  });
}

/** 100 filters: thresholds, IN, BETWEEN, magnitudes, cones, watchlists, watchmaps, history aggregates. */
function mixedFilters(rng: () => number): string[] {
  const kinds = [
    (i: number) =>
      `diaSource.snr > ${5 + (i % 20)} AND diaSource.reliability >= ${(0.5 + (i % 5) / 10).toFixed(1)}`,
    (i: number) =>
      `diaSource.band IN ('${'ugrizy'[i % 6]}', '${'ugrizy'[(i + 2) % 6]}') AND NOT diaSource.isDipole`,
    (i: number) => `mag(diaSource.psfFlux) BETWEEN ${18 + (i % 4)} AND ${22 + (i % 3)}`,
    (i: number) =>
      `cone(${(FIELD.ra - 1 + 2 * rng()).toFixed(4)}, ${(FIELD.dec - 1 + 2 * rng()).toFixed(4)}, ${60 + i * 10})`,
    (i: number) => `watchlist('list${i % 3}') AND diaSource.snr > 5`,
    (i: number) => `watchmap('map${i % 2}') OR abs(diaSource.snr) > 50`,
    (i: number) =>
      `count(prvDiaSources) >= ${2 + (i % 3)} AND max(prvDiaSources.snr) - min(prvDiaSources.snr) > ${3 + (i % 5)}`,
    (i: number) =>
      `mean(prvDiaSources.psfFlux) > 0 AND diaObject.nDiaSources > ${i % 4} AND diaSource.psfFlux / diaSource.psfFluxErr > 6`,
    (i: number) =>
      `diaObject.r_psfFluxMean IS NOT NULL AND diaSource.snr NOT BETWEEN -5 AND ${5 + (i % 10)}`,
    (i: number) =>
      `(diaSource.snr > ${10 + i} OR diaSource.snr < -${10 + i}) AND diaSource.reliability > 0.9`,
  ];
  return Array.from({ length: FILTERS }, (_, i) => kinds[i % kinds.length](i));
}

async function hundredFilters(): Promise<void> {
  const rng = seeded(11);
  const alerts = await visitAlerts(VISIT_ALERTS);
  const frames = alerts.map((a) => encodeAlert(a));
  const moc = (step: number) =>
    parseMoc(
      `9/${[...new Set(alerts.filter((_, k) => k % step === 0).map((a) => healpixNest(a.diaSource.ra, a.diaSource.dec, 9)))].join(' ')}`,
    );
  const context: FilterContext = {
    watchlists: new Map(
      [0, 1, 2].map((i) => [`list${i}`, new Watchlist(randomWatchlist(10_000, rng, 2000))]),
    ),
    watchmaps: new Map([0, 1].map((i) => [`map${i}`, moc(50 + i * 30)])),
  };
  const texts = mixedFilters(rng);
  const compileStart = performance.now();
  const set = new FilterSet();
  texts.forEach((t, i) => set.set(`f${i}`, compileFilter(t, context)));
  const compileMs = performance.now() - compileStart;
  const cpuSeconds = (since: NodeJS.CpuUsage) => {
    const cpu = process.cpuUsage(since);
    return (cpu.user + cpu.system) / 1e6;
  };
  for (let pass = 0; pass < 2; pass++) {
    const label = pass === 0 ? 'first pass (cold)' : 'second pass';
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const decoded = frames.map((f) => set.decode(f));
    const decodeWall = performance.now() - start;
    const decodeCpu = cpuSeconds(cpu0);
    const cpu1 = process.cpuUsage();
    const filterStart = performance.now();
    let matches = 0;
    for (const alert of decoded) matches += set.match(alert).length;
    const filterWall = performance.now() - filterStart;
    const filterCpu = cpuSeconds(cpu1);
    print(
      `${FILTERS} filters x ${VISIT_ALERTS} alerts, ${label} (target <= 2 s)`,
      `${((decodeWall + filterWall) / 1000).toFixed(2)} s wall, ${(decodeCpu + filterCpu).toFixed(2)} CPU-s: Avro decode (projected) ${(decodeWall / 1000).toFixed(2)} s wall / ${decodeCpu.toFixed(2)} CPU-s, filters ${(filterWall / 1000).toFixed(2)} s wall / ${filterCpu.toFixed(2)} CPU-s; ${matches} matches`,
    );
  }
  const fullCpu = process.cpuUsage();
  const fullStart = performance.now();
  const full = frames.map((f) => decodeAlert(f));
  const fullWall = performance.now() - fullStart;
  const fullCpuSeconds = cpuSeconds(fullCpu);
  const same = full.every(
    (a, k) => set.match(a).join() === set.match(set.decode(frames[k])).join(),
  );
  print(
    `for comparison: full Avro decode of the ${VISIT_ALERTS} alerts`,
    `${(fullWall / 1000).toFixed(2)} s wall / ${fullCpuSeconds.toFixed(2)} CPU-s; matches ${same ? 'identical to' : 'DIFFER from'} the projected decode's`,
  );
  print(`compiling the ${FILTERS} filters`, `${compileMs.toFixed(1)} ms`);
}

async function bigWatchlist(): Promise<void> {
  const rng = seeded(13);
  const alerts = await visitAlerts(VISIT_ALERTS);
  const entries = randomWatchlist(WATCHLIST_ENTRIES, rng, 20_000);
  const built = performance.now();
  const list = new Watchlist(entries);
  print(
    `building a ${WATCHLIST_ENTRIES}-entry watchlist index`,
    `${((performance.now() - built) / 1000).toFixed(2)} s`,
  );
  const filter = compileFilter("watchlist('big')", { watchlists: new Map([['big', list]]) });
  let n = 0;
  let hits = 0;
  const start = performance.now();
  while (performance.now() - start < 2000)
    hits += filter.matches(alerts[n++ % alerts.length]) ? 1 : 0;
  const rate = n / ((performance.now() - start) / 1000);
  print(
    `${WATCHLIST_ENTRIES}-entry watchlist match rate (target >= 20,000/s)`,
    `${rate.toFixed(0)} alerts/s (${((100 * hits) / n).toFixed(1)} % matched)`,
  );
}

async function fuzzTimes(): Promise<void> {
  const { alerts, context } = await fuzzSetup();
  const outcome = fuzz(fuzzExpressions(10_000), alerts, context);
  print(
    'safety fuzz, 10,000 expressions over 20 alerts (target < 50 ms each)',
    `wall p99 ${outcome.p99Ms.toFixed(2)} ms, slowest ${outcome.slowestMs.toFixed(1)} ms; CPU p99 ${outcome.p99CpuMs.toFixed(2)} ms, slowest ${outcome.slowestCpuMs.toFixed(1)} ms; ${outcome.compiled} compiled, ${outcome.rejected} rejected`,
  );
}

export async function run(): Promise<void> {
  await hundredFilters();
  await bigWatchlist();
  await fuzzTimes();
}
