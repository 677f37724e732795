// Garbage in: truncated files and flipped bytes must give a FitsError or a parse, never a hang
// or another exception type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FitsError, readExposure, readFits, writeFits } from '../../shared/fits/index.js';

const FIXTURES = new URL('../fixtures/fits/', import.meta.url);

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function survives(bytes: Uint8Array, what: string): void {
  for (const read of [readFits, readExposure]) {
    try {
      read(bytes);
    } catch (e) {
      assert.ok(
        e instanceof FitsError,
        `${what}: ${read.name} threw ${(e as Error).name}: ${(e as Error).message}`,
      );
      assert.ok(!(e as Error).message.includes('\n'), 'one-line message');
    }
  }
}

const files = ['compressed.fits', 'mef-all-bitpix.fits', 'header-cards.fits', 'scaled-int16.fits'];

test('random truncations throw FitsError or parse', () => {
  const r = random(1);
  for (const file of files) {
    const bytes = readFileSync(new URL(file, FIXTURES));
    for (let k = 0; k < 40; k++) {
      const cut = Math.floor(r() * bytes.length);
      survives(bytes.subarray(0, cut), `${file} cut at ${cut}`);
    }
  }
});

test('random byte flips throw FitsError or parse', () => {
  const r = random(2);
  const rice = writeFits(
    [
      { data: null },
      {
        name: 'X',
        data: Int32Array.from({ length: 4096 }, (_, i) => (i * 7919) % 1000),
        width: 64,
        height: 64,
      },
    ],
    { compress: 'RICE_1' },
  );
  for (const bytes of [...files.map((f) => readFileSync(new URL(f, FIXTURES))), rice]) {
    for (let k = 0; k < 60; k++) {
      const copy = Uint8Array.from(bytes);
      const flips = 1 + Math.floor(r() * 8);
      // half the time hit the headers and table descriptors, where structure lives
      const span = r() < 0.5 ? Math.min(copy.length, 8640) : copy.length;
      for (let f = 0; f < flips; f++) copy[Math.floor(r() * span)] ^= 1 << Math.floor(r() * 8);
      survives(copy, `flip ${k}`);
    }
  }
});

test('not FITS at all: empty, text, zeros', () => {
  for (const bytes of [
    new Uint8Array(0),
    new TextEncoder().encode('hello world'),
    new Uint8Array(5760),
  ]) {
    assert.throws(() => readFits(bytes), FitsError);
  }
});

test('structural problems are named: unsupported BITPIX, truncated data, bad NAXIS, unsupported compression', () => {
  const bytes = writeFits([{ data: new Int16Array(6), width: 3, height: 2 }]);
  const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
  const patched = (from: string, to: string): Uint8Array =>
    Buffer.from(text(bytes).replace(from, to), 'latin1');
  assert.throws(
    () => readFits(patched('BITPIX  =                   16', 'BITPIX  =                   12')),
    /unsupported BITPIX 12/,
  );
  assert.throws(
    () => readFits(patched('NAXIS1  =                    3', 'NAXIS1  =                 -3  ')),
    /bad NAXIS1 value -3/,
  );
  assert.throws(
    () => readFits(patched('NAXIS1  =                    3', 'NAXIS1  =                 3000')),
    /truncated file/,
  );
  const rice = writeFits([{ data: null }, { data: new Int32Array(6), width: 3, height: 2 }], {
    compress: 'RICE_1',
  });
  const hcomp = Buffer.from(
    text(rice).replace("ZCMPTYPE= 'RICE_1  '", "ZCMPTYPE= 'PLIO_1  '"),
    'latin1',
  );
  assert.throws(() => readFits(hcomp), /unsupported ZCMPTYPE 'PLIO_1'/);
});

test('random values in the structural cards of a compressed image throw FitsError or parse', () => {
  const r = random(3);
  const rice = Buffer.from(
    writeFits(
      [
        { data: null },
        {
          name: 'F',
          data: Float32Array.from({ length: 600 }, (_, i) => Math.sin(i) * 50),
          width: 30,
          height: 20,
        },
      ],
      { compress: 'RICE_1', tileRows: 3 },
    ),
  ).toString('latin1');
  const keys = [
    'NAXIS1',
    'NAXIS2',
    'PCOUNT',
    'ZNAXIS1',
    'ZNAXIS2',
    'ZTILE1',
    'ZTILE2',
    'ZVAL1',
    'ZVAL2',
    'ZDITHER0',
  ];
  for (let k = 0; k < 300; k++) {
    const key = keys[Math.floor(r() * keys.length)];
    const value = String(Math.floor((r() - 0.2) * 10 ** Math.floor(r() * 10))).padStart(20);
    const card = new RegExp(`(${key.padEnd(8)}= )[ 0-9-]{20}`);
    survives(Buffer.from(rice.replace(card, `$1${value}`), 'latin1'), `${key} = ${value.trim()}`);
  }
});
