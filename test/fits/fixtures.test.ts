// Reading FITS files written by an independent implementation (astropy 5.2, see
// scripts/make-fits-fixtures.py): every pixel and header value must match exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFits, FitsHeader, type FitsHdu } from '../../shared/fits/index.js';
import { pixelDigest } from './digest.js';

const FIXTURES = new URL('../fixtures/fits/', import.meta.url);

interface ExpectedHdu {
  name: string;
  bitpix: number;
  width: number;
  height: number;
  dtype: string;
  sha256: string;
  finiteSum: number;
  nanCount: number;
  samples: Array<[number, number | null]>;
}
interface ExpectedFile {
  hdus: ExpectedHdu[];
  hduCount: number;
  header?: Record<string, Record<string, string | number | boolean>>;
  comments?: string[];
  history?: string[];
  longComment?: string;
}

const expected = JSON.parse(readFileSync(new URL('expected.json', FIXTURES), 'utf8')) as Record<
  string,
  ExpectedFile
>;

/** The typed array our reader returns for numpy's dtype of the same physical values. */
const ARRAY_FOR_DTYPE: Record<string, string> = {
  uint8: 'Uint8Array',
  int8: 'Int8Array',
  int16: 'Int16Array',
  uint16: 'Uint16Array',
  int32: 'Int32Array',
  uint32: 'Uint32Array',
  int64: 'BigInt64Array',
  float32: 'Float32Array',
  float64: 'Float64Array',
};

function checkHdu(hdu: FitsHdu, want: ExpectedHdu): void {
  assert.equal(hdu.name, want.name);
  assert.equal(hdu.bitpix, want.bitpix, `${want.name} BITPIX`);
  assert.equal(hdu.width, want.width);
  assert.equal(hdu.height, want.height);
  assert.ok(hdu.data);
  assert.equal(
    hdu.data.constructor.name,
    ARRAY_FOR_DTYPE[want.dtype],
    `${want.name} dtype ${want.dtype}`,
  );
  for (const [i, v] of want.samples) {
    const got: number = Number(hdu.data[i]);
    if (v === null) assert.ok(Number.isNaN(got), `${want.name}[${i}] should be NaN`);
    else assert.equal(got, v, `${want.name}[${i}]`);
  }
  let sum = 0;
  let nans = 0;
  for (const v of hdu.data) {
    const x = Number(v);
    if (Number.isFinite(x)) sum += x;
    else if (Number.isNaN(x)) nans++;
  }
  assert.equal(nans, want.nanCount, `${want.name} NaN count`);
  assert.ok(
    Math.abs(sum - want.finiteSum) <= 1e-9 * Math.abs(want.finiteSum),
    `${want.name} sum ${sum} vs ${want.finiteSum}`,
  );
  assert.equal(pixelDigest(hdu.data), want.sha256, `${want.name}: every pixel as astropy reads it`);
}

for (const [file, want] of Object.entries(expected)) {
  test(`${file}: pixels identical to astropy's`, () => {
    const hdus = readFits(readFileSync(new URL(file, FIXTURES)));
    const images = hdus.filter((h) => h.data !== null);
    assert.deepEqual(
      images.map((h) => h.name),
      want.hdus.map((h) => h.name),
    );
    images.forEach((hdu, i) => checkHdu(hdu, want.hdus[i]));
  });
}

test('header-cards.fits: long strings, HIERARCH, commentary, logicals, D exponents', () => {
  const want = expected['header-cards.fits'];
  const [hdu] = readFits(readFileSync(new URL('header-cards.fits', FIXTURES)));
  const header: FitsHeader = hdu.header;
  for (const [key, value] of Object.entries(want.header?.['0'] ?? {})) {
    assert.deepEqual(header.get(key), value, key);
  }
  assert.equal(header.get('HIERARCH ESO DET CHIP NAME'), 'CCD-42');
  assert.equal(header.getComment('ESO DET CHIP NAME'), 'hierarch string');
  assert.equal(header.getComment('LONGSTR'), want.longComment);
  assert.deepEqual(header.commentary('COMMENT'), want.comments);
  assert.deepEqual(header.commentary('HISTORY'), want.history);
  assert.equal(header.get('UNDEF'), null);
  assert.equal(header.get('MISSING'), undefined);
  assert.equal(header.getNumber('DEXP'), 1250);
  assert.equal(header.getComment('DEXP'), 'Fortran D exponent');
});
