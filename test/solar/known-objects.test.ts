import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import type { DiaSource } from '../../shared/apdb/types.js';
import {
  associateKnownObjects,
  type KnownObjectsInField,
} from '../../shared/association/known-objects.js';
import { writeAlertContainer } from '../../shared/alerts/container.js';
import { processDetector, pipelineConfig } from '../../shared/pipeline/index.js';
import { OrbitCatalog } from '../../shared/solar/catalog.js';
import {
  DEFAULT_ERROR_MODEL,
  predictionSigmaArcsec,
  runoffArcsec,
  type Prediction,
} from '../../shared/solar/ephemeris.js';
import { elementsFromState, prepareOrbit, stateAt } from '../../shared/solar/kepler.js';
import {
  formatOrbitsCsv,
  OrbitFileError,
  parseOrbitsCsv,
  ssObjectIdOf,
  type MpcOrbit,
} from '../../shared/solar/orbit.js';
import { siteFromHeader } from '../../shared/solar/site.js';
import { runPython, skipWithout } from '../helpers/python.js';
import { nightFiles } from '../pipeline/night.js';

const orbitA: MpcOrbit = {
  designation: '2026 AB1',
  epoch_mjd: 61000,
  a: 2.7,
  q: 2.4,
  e: 1 / 9,
  i: 12,
  node: 40,
  argperi: 60,
  mean_anomaly: 300,
  peri_time: Number.NaN,
  h: 16,
  g: 0.15,
};

test('elementsFromState inverts stateAt (elliptic): the same orbit back to 1e-10', () => {
  const o = prepareOrbit(orbitA);
  const s = new Float64Array(6);
  stateAt(o, 61010, s, new Float64Array(4));
  const back = elementsFromState('x', s, 61010, 16, 0.15);
  const again = new Float64Array(6);
  stateAt(prepareOrbit(back), 61010, again, new Float64Array(4));
  for (let k = 0; k < 6; k++)
    assert.ok(Math.abs(again[k] - s[k]) < 1e-10, `component ${k}: ${again[k]} vs ${s[k]}`);
  assert.ok(
    Math.abs(back.a - 2.7) < 1e-9 &&
      Math.abs(back.i - 12) < 1e-9 &&
      Math.abs(back.node - 40) < 1e-9,
  );
});

test('orbit CSV: round trip, and one line naming the file and the cause on bad rows', () => {
  const text = formatOrbitsCsv([orbitA]);
  assert.deepEqual(parseOrbitsCsv(text, 'o.csv')[0].designation, '2026 AB1');
  assert.throws(
    () => parseOrbitsCsv('designation,q\nX,1\n', 'bad.csv'),
    (e: Error) =>
      e instanceof OrbitFileError &&
      /^bad\.csv: orbit file lacks column\(s\) epoch_mjd/.test(e.message),
  );
  assert.throws(
    () => parseOrbitsCsv(text.replace(',2.4,', ',-1,'), 'neg.csv'),
    /neg\.csv: line 2: q must be > 0/,
  );
  assert.throws(
    () => parseOrbitsCsv(text + text.split('\n')[1] + '\n', 'dup.csv'),
    /dup\.csv: line 3: designation 2026 AB1 appears twice/,
  );
});

test('site from OBSGEO-X/Y/Z equals the same site from OBSGEO-B/L/H; impossible cards are refused', () => {
  const bl = siteFromHeader(
    new Map<string, unknown>([
      ['OBSGEO-B', -30.2446],
      ['OBSGEO-L', -70.7494],
      ['OBSGEO-H', 2663],
    ]),
  );
  // Rubin's geocentric position (WGS84) for those geodetic coordinates.
  const xyz = siteFromHeader(
    new Map<string, unknown>([
      ['OBSGEO-X', 1818938.94],
      ['OBSGEO-Y', -5208470.95],
      ['OBSGEO-Z', -3195172.08],
    ]),
  );
  assert.equal(xyz.source, 'OBSGEO-X/Y/Z');
  assert.ok(
    Math.abs(xyz.latitudeDeg - bl.latitudeDeg) < 1e-4 &&
      Math.abs(xyz.longitudeDeg - bl.longitudeDeg) < 1e-4 &&
      Math.abs(xyz.heightM - bl.heightM) < 20,
    JSON.stringify(xyz),
  );
  assert.throws(
    () =>
      siteFromHeader(
        new Map<string, unknown>([
          ['OBSGEO-X', 1],
          ['OBSGEO-Y', 2],
          ['OBSGEO-Z', 3],
        ]),
      ),
    /not on the Earth's surface/,
  );
});

