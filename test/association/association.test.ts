import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import { BANDS, type DiaObject, type DiaSource } from '../../shared/apdb/types.js';
import { associateVisit, type DetectorFootprint } from '../../shared/association/associate.js';
import { matchNearest } from '../../shared/association/match.js';
import { makeSky, observe, DEC0, RA0 } from './sky.js';

const everywhere: DetectorFootprint = {
  cone: { ra: RA0, dec: DEC0, radiusDeg: 0.1 },
  contains: () => true,
};

async function runSequence(
  nVisits: number,
): Promise<{ apdb: EmbeddedApdb; truthOf: Map<number, number> }> {
  const sky = makeSky(11);
  const visits = observe(sky, nVisits, 12);
  const apdb = new EmbeddedApdb();
  const truthOf = new Map<number, number>();
  for (const v of visits) {
    const result = await associateVisit(apdb, {
      visit: v.info,
      records: v.records,
      footprint: everywhere,
      timeProcessedMjdTai: v.info.mjd + 0.01,
    });
    assert.equal(await apdb.storeVisit(result.batch), true);
    result.batch.diaSources.forEach((s, k) => truthOf.set(s.diaSourceId, v.truth[k]));
  }
  return { apdb, truthOf };
}

test('30 visits: every variable and transient ends as exactly one DiaObject, close pairs never merge', async () => {
  const { apdb, truthOf } = await runSequence(30);
  const objects = await apdb.getDiaObjectsInRegion(everywhere.cone);
  const sources = await apdb.getDiaSourcesForObjects(
    objects.map((o) => o.diaObjectId),
    0,
  );
  assert.equal(sources.length, truthOf.size);
  const objectsOfTruth = new Map<number, Set<number>>();
  const truthsOfObject = new Map<number, Set<number>>();
  for (const s of sources) {
    const truth = truthOf.get(s.diaSourceId) as number;
    const id = s.diaObjectId as number;
    objectsOfTruth.set(truth, (objectsOfTruth.get(truth) ?? new Set()).add(id));
    truthsOfObject.set(id, (truthsOfObject.get(id) ?? new Set()).add(truth));
  }
  const splits = [...objectsOfTruth.values()].filter((ids) => ids.size !== 1).length;
  const merges = [...truthsOfObject.values()].filter((ids) => ids.size !== 1).length;
  assert.equal(splits, 0, 'no true source split over DiaObjects');
  assert.equal(merges, 0, 'no DiaObject holds two true sources');
  assert.equal(objects.length, objectsOfTruth.size);
  for (const o of objects) {
    const mine = sources.filter((s) => s.diaObjectId === o.diaObjectId);
    assert.equal(o.nDiaSources, mine.length);
  }
});

test('DiaObject features equal a direct reference computation to 1e-9 relative', async () => {
  const { apdb } = await runSequence(30);
  const objects = await apdb.getDiaObjectsInRegion(everywhere.cone);
  let checked = 0;
  for (const o of objects) {
    const sources = await apdb.getDiaSourcesForObjects([o.diaObjectId], 0);
    for (const band of BANDS) {
      const inBand = sources.filter((s) => s.band === band);
      const ref = reference(inBand);
      for (const [name, want] of Object.entries(ref)) {
        const got = o[`${band}_${name}` as keyof DiaObject] as number | null;
        if (want === null) {
          assert.equal(got, null, `${band}_${name} of ${o.diaObjectId}`);
          continue;
        }
        assert.ok(got !== null, `${band}_${name} of ${o.diaObjectId} is null, want ${want}`);
        const tol =
          1e-9 * Math.max(Math.abs(want), 1e-300) +
          (name.includes('Intercept') ||
          name.includes('Slope') ||
          name === 'psfFluxSkew' ||
          name === 'psfFluxStetsonJ'
            ? 1e-9
            : 0);
        assert.ok(Math.abs(got - want) <= tol, `${band}_${name}: ${got} vs reference ${want}`);
        checked++;
      }
    }
    assert.equal(o.firstDiaSourceMjdTai, Math.min(...sources.map((s) => s.midpointMjdTai)));
    assert.equal(o.lastDiaSourceMjdTai, Math.max(...sources.map((s) => s.midpointMjdTai)));
  }
  assert.ok(checked > 1000, `checked ${checked} feature values`);
});

