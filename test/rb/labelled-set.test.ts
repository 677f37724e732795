import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CUTOUT_LENGTH } from '../../shared/rb/cutouts.js';
import {
  concatSets,
  readSet,
  subset,
  writeSet,
  type LabelledSet,
} from '../../shared/rb/labelled-set.js';

function sample(n: number, offset = 0): LabelledSet {
  return {
    raw: {
      count: n,
      data: new Float32Array(n * CUTOUT_LENGTH).map((_, i) => Math.sin(i + offset)),
    },
    label: Int8Array.from({ length: n }, (_, i) => (i % 3) - 1),
    snr: Float32Array.from({ length: n }, (_, i) => i - 1.5),
    kind: Array.from({ length: n }, (_, i) => (i % 2 ? 'transient' : 'other')),
    id: Array.from({ length: n }, (_, i) => `v${offset}-${i}`),
  };
}

test('a set written to PREFIX.csv + PREFIX.bin reads back identically', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-set-'));
  const set = sample(5);
  writeSet(join(dir, 's'), set);
  assert.match(
    readFileSync(join(dir, 's.csv'), 'utf8'),
    /^id,label,snr,kind\nv0-0,,-1\.500,other\n/,
  );
  const back = readSet(join(dir, 's'));
  assert.deepEqual(back.raw.data, set.raw.data);
  assert.deepEqual(back.label, set.label);
  assert.deepEqual(back.kind, set.kind);
  assert.deepEqual(back.id, set.id);
});

test('a labels CSV (id,label) overrides labels by id; bad files give one-line errors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-set-'));
  writeSet(join(dir, 's'), sample(4));
  writeFileSync(join(dir, 'labels.csv'), 'id,label\nv0-0,real\nv0-3,0\n');
  const set = readSet(join(dir, 's'), join(dir, 'labels.csv'));
  assert.deepEqual(Array.from(set.label), [1, 0, 1, 0]);
  writeFileSync(join(dir, 'bad.csv'), 'id,label\nv0-9,1\n');
  assert.throws(
    () => readSet(join(dir, 's'), join(dir, 'bad.csv')),
    /bad\.csv: id 'v0-9' is not in/,
  );
  writeFileSync(join(dir, 'bad2.csv'), 'id,label\nv0-1,maybe\n');
  assert.throws(
    () => readSet(join(dir, 's'), join(dir, 'bad2.csv')),
    /bad2\.csv: label 'maybe' is not 0\/1/,
  );
  writeFileSync(join(dir, 's.bin'), new Uint8Array(12));
  assert.throws(() => readSet(join(dir, 's')), /s\.bin: 12 bytes, expected 4 cutouts/);
});

test('concatenation and subsets keep rows together', () => {
  const a = sample(3, 0);
  const b = sample(2, 7);
  const all = concatSets([a, b]);
  assert.equal(all.raw.count, 5);
  const pick = subset(all, [4, 0]);
  assert.deepEqual(pick.id, ['v7-1', 'v0-0']);
  assert.deepEqual(
    pick.raw.data.subarray(0, CUTOUT_LENGTH),
    b.raw.data.subarray(CUTOUT_LENGTH, 2 * CUTOUT_LENGTH),
  );
  assert.equal(pick.snr[0], b.snr[1]);
});