test('known-object matching: one source per object, within its own radius, the nearer pair first; unmatched sources untouched', () => {
  const prediction = (index: number, ra: number, sigmaArcsec: number): Prediction =>
    ({
      index,
      ra,
      dec: 0,
      raRate: 0.2,
      decRate: 0,
      sigmaArcsec,
      helio: new Float64Array(6),
      topo: new Float64Array(6),
      topoRange: 1.5,
      helioRange: 2.5,
      topoRangeRate: 0,
      helioRangeRate: 0,
      phaseAngle: 10,
      elongation: 160,
      vMag: 20,
    }) as Prediction;
  const source = (id: number, ra: number): DiaSource =>
    ({ diaSourceId: id, ra, dec: 0, ssObjectId: null, diaObjectId: null }) as unknown as DiaSource;
  const known: KnownObjectsInField = {
    predictions: [prediction(0, 10, 0.1), prediction(1, 10.01, 4)],
    orbitOf: () => orbitA,
    ssObjectIdOf: (k) => 100 + k,
  };
  // Source 1 is 0.5" from object 0 (radius 1"), source 2 is 1.5" from object 0 but 35" from object 1 (radius 20").
  const sources = [
    source(1, 10 + 0.5 / 3600),
    source(2, 10 - 1.5 / 3600),
    source(3, 10.01 + 10 / 3600),
  ];
  const matches = associateKnownObjects(sources, known);
  assert.deepEqual(
    sources.map((s) => s.ssObjectId),
    [100, null, 101],
  );
  assert.equal(matches.size, 2);
  assert.ok(Math.abs((matches.get(1)?.ssSource.ephOffset as number) - 0.5) < 1e-6);
  assert.equal(matches.get(3)?.ssSource.designation, '2026 AB1');
});