/** Textbook formulas, written independently of shared/association/features.ts. */
function reference(sources: DiaSource[]): Record<string, number | null> {
  const f = sources.map((s) => s.psfFlux as number);
  const e = sources.map((s) => s.psfFluxErr as number);
  const t = sources.map((s) => s.midpointMjdTai);
  const n = f.length;
  if (n === 0) return { psfFluxNdata: 0, psfFluxMean: null, psfFluxSigma: null, psfFluxMin: null };
  const w = e.map((x) => x ** -2);
  const W = sum(w);
  const mean = sum(f.map((x, k) => x * w[k])) / W;
  const plain = sum(f) / n;
  const sd = n > 1 ? Math.sqrt(sum(f.map((x) => (x - plain) ** 2)) / (n - 1)) : null;
  const sorted = [...f].sort((a, b) => a - b);
  const pct = (q: number): number => {
    const h = (n - 1) * q;
    return (
      sorted[Math.floor(h)] + (h - Math.floor(h)) * (sorted[Math.ceil(h)] - sorted[Math.floor(h)])
    );
  };
  const med = pct(0.5);
  const dev = f.map((x) => Math.abs(x - med)).sort((a, b) => a - b);
  const mad = n % 2 ? dev[(n - 1) / 2] : (dev[n / 2 - 1] + dev[n / 2]) / 2;
  const skew =
    n < 3 || sd === null
      ? null
      : (n / ((n - 1) * (n - 2))) * sum(f.map((x) => ((x - plain) / sd) ** 3));
  const byTime = t.map((_, k) => k).sort((a, b) => t[a] - t[b]);
  let maxSlope: number | null = null;
  for (let k = 1; k < n; k++) {
    const s = (f[byTime[k]] - f[byTime[k - 1]]) / (t[byTime[k]] - t[byTime[k - 1]]);
    maxSlope = maxSlope === null ? s : Math.max(maxSlope, s);
  }
  // Weighted least squares by Cramer's rule, times from the first epoch, then shifted to MJD 0.
  const t0 = t[0];
  const u = t.map((x) => x - t0);
  const S = W;
  const Su = sum(u.map((x, k) => x * w[k]));
  const Suu = sum(u.map((x, k) => x * x * w[k]));
  const Sf = sum(f.map((x, k) => x * w[k]));
  const Suf = sum(u.map((x, k) => x * f[k] * w[k]));
  const det = S * Suu - Su * Su;
  const slope = n > 1 ? (S * Suf - Su * Sf) / det : null;
  const intercept = slope === null ? null : (Suu * Sf - Su * Suf) / det - slope * t0;
  return {
    psfFluxNdata: n,
    psfFluxMean: mean,
    psfFluxMeanErr: Math.sqrt(1 / W),
    psfFluxSigma: sd,
    psfFluxChi2: sum(f.map((x, k) => ((x - mean) / e[k]) ** 2)),
    psfFluxMin: sorted[0],
    psfFluxMax: sorted[n - 1],
    psfFluxErrMean: sum(e) / n,
    psfFluxMAD: mad,
    psfFluxSkew: skew,
    psfFluxMaxSlope: maxSlope,
    psfFluxPercentile05: pct(0.05),
    psfFluxPercentile50: pct(0.5),
    psfFluxPercentile95: pct(0.95),
    psfFluxLinearSlope: slope,
    psfFluxLinearIntercept: intercept,
    psfFluxStetsonJ: n < 2 ? null : stetsonJ(f, e, mean),
    scienceFluxMean:
      sum(sources.map((s) => (s.scienceFlux as number) / (s.scienceFluxErr as number) ** 2)) /
      sum(sources.map((s) => (s.scienceFluxErr as number) ** -2)),
  };
}

