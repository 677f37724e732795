/**
 * Alert benchmarks: alert size with cutouts (Rubin's budget ~82 KB), Avro serialisation
 * throughput on one core (target >= 5,000 alerts/s), and association of 10,000 DiaSources
 * against 1,000,000 DiaObjects in the embedded APDB.
 */
import { performance } from 'node:perf_hooks';
import { EmbeddedApdb } from '../shared/apdb/embedded.js';
import type { DiaObject } from '../shared/apdb/types.js';
import { associateVisit } from '../shared/association/associate.js';
import { matchNearest } from '../shared/association/match.js';
import { encodeAlert, decodeAlert } from '../shared/alerts/wire.js';
import { alertAttributes } from '../shared/alerts/attributes.js';
import type { DiaSourceRecord } from '../shared/detect/types.js';
import { emptyVisitInfo } from '../shared/image/visit-info.js';
import { rng, syntheticDiaSource } from '../test/association/sky.js';
import { runScene } from '../test/alerts/scene.js';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function print(name: string, value: string): void {
  process.stdout.write(`${name.padEnd(52)} ${value}\n`);
}

async function alertSizeAndThroughput(): Promise<void> {
  const { visits } = await runScene(30);
  const alerts = visits.slice(-10).flatMap((v) => v.alerts);
  const frames = alerts.map((a) => encodeAlert(a));
  const sizes = frames.map((f) => f.length);
  const cutoutBytes = alerts.map(
    (a) =>
      (a.cutoutDifference?.length ?? 0) +
      (a.cutoutScience?.length ?? 0) +
      (a.cutoutTemplate?.length ?? 0),
  );
  print('alerts measured (visits 21-30 of a 30-visit run)', String(alerts.length));
  print(
    'median prvDiaSources per alert',
    String(median(alerts.map((a) => a.prvDiaSources?.length ?? 0))),
  );
  print(
    'median alert size with cutouts (budget ~82 KB)',
    `${(median(sizes) / 1000).toFixed(1)} KB`,
  );
  print('  of which the three FITS cutouts', `${(median(cutoutBytes) / 1000).toFixed(1)} KB`);
  print(
    'median alert size without cutouts',
    `${(median(sizes.map((s, k) => s - cutoutBytes[k])) / 1000).toFixed(1)} KB`,
  );

  // Rates per second of this process's CPU time (one thread), and per wall second on this machine.
  const rates = (work: (k: number) => void): string => {
    let n = 0;
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    while (performance.now() - start < 2000) work(n++);
    const cpu = process.cpuUsage(cpu0);
    const perCpu = n / ((cpu.user + cpu.system) / 1e6);
    const perWall = n / ((performance.now() - start) / 1000);
    return `${perCpu.toFixed(0)} alerts/CPU-s (${perWall.toFixed(0)} per wall s)`;
  };
  print(
    'serialisation, Avro + Confluent frame (target 5,000/s)',
    rates((k) => encodeAlert(alerts[k % alerts.length])),
  );
  print(
    'serialisation + Pub/Sub attributes',
    rates((k) => {
      const a = alerts[k % alerts.length];
      encodeAlert(a);
      alertAttributes(a);
    }),
  );
  print(
    'deserialisation',
    rates((k) => decodeAlert(frames[k % frames.length])),
  );
}

async function associationAtScale(): Promise<void> {
  const timed = async <T>(
    work: () => T | Promise<T>,
  ): Promise<{ value: T; wall: number; cpu: number }> => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const value = await work();
    const cpu = process.cpuUsage(cpu0);
    return { value, wall: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6 };
  };
  const secs = (r: { wall: number; cpu: number }): string =>
    `${r.cpu.toFixed(2)} CPU-s (${r.wall.toFixed(2)} wall s)`;
  const random = rng(99);
  const ra0 = 150;
  const dec0 = 0;
  const fieldDeg = 3.2; // ~10 deg^2, an LSST focal plane
  const objects: DiaObject[] = [];
  for (let k = 0; k < 1_000_000; k++) {
    objects.push({
      diaObjectId: k + 1,
      ra: ra0 + (random() - 0.5) * fieldDeg,
      dec: dec0 + (random() - 0.5) * fieldDeg,
      nDiaSources: 3,
      firstDiaSourceMjdTai: 59990,
      lastDiaSourceMjdTai: 59999,
      validityStartMjdTai: 59999,
    } as unknown as DiaObject);
  }
  const apdb = new EmbeddedApdb();
  print(
    'APDB bulk load of 1,000,000 DiaObjects',
    secs(await timed(() => apdb.load({ diaObjects: objects, diaSources: [], forcedSources: [] }))),
  );

  // One detector's worth of sources: half fall on existing objects (0.1" noise), half are new.
  const radius = 0.16;
  const near = await apdb.getDiaObjectsInRegion({ ra: ra0, dec: dec0, radiusDeg: radius });
  const records: DiaSourceRecord[] = [];
  for (let k = 0; k < 10_000; k++) {
    const o = k % 2 === 0 && k / 2 < near.length ? near[k / 2] : null;
    const ra = o ? o.ra + (0.1 / 3600) * (random() - 0.5) : ra0 + (random() - 0.5) * radius;
    const dec = o ? o.dec + (0.1 / 3600) * (random() - 0.5) : dec0 + (random() - 0.5) * radius;
    records.push(syntheticDiaSource(k, ra, dec, 500 + 1000 * random(), 50, random));
  }
  const visit = {
    ...emptyVisitInfo(),
    visit: 5000,
    detector: 1,
    band: 'r',
    mjd: 60000,
    zeroPoint: 28,
  };
  const footprint = { cone: { ra: ra0, dec: dec0, radiusDeg: radius }, contains: () => true };
  const assoc = await timed(() =>
    associateVisit(apdb, { visit, records, footprint, timeProcessedMjdTai: 60000.01 }),
  );
  const matched = assoc.value.batch.diaSources.filter(
    (s) => s.diaObjectId !== s.diaSourceId,
  ).length;
  print('DiaObjects in the detector footprint', String(near.length));
  print(
    'associateVisit, 10,000 DiaSources vs 1,000,000 DiaObjects',
    `${secs(assoc)}; ${matched} matched, ${10_000 - matched} new`,
  );

  const sources = records.map((r) => ({ id: r.index, ra: r.ra, dec: r.dec }));
  const all = objects.map((o) => ({ id: o.diaObjectId, ra: o.ra, dec: o.dec }));
  print(
    'matchNearest alone, grid over all 1,000,000 DiaObjects',
    secs(await timed(() => matchNearest(sources, all, 1))),
  );
}

export async function run(): Promise<void> {
  await alertSizeAndThroughput();
  await associationAtScale();
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
