/** Firestore's value order, where a naive comparison goes wrong. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import {
  compareReferences,
  compareValues,
  valuesEqual,
  type Value,
} from '../../emulators/firestore/values.js';

const int = (v: string | number): Value => ({ integerValue: String(v) });
const dbl = (v: number): Value => ({ doubleValue: v });

it('orders integers and doubles by exact numeric value, NaN first', () => {
  const ascending = [
    dbl(NaN),
    dbl(-Infinity),
    int('-9223372036854775808'),
    dbl(-1.5),
    int(-1),
    dbl(-0.5),
    int(0),
    dbl(0.5),
    int(1),
    dbl(1.5),
    dbl(9007199254740992),
    int('9007199254740993'),
    int('9223372036854775807'),
    dbl(Infinity),
  ];
  for (let i = 0; i < ascending.length; i++) {
    for (let j = 0; j < ascending.length; j++) {
      assert.equal(
        compareValues(ascending[i], ascending[j]),
        Math.sign(i - j),
        `${JSON.stringify(ascending[i])} vs ${JSON.stringify(ascending[j])}`,
      );
    }
  }
  assert.ok(valuesEqual(int(1), dbl(1)));
  assert.ok(valuesEqual(dbl(0), dbl(-0)));
  assert.ok(!valuesEqual(int(1), { stringValue: '1' }));
});

it('orders types: null < bool < number < timestamp < string < bytes < reference < geo point < array < map', () => {
  const ascending: Value[] = [
    { nullValue: 'NULL_VALUE' },
    { booleanValue: false },
    { booleanValue: true },
    int(5),
    { timestampValue: { seconds: '1', nanos: 0 } },
    { stringValue: 'a' },
    { bytesValue: Buffer.from([0]) },
    { referenceValue: 'projects/p/databases/d/documents/c/a' },
    { geoPointValue: { latitude: 1, longitude: 2 } },
    { arrayValue: { values: [int(1)] } },
    { mapValue: { fields: { a: int(1) } } },
  ];
  for (let i = 1; i < ascending.length; i++)
    assert.equal(compareValues(ascending[i - 1], ascending[i]), -1, JSON.stringify(ascending[i]));
});

it('orders strings by UTF-8 bytes (code points), not UTF-16 units', () => {
  assert.equal(compareValues({ stringValue: '\uFFFD' }, { stringValue: '\u{1F600}' }), -1);
  assert.equal(compareValues({ stringValue: 'a' }, { stringValue: 'ab' }), -1);
  assert.equal(compareValues({ stringValue: 'B' }, { stringValue: 'a' }), -1);
});

it('orders document ids with numeric __id<n>__ ids first, by value', () => {
  const root = 'projects/p/databases/d/documents/c';
  assert.equal(compareReferences(`${root}/__id-9223372036854775808__`, `${root}/A`), -1);
  assert.equal(compareReferences(`${root}/__id9__`, `${root}/__id10__`), -1);
  assert.equal(compareReferences(`${root}/a`, `${root}/a/sub/x`), -1);
  assert.equal(
    compareReferences(
      `projects/p/databases/d/documents/c/x`,
      `projects/p/databases/d/documents/c\u0000/a`,
    ),
    -1,
  );
});
