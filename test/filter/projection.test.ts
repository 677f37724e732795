/**
 * Decoding only the filters' fields (shared/filter/projection.ts) must not change a result: every
 * expression of ./cases.ts evaluates the same (true, false or null) on the projected alert as on
 * the fully decoded one, for alerts with nulls, cutouts and both schema versions; the projection
 * holds only the fields read; a frame that is not an alert is an AlertDecodeError.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadAlertSchema } from '../../shared/alerts/schema.js';
import { decodeAlert, encodeAlert } from '../../shared/alerts/wire.js';
import { compileFilter } from '../../shared/filter/index.js';
import { FilterSet } from '../../shared/filter/filter-set.js';
import { parseMoc } from '../../shared/filter/moc.js';
import { AlertDecodeError, AlertProjection } from '../../shared/filter/projection.js';
import { parseWatchlistCsv } from '../../shared/filter/watchlist.js';
import { runScene } from '../alerts/scene.js';
import { EXPRESSIONS, watchlistCsv, watchmapMoc, withNulls } from './cases.js';

const { visits } = await runScene(4, undefined, false);
const alerts = withNulls(visits.flatMap((v) => v.alerts)).map((a, k) => ({
  ...a,
  cutoutDifference: Buffer.alloc(100 + k, 7),
  cutoutScience: null,
  cutoutTemplate: Buffer.alloc(50, 1),
}));
const context = {
  watchlists: new Map([['targets', parseWatchlistCsv(watchlistCsv(alerts))]]),
  watchmaps: new Map([['field', parseMoc(watchmapMoc(alerts))]]),
};

test('every case evaluates the same on the projected alert as on the full one, schemas 1.1 and 1.0', () => {
  const filters = EXPRESSIONS.map((text) => [text, compileFilter(text, context)] as const);
  const set = new FilterSet();
  for (const [text, filter] of filters) set.set(text, filter);
  for (const schema of [loadAlertSchema(1, 1), loadAlertSchema(1, 0)]) {
    for (const alert of alerts) {
      const frame = encodeAlert(alert, schema);
      const full = decodeAlert(frame);
      const projected = set.decode(frame);
      for (const [text, filter] of filters)
        assert.equal(filter.evaluate(projected), filter.evaluate(full), `${text}, ${schema.id}`);
    }
  }
});

test('the projection holds only the fields read, and a list read only through count() as its length', () => {
  const filter = compileFilter(
    'diaSource.snr > 5 AND count(prvDiaSources) >= 1 AND max(prvDiaForcedSources.psfFlux) > 0 AND diaObject IS NOT NULL',
  );
  const alert = alerts.find((a) => (a.prvDiaSources?.length ?? 0) >= 2 && a.diaObject) ?? alerts[0];
  const projected = new AlertProjection([...filter.reads, ['diaSourceId']]).decode(
    encodeAlert(alert),
  );
  assert.deepEqual(Object.keys(projected).sort(), [
    'diaObject',
    'diaSource',
    'diaSourceId',
    'prvDiaForcedSources',
    'prvDiaSources',
  ]);
  assert.deepEqual(Object.keys(projected.diaSource), ['snr']);
  assert.deepEqual(Object.keys(projected.diaObject ?? {}), []);
  assert.equal(projected.prvDiaSources?.length, alert.prvDiaSources?.length);
  assert.ok(projected.prvDiaSources?.every((p) => Object.keys(p).length === 0));
  assert.ok(projected.prvDiaForcedSources?.every((p) => Object.keys(p).join() === 'psfFlux'));
  assert.equal(projected.diaSourceId, alert.diaSourceId);
});

test('a frame that is not an alert is an AlertDecodeError naming the cause', () => {
  const projection = new AlertProjection([['diaSource', 'snr']]);
  const frame = encodeAlert(alerts[0]);
  for (const [bad, cause] of [
    [Buffer.from('hello'), /Confluent/],
    [Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2]), /unknown alert schema id/],
    [frame.subarray(0, frame.length - 20), /truncated/],
    [Buffer.concat([frame, Buffer.from([1, 2, 3])]), /trailing/],
  ] as const)
    assert.throws(
      () => projection.decode(bad),
      (err: unknown) => err instanceof AlertDecodeError && cause.test(err.message),
    );
});