/** Stetson (1996) J with his reweighted mean (alpha = beta = 2, 20 iterations, tol 1e-6). */
function stetsonJ(f: number[], e: number[], start: number): number {
  const n = f.length;
  const c = Math.sqrt(n / (n - 1));
  let m = start;
  for (let it = 0; it < 20; it++) {
    const wts = f.map((x, k) => e[k] ** -2 / (1 + (Math.abs((c * (x - m)) / e[k]) / 2) ** 2));
    const next = sum(f.map((x, k) => x * wts[k])) / sum(wts);
    const d = Math.abs(next - m);
    m = next;
    if (d / m < 1e-6 && d < 1e-6) break;
  }
  return (
    sum(
      f.map((x, k) => {
        const p = ((c * (x - m)) / e[k]) ** 2 - 1;
        return Math.sign(p) * Math.sqrt(Math.abs(p));
      }),
    ) / n
  );
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

test('matching is one-to-one, nearest first, and independent of input order', () => {
  const arcsec = 1 / 3600;
  const objects = [
    { id: 10, ra: 20, dec: 0 },
    { id: 11, ra: 20 + 1.0 * arcsec, dec: 0 },
  ];
  const sources = [
    { id: 1, ra: 20 + 0.2 * arcsec, dec: 0 },
    { id: 2, ra: 20 + 0.3 * arcsec, dec: 0 },
    { id: 3, ra: 20 + 5 * arcsec, dec: 0 },
  ];
  const a = matchNearest(sources, objects, 1);
  assert.deepEqual([...a.objectIndex], [0, 1, -1]);
  const b = matchNearest([...sources].reverse(), [...objects].reverse(), 1);
  assert.deepEqual([...b.objectIndex], [-1, 0, 1]);
  assert.ok(Math.abs(a.separationArcsec[1] - 0.7) < 1e-6);
});

test('matching works across ra = 0 and near the pole', () => {
  const near = (ra: number, dec: number) => [{ id: 1, ra, dec }];
  assert.equal(matchNearest(near(359.99999, 0), near(0.00001, 0), 1).objectIndex[0], 0);
  assert.equal(matchNearest(near(10, 89.99999), near(190, 89.99999), 1).objectIndex[0], 0);
});

test('history and features cover the last historyDays only; sources without a sky position stay unassociated', async () => {
  const sky = makeSky(41, 5, 0, 0);
  const [early, late] = observe(sky, 2, 42);
  late.info = { ...late.info, visit: 2000, mjd: early.info.mjd + 400 };
  const apdb = new EmbeddedApdb();
  const first = await associateVisit(apdb, {
    visit: early.info,
    records: early.records,
    footprint: everywhere,
    timeProcessedMjdTai: early.info.mjd,
  });
  await apdb.storeVisit(first.batch);
  const lost = { ...late.records[0], ra: Number.NaN, dec: Number.NaN };
  const second = await associateVisit(apdb, {
    visit: late.info,
    records: [...late.records, { ...lost, index: late.records.length }],
    footprint: everywhere,
    timeProcessedMjdTai: late.info.mjd,
  });
  const placed = second.batch.diaSources.filter((s) => s.diaObjectId !== null);
  assert.equal(placed.length, late.records.length);
  assert.equal(second.batch.diaSources[late.records.length].diaObjectId, null);
  let matched = 0;
  for (const s of placed) {
    const object = second.diaObjects.get(s.diaObjectId as number) as DiaObject;
    assert.equal(
      second.prvDiaSources.get(s.diaObjectId as number),
      undefined,
      'sources 400 days old are outside the 365-day window',
    );
    assert.equal(object.nDiaSources, 1);
    if (s.diaObjectId !== s.diaSourceId) {
      matched++;
      assert.ok(
        (object.firstDiaSourceMjdTai as number) < s.midpointMjdTai - 399,
        'the first detection time survives the window',
      );
    }
  }
  assert.ok(matched > 0);
});
