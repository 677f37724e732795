// readFitsFile (a file's images read straight into shared buffers) against readFits of the whole
// file in memory: the same HDUs, headers and pixels, and the same errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  readFits,
  readFitsFile,
  writeFits,
  writeFitsFile,
  FitsHeader,
} from '../../shared/fits/index.js';
import { pixelDigest } from './digest.js';

const FILES = [
  '../fixtures/fits/compressed.fits',
  '../fixtures/fits/header-cards.fits',
  '../fixtures/fits/mef-all-bitpix.fits',
  '../fixtures/fits/scaled-int16.fits',
  '../fixtures/fits/uint16.fits',
  '../data/decam-mini/DEC-OBS04a.mini.fits',
  '../data/nircam-a2744/science.psf.fits',
].map((f) => fileURLToPath(new URL(f, import.meta.url)));

for (const path of FILES) {
  test(`readFitsFile ${path.split('/').slice(-2).join('/')}: the HDUs readFits reads`, async () => {
    const want = readFits(readFileSync(path));
    const got = await readFitsFile(path);
    assert.equal(got.length, want.length);
    got.forEach((hdu, i) => {
      const w = want[i];
      assert.deepEqual(
        [hdu.name, hdu.bitpix, hdu.width, hdu.height],
        [w.name, w.bitpix, w.width, w.height],
      );
      assert.deepEqual([...hdu.header], [...w.header], `${w.name} header`);
      assert.equal(hdu.data?.constructor.name, w.data?.constructor.name, `${w.name} type`);
      if (hdu.data && w.data)
        assert.equal(pixelDigest(hdu.data), pixelDigest(w.data), `${w.name} pixels`);
      // Unscaled images land on a shared buffer of their own, as readFits' copies do.
      if (w.data?.buffer instanceof SharedArrayBuffer) {
        assert.ok(hdu.data?.buffer instanceof SharedArrayBuffer, `${w.name} shared`);
        assert.equal(hdu.data.byteLength, hdu.data.buffer.byteLength, `${w.name} whole buffer`);
      }
    });
  });
}

test('readFitsFile: a header over several blocks, a table skipped, trailing padding', async () => {
  const header = new FitsHeader();
  for (let i = 0; i < 80; i++) header.set(`KEY${i}`, i, `card ${i}`);
  const image = Float32Array.from({ length: 35 * 17 }, (_v, i) => Math.sin(i) * 1e3);
  const bytes = writeFits([
    { data: null, header },
    { name: 'IMAGE', data: image, width: 35, height: 17, header },
  ]);
  const path = join(mkdtempSync(join(tmpdir(), 'read-file-')), 'multi.fits');
  const padded = new Uint8Array(bytes.length + 2880);
  padded.set(bytes);
  writeFileSync(path, padded);
  const got = await readFitsFile(path);
  const want = readFits(padded);
  assert.equal(got.length, 2);
  assert.deepEqual([...got[1].header], [...want[1].header]);
  assert.deepEqual(Array.from(got[1].data as Float32Array), Array.from(image));
});

test('readFitsFile: the errors readFits gives on a truncated file and on one that is not FITS', async () => {
  const bytes = writeFits([
    { data: null },
    { name: 'IMAGE', data: new Float32Array(64 * 64), width: 64, height: 64 },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'read-file-'));
  const cases: Array<[string, Uint8Array]> = [
    ['truncated data', bytes.subarray(0, bytes.length - 4000)],
    ['truncated header', bytes.subarray(0, 2880 + 400)],
    ['not FITS', new TextEncoder().encode('hello, not a FITS file')],
    [
      'bad extension',
      Uint8Array.from([...bytes.subarray(0, 2880), ...new Uint8Array(2880).fill(65)]),
    ],
  ];
  for (const [name, data] of cases) {
    const path = join(dir, `${name}.fits`);
    writeFileSync(path, data);
    let expected = '';
    try {
      readFits(data);
    } catch (e) {
      expected = (e as Error).message;
    }
    assert.ok(expected, `${name}: readFits throws`);
    if (name === 'truncated header')
      assert.match(
        expected,
        /header at byte 2880 has no END card/,
        'the header named by its offset',
      );
    await assert.rejects(readFitsFile(path), { message: expected }, name);
  }
});

test('writeFitsFile writes the bytes writeFits makes: every BITPIX, chunks of pixels, compressed extensions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'write-file-'));
  const header = new FitsHeader();
  header.set('OBJECT', 'chunks');
  // 1100 x 300 float64 pixels: 2.6 MB, three chunks, the last one partial.
  const big = Float64Array.from({ length: 1100 * 300 }, (_v, i) => Math.cos(i) * 1e5);
  const arrays = [
    Uint8Array.from({ length: 60 }, (_v, i) => i * 4),
    Int8Array.from({ length: 60 }, (_v, i) => i - 30),
    Int16Array.from({ length: 60 }, (_v, i) => i * 1000 - 30000),
    Uint16Array.from({ length: 60 }, (_v, i) => i * 1000),
    Int32Array.from({ length: 60 }, (_v, i) => i * 70000 - 2e6),
    Uint32Array.from({ length: 60 }, (_v, i) => i * 70000000),
    BigInt64Array.from({ length: 60 }, (_v, i) => BigInt(i) * 10000000000n),
    Float32Array.from({ length: 60 }, (_v, i) => Math.sqrt(i) - 3),
  ];
  for (const compress of [undefined, 'RICE_1'] as const) {
    const hdus = [
      { data: null, header },
      ...arrays.map((data, i) => ({
        name: `A${i}`,
        data,
        width: 12,
        height: 5,
        // RICE_1 takes no 64-bit integers.
        compress: data instanceof BigInt64Array ? (false as const) : undefined,
      })),
      { name: 'BIG', data: big, width: 1100, height: 300, compress: false as const },
    ];
    const path = join(dir, `${compress ?? 'plain'}.fits`);
    await writeFitsFile(path, hdus, { compress });
    const want = writeFits(hdus, { compress });
    const got = readFileSync(path);
    assert.equal(got.length, want.length, `${compress}: length`);
    assert.ok(Buffer.from(want).equals(got), `${compress}: bytes`);
  }
});
