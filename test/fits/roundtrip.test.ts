// Files we write read back bit-exactly (ours and astropy's reader), RICE_1 included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FitsHeader,
  readFits,
  writeFits,
  type FitsData,
  type FitsHduInput,
} from '../../shared/fits/index.js';
import { ditherRandoms } from '../../shared/fits/dither.js';
import { riceDecode, riceEncode } from '../../shared/fits/rice.js';
import { runPython, skipWithout } from '../helpers/python.js';
import { pixelDigest, PYTHON_DIGEST } from './digest.js';
import { mulberry32 } from '../../shared/util/random.js';

const W = 37; // odd sizes catch tile and block edges
const H = 23;

function sample(): Array<{ name: string; data: FitsData }> {
  const r = mulberry32(7);
  const n = W * H;
  const pick = (lo: number, hi: number): number => Math.floor(lo + r() * (hi - lo + 1));
  return [
    { name: 'U8', data: Uint8Array.from({ length: n }, () => pick(0, 255)) },
    { name: 'I8', data: Int8Array.from({ length: n }, () => pick(-128, 127)) },
    { name: 'I16', data: Int16Array.from({ length: n }, () => pick(-32768, 32767)) },
    { name: 'U16', data: Uint16Array.from({ length: n }, () => pick(0, 65535)) },
    { name: 'I32', data: Int32Array.from({ length: n }, () => pick(-(2 ** 31), 2 ** 31 - 1)) },
    { name: 'U32', data: Uint32Array.from({ length: n }, () => pick(0, 2 ** 32 - 1)) },
    {
      name: 'I64',
      data: BigInt64Array.from({ length: n }, () => BigInt(pick(-(2 ** 52), 2 ** 52)) * 1024n + 3n),
    },
    {
      name: 'F32',
      data: Float32Array.from({ length: n }, (_, i) => (i === 5 ? Number.NaN : (r() - 0.5) * 1e6)),
    },
    {
      name: 'F64',
      data: Float64Array.from({ length: n }, (_, i) =>
        i === 9 ? -Infinity : (r() - 0.5) * 1e-200,
      ),
    },
  ];
}

function sameBits(a: FitsData, b: FitsData): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return Buffer.compare(x, y) === 0;
}

test('every pixel type written plain reads back bit-exactly, with names and header cards', () => {
  const header = new FitsHeader()
    .set('OBJECT', 'test field')
    .set('EXPTIME', 30.5)
    .add('HISTORY', 'made in a test');
  const hdus: FitsHduInput[] = [
    { data: Float32Array.of(1, 2, 3, 4, 5, 6), width: 3, height: 2, header },
  ];
  for (const { name, data } of sample()) hdus.push({ name, data, width: W, height: H });
  const back = readFits(writeFits(hdus));
  assert.equal(back.length, hdus.length);
  assert.equal(back[0].name, 'PRIMARY');
  assert.equal(back[0].header.get('OBJECT'), 'test field');
  assert.deepEqual(back[0].header.commentary('HISTORY'), ['made in a test']);
  hdus.forEach((hdu, i) => {
    assert.equal(back[i].name, hdu.name ?? 'PRIMARY');
    assert.ok(sameBits(back[i].data as FitsData, hdu.data as FitsData), `${hdu.name} pixels`);
  });
  // and a second cycle through readFits output keeps everything
  const again = readFits(writeFits(back));
  again.forEach((hdu, i) => assert.ok(sameBits(hdu.data as FitsData, back[i].data as FitsData)));
});

test('RICE_1: integer images of every width are lossless, in row tiles and multi-row tiles', () => {
  for (const tileRows of [1, 4]) {
    const ints = sample().filter(
      (s) =>
        !(
          s.data instanceof Float32Array ||
          s.data instanceof Float64Array ||
          s.data instanceof BigInt64Array
        ),
    );
    const hdus: FitsHduInput[] = [
      { data: null },
      ...ints.map(({ name, data }) => ({ name, data, width: W, height: H })),
    ];
    const bytes = writeFits(hdus, { compress: 'RICE_1', tileRows });
    const back = readFits(bytes);
    ints.forEach(({ name, data }, i) => {
      assert.equal(back[i + 1].name, name);
      assert.ok(
        sameBits(back[i + 1].data as FitsData, data),
        `${name} (tiles of ${tileRows} rows)`,
      );
    });
  }
});

