/**
 * The Firestore emulator's equality indexes: a query on `field == v`, `field in [..]` or such a
 * term of an AND returns exactly what a scan of the collection returns, through inserts, updates
 * that change the field, deletes and a collection emptied and refilled, and for numbers whether
 * stored as integers or doubles; and it does not scan the collection.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runQuery, type Filter, type StructuredQuery } from '../../emulators/firestore/query.js';
import { DocumentStore, type Doc } from '../../emulators/firestore/store.js';
import type { Value } from '../../emulators/firestore/values.js';

const ROOT = 'projects/p/databases/(default)/documents';
const int = (v: number): Value => ({ integerValue: String(v) });
const dbl = (v: number): Value => ({ doubleValue: v });
const field = (fieldPath: string, op: string, value: Value): Filter => ({
  fieldFilter: { field: { fieldPath }, op, value },
});

function query(where: Filter): StructuredQuery {
  return { from: [{ collectionId: 'Src', allDescendants: false }], where, orderBy: [], offset: 0 };
}

/** The same filter under a one-term OR, which the planner does not look up: a plain scan. */
function scanned(store: DocumentStore, where: Filter): string[] {
  const or = { compositeFilter: { op: 'OR', filters: [where] } };
  return runQuery(store, ROOT, query(or)).map((d) => d.name);
}

function put(store: DocumentStore, id: number, fields: Record<string, Value>): void {
  const t = store.now();
  store.put({ name: `${ROOT}/Src/${id}`, fields, createTime: t, updateTime: t } satisfies Doc);
}

it('answers equality and in queries as a scan does, through updates, deletes and refills', () => {
  const store = new DocumentStore();
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const filters: Filter[] = [
    field('obj', 'EQUAL', int(3)),
    field('obj', 'EQUAL', dbl(3)),
    field('obj', 'IN', { arrayValue: { values: [int(1), dbl(4), int(9)] } }),
    field('name', 'EQUAL', { stringValue: 'b' }),
    {
      compositeFilter: {
        op: 'AND',
        filters: [field('t', 'GREATER_THAN_OR_EQUAL', dbl(0.5)), field('obj', 'EQUAL', int(2))],
      },
    },
  ];
  for (let round = 0; round < 6; round++) {
    for (let k = 0; k < 200; k++) {
      const id = Math.floor(random() * 60);
      const obj = Math.floor(random() * 10);
      if (random() < 0.2) store.delete(`${ROOT}/Src/${id}`);
      else
        put(store, id, {
          obj: random() < 0.5 ? int(obj) : dbl(obj),
          name: { stringValue: 'abc'[obj % 3] },
          t: dbl(random()),
        });
    }
    for (const where of filters) {
      const got = runQuery(store, ROOT, query(where)).map((d) => d.name);
      assert.deepEqual(got, scanned(store, where), JSON.stringify(where));
    }
    // Empty the collection (its indexes go with it) before the next round refills it.
    if (round === 2) for (let id = 0; id < 60; id++) store.delete(`${ROOT}/Src/${id}`);
  }
});

it('looks equality candidates up instead of scanning the collection', () => {
  const store = new DocumentStore();
  for (let id = 0; id < 20_000; id++) put(store, id, { obj: int(id % 2000), t: dbl(id) });
  const where = field('obj', 'EQUAL', int(17));
  assert.equal(runQuery(store, ROOT, query(where)).length, 10);
  let scans = 0;
  const scan = store.scan.bind(store);
  store.scan = (...args) => {
    scans++;
    return scan(...args);
  };
  for (let k = 0; k < 100; k++) assert.equal(runQuery(store, ROOT, query(where)).length, 10);
  assert.equal(scans, 0);
  assert.equal(scanned(store, where).length, 10);
  assert.equal(scans, 1);
});