test('the pipeline on a simulated night: every detected asteroid above SNR 6 gets its ssObjectId, no source a wrong one, ssSource within 0.5 arcsec, mpc_orbits, no DIAObject, trails fitted; python3-avro reads them by Rubin field names', async (t) => {
  const files = nightFiles({ size: 512, seed: 21, visits: 2, movingPerMegapixel: 16 });
  const orbits = files.night.field.moving.map((m) => m.orbit);
  const catalog = new OrbitCatalog(orbits);
  const apdb = new EmbeddedApdb();
  const dir = mkdtempSync(join(tmpdir(), 'ap-solar-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let expected = 0;
  let found = 0;
  for (let v = 0; v < 2; v++) {
    const sci = files.visit(v);
    const r = await processDetector(
      {
        science: sci.exposure,
        scienceHeader: sci.header,
        template: files.template().exposure,
        apdb,
        knownObjects: catalog,
      },
      pipelineConfig({}),
    );
    await apdb.storeVisit(r.association.batch);
    const visit = r.stats.visit;
    const sep = (a: { ra: number; dec: number }, b: { ra: number; dec: number }): number =>
      Math.hypot((a.ra - b.ra) * Math.cos((b.dec * Math.PI) / 180), a.dec - b.dec) * 3600;
    for (const row of files.night.truth.filter(
      (x) => x.kind === 'moving' && x.visit === visit && Math.abs(x.expectedSnr) >= 6,
    )) {
      // Association completeness: every asteroid detected (a DIASource within 0.5" of its true place) carries its ssObjectId.
      const detected = r.alerts.find((a) => sep(a.diaSource, row) < 0.5);
      if (!detected) continue;
      expected++;
      if (detected.diaSource.ssObjectId === ssObjectIdOf(orbits[row.id].designation)) found++;
    }
    // Purity: every source given an ssObjectId lies within 0.5" of that object's true place.
    for (const a of r.alerts.filter((x) => x.diaSource.ssObjectId !== null)) {
      const k = orbits.findIndex((o) => ssObjectIdOf(o.designation) === a.diaSource.ssObjectId);
      const truth = files.night.truth.find(
        (x) => x.kind === 'moving' && x.visit === visit && x.id === k,
      );
      assert.ok(
        truth && sep(a.diaSource, truth) < 0.5,
        `source ${a.diaSourceId} given ${orbits[k]?.designation}`,
      );
    }
    for (const a of r.alerts) {
      if (a.diaSource.ssObjectId === null) continue;
      assert.equal(a.diaSource.diaObjectId, null);
      assert.equal(a.diaObject, null);
      assert.ok(
        (a.ssSource?.ephOffset as number) < 0.5,
        `offset ${String(a.ssSource?.ephOffset)} arcsec`,
      );
      assert.equal(a.mpc_orbits?.designation, a.ssSource?.designation);
      // Trail fit started from the prediction: finite flux, and the length near the motion over the exposure.
      const d = a.diaSource;
      const predicted = (Number(a.ssSource?.ephRate) * sci.exposure.info.exposureTime) / 24;
      assert.ok(
        Number(d.trailNdata) > 0 && Number.isFinite(d.trailFlux),
        `trail of ${a.diaSourceId}`,
      );
      const lengthErr = Number.isFinite(d.trailLengthErr) ? Number(d.trailLengthErr) : 1;
      assert.ok(
        Math.abs(Number(d.trailLength) - predicted) < 4 * lengthErr + 0.5,
        `trailLength ${String(d.trailLength)} +- ${lengthErr} vs ${predicted} arcsec`,
      );
    }
    assert.ok(
      !r.association.batch.diaObjects.some((o) =>
        r.association.batch.diaSources.some(
          (s) => s.ssObjectId !== null && s.diaObjectId === o.diaObjectId,
        ),
      ),
    );
    if (v === 1 && !skipWithout('avro')) {
      const file = join(dir, 'alerts.avro');
      await writeAlertContainer(file, r.alerts);
      const out = runPython(
        'avro',
        [
          'import sys,avro.datafile,avro.io',
          "r=avro.datafile.DataFileReader(open(sys.argv[1],'rb'),avro.io.DatumReader())",
          'for a in r:',
          "  s,o,d=a['ssSource'],a['mpc_orbits'],a['diaSource']",
          '  if s is None: continue',
          "  print(s['designation'],s['ssObjectId']==d['ssObjectId'],o['designation']==s['designation'],a['diaObject'] is None,'%.4f'%s['ephOffset'],'%.3f'%s['topoRange'],'%.3f'%d['trailLength'],d['trailNdata']>0)",
        ].join('\n'),
        [file],
      );
      // Avro floats are single precision: round the same value.
      const f32 = (v: unknown, digits: number): string => Math.fround(Number(v)).toFixed(digits);
      // Read by Rubin's field names, as a broker would: ssSource, mpc_orbits, diaSource's trail fields.
      const lines = r.alerts
        .filter((a) => a.ssSource)
        .map(
          (a) =>
            `${String(a.ssSource?.designation)} True True True ${f32(a.ssSource?.ephOffset, 4)} ${f32(a.ssSource?.topoRange, 3)} ${f32(a.diaSource.trailLength, 3)} True`,
        );
      assert.ok(lines.length > 0);
      assert.deepEqual(out.trim().split('\n').sort(), lines.sort());
    }
  }
  assert.ok(expected >= 4, `only ${expected} asteroids above SNR 6 detected`);
  assert.equal(found, expected, `${found} of ${expected} asteroids above SNR 6 associated`);
});

test('ap process --orbits with a bad orbit file: exit 2 and one line naming the file and the cause', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-orbits-'));
  try {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'designation,q\nX,1\n');
    const ap = join(import.meta.dirname, '../../bin/ap.js');
    const r = spawnSync(
      process.execPath,
      [
        ap,
        'process',
        '--science',
        join(dir, 's.fits'),
        '--template',
        join(dir, 't.fits'),
        '--out',
        join(dir, 'out'),
        '--orbits',
        bad,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: orbit file lacks column\\(s\\) epoch_mjd`,
      ),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("MPC's U parameter (0-9, D/E/F) widens a prediction's sigma by U's runoff bound; none given, none added; bad values refused", () => {
  const text = formatOrbitsCsv([orbitA]).replace(/,\n/, ',x\n');
  const withU = (u: string): MpcOrbit =>
    parseOrbitsCsv(text.replace(/,x\n/, `,${u}\n`), 'u.csv')[0];
  assert.equal(withU('3').u_param, 3);
  assert.equal(withU('E').u_param, 9);
  assert.ok(Number.isNaN(withU('').u_param));
  assert.throws(() => withU('12'), /u\.csv: line 2: u_param must be 0-9 or D, E, F/);
  // MPC: U 3 means a runoff below 86.5"/decade: exp(3 ln(648000) / 9) = 86.5.
  assert.ok(Math.abs(runoffArcsec(3, 0) * (3652.5 / 365.25) - 86.5) < 0.1);
  assert.equal(runoffArcsec(undefined, 100), 0);
  const model = DEFAULT_ERROR_MODEL;
  const exact = predictionSigmaArcsec(2.5, 1.5, 30, model);
  assert.equal(predictionSigmaArcsec(2.5, 1.5, 30, model, Number.NaN), exact);
  const u5 = predictionSigmaArcsec(2.5, 1.5, 30, model, 5);
  const expected = (runoffArcsec(5, 30) * 2.5) / 1.5;
  assert.ok(Math.abs(u5 - Math.hypot(exact, expected)) < 1e-9 && u5 > 100, `sigma ${u5}`);
});