test('RICE_1 coder: smooth, constant, noisy and extreme blocks round-trip at 1, 2 and 4 bytes', () => {
  const r = mulberry32(3);
  for (const bytePix of [1, 2, 4]) {
    const bits = 8 * bytePix;
    const lo = bytePix === 1 ? 0 : -(2 ** (bits - 1));
    const hi = bytePix === 1 ? 255 : 2 ** (bits - 1) - 1;
    const values = Int32Array.from({ length: 1000 }, (_, i) => {
      if (i < 100) return 7; // all-zero differences
      if (i < 300) return lo + ((i * 3) % 50); // small differences
      if (i < 400) return i % 2 ? lo : hi; // largest differences
      return Math.floor(lo + r() * (hi - lo + 1)); // noise
    });
    const out = new Int32Array(values.length);
    riceDecode(riceEncode(values, 32, bytePix), values.length, 32, bytePix, out);
    assert.deepEqual(out, values, `BYTEPIX ${bytePix}`);
  }
});

test("the dither sequence is the convention's: first value and the generator check pass", () => {
  const r = ditherRandoms();
  assert.equal(r.length, 10000);
  // 16807 / (2^31 - 1) as float32: the first Park-Miller deviate from seed 1
  assert.equal(r[0], Math.fround(16807 / 2147483647));
  assert.ok(r.every((v) => v > 0 && v < 1));
});

test('RICE_1 floats: quantized to within half a step of the input, NaN kept', () => {
  const r = mulberry32(11);
  const data = Float32Array.from({ length: 64 * 40 }, (_, i) =>
    i === 77 ? Number.NaN : 1000 + 10 * (r() + r() + r() - 1.5),
  );
  const back = readFits(
    writeFits([{ data: null }, { name: 'F', data, width: 64, height: 40 }], {
      compress: 'RICE_1',
      quantizeLevel: 16,
    }),
  );
  const got = back[1].data as Float32Array;
  assert.ok(got instanceof Float32Array);
  assert.ok(Number.isNaN(got[77]));
  let worst = 0;
  for (let i = 0; i < data.length; i++)
    if (i !== 77) worst = Math.max(worst, Math.abs(got[i] - data[i]));
  // noise ~ 10 * sqrt(3 / 12) = 5; step = noise / 16 ~ 0.3, so |error| <= step / 2 ~ 0.16
  assert.ok(worst > 0 && worst < 0.25, `worst error ${worst}`);
});

const skip = skipWithout('astropy');

test('astropy reads our plain and RICE_1 files with identical pixels', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'fits-'));
  const images = sample().filter((s) => s.name !== 'I64');
  const floats = new Float32Array(W * H).map((_, i) => 100 + Math.sin(i) * 3);
  const plain = join(dir, 'plain.fits');
  const rice = join(dir, 'rice.fits');
  writeFileSync(
    plain,
    writeFits([
      { data: null },
      ...sample().map(({ name, data }) => ({ name, data, width: W, height: H })),
    ]),
  );
  // no NaN in compressed floats here: astropy 5.2 ignores ZBLANK for quantized floats
  const riceHdus = [
    ...images.filter((s) => s.name !== 'F32' && s.name !== 'F64'),
    { name: 'QF32', data: floats },
  ];
  const riceBytes = writeFits(
    [{ data: null }, ...riceHdus.map(({ name, data }) => ({ name, data, width: W, height: H }))],
    { compress: 'RICE_1' },
  );
  writeFileSync(rice, riceBytes);
  const script = `${PYTHON_DIGEST}
import sys, json
from astropy.io import fits
out = {}
for path in sys.argv[1:]:
    with fits.open(path) as f:
        for h in f[1:]:
            out[path + ':' + h.name] = [h.data.dtype.name, digest(h.data)]
print(json.dumps(out))`;
  const seen = JSON.parse(runPython('astropy', script, [plain, rice])) as Record<
    string,
    [string, string]
  >;
  const digest = pixelDigest;
  for (const { name, data } of sample())
    assert.equal(seen[`${plain}:${name}`]?.[1], digest(data), `plain ${name}`);
  const ours = readFits(riceBytes);
  for (const hdu of ours.slice(1)) {
    assert.equal(
      seen[`${rice}:${hdu.name}`]?.[1],
      digest(hdu.data as FitsData),
      `RICE_1 ${hdu.name}: astropy decodes what we decode`,
    );
  }
  for (const { name, data } of images.filter((s) => s.name !== 'F32' && s.name !== 'F64')) {
    assert.equal(seen[`${rice}:${name}`]?.[1], digest(data), `RICE_1 ${name} lossless in astropy`);
  }
});

test('an EXTNAME in the given header names the HDU when no name is passed', () => {
  const header = new FitsHeader().set('EXTNAME', 'SCI');
  const hdus = readFits(
    writeFits([{ data: null }, { data: new Int16Array(4), width: 2, height: 2, header }]),
  );
  assert.equal(hdus[1].name, 'SCI');
});
