/**
 * Photometric calibration against a reference catalog (issue 15 item 5): the science image's zero
 * point from PSF photometry at the catalog's stars agrees with the simulator's truth, and
 * `ap process --refcat` uses it when the header has none (recorded as 'reference catalog').
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNight, renderImage } from '../../shared/sim/index.js';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import {
  readRefcat,
  readRefcatCsv,
  refcatZeroPoint,
  writeRefcatFits,
} from '../../shared/pipeline/refcat.js';
import { FitsHeader } from '../../shared/fits/header.js';
import { readTableColumns, writeTableColumns } from '../../shared/fits/table.js';
import { resolveZeroPoint } from '../../shared/pipeline/zero-point.js';

test('refcat zero point: within 0.02 mag of the truth; it comes before the template calibration; bad catalogs are named', () => {
  const plan = planNight({ size: 512, seed: 11, visits: 1 });
  const spec = plan.visits[0];
  const science = renderImage(plan, spec).image.exposure;
  const truth = spec.zeroPoint;
  science.info = { ...science.info, zeroPoint: Number.NaN };
  characterizeImage(science);
  const { stars } = plan.field;
  const csv = [
    'ra,dec,r_mag',
    ...Array.from(stars.ra, (ra, i) => `${ra},${stars.dec[i]},${stars.mag[i]}`),
  ].join('\n');
  const catalog = readRefcatCsv(csv, 'r');
  assert.equal(catalog.length, stars.ra.length);
  const zp = refcatZeroPoint(science, catalog);
  assert.ok(zp, 'calibrated');
  assert.ok(zp.nStars >= 10, `${zp.nStars} stars`);
  assert.ok(
    Math.abs(zp.zeroPoint - truth) < 0.02,
    `refcat ${zp.zeroPoint.toFixed(4)} vs truth ${truth.toFixed(4)}`,
  );
  const chosen = resolveZeroPoint({ zeroPoint: Number.NaN }, { zeroPoint: 30 }, 1, {
    reference: { zeroPoint: zp.zeroPoint, origin: 'reference catalog' },
  });
  assert.equal(chosen.source, 'reference catalog');
  assert.throws(
    () => readRefcatCsv('ra,dec,g_mag\n1,2,20', 'r'),
    /no magnitude column for band 'r'/,
  );
  assert.throws(() => readRefcatCsv('x,y,mag\n1,2,20', 'r'), /needs ra and dec columns/);
});

test('a FITS binary-table catalog gives the same stars as its CSV; ra/dec/mag columns by name, any case', () => {
  const stars = [
    { ra: 10.5, dec: -3.25, mag: 18.125 },
    { ra: 10.51, dec: -3.2, mag: 19.5 },
    { ra: 10.52, dec: -3.1, mag: Number.NaN },
  ];
  const fits = writeRefcatFits(stars, 'r');
  const csv = ['ra,dec,r_mag', ...stars.map((s) => `${s.ra},${s.dec},${s.mag}`)].join('\n');
  assert.deepEqual(readRefcat(fits, 'r'), stars.slice(0, 2), 'rows without a magnitude dropped');
  assert.deepEqual(readRefcat(Buffer.from(csv), 'r'), readRefcat(fits, 'r'));
  assert.throws(() => readRefcat(fits, 'g'), /no magnitude column for band 'g'/);
  const table = readTableColumns(
    writeTableColumns(
      [
        { name: 'RA', values: [1] },
        { name: 'DEC', values: [2] },
        { name: 'MAG', values: [3] },
      ],
      'T',
    ),
  );
  assert.deepEqual(table.names, ['RA', 'DEC', 'MAG']);
  assert.deepEqual(
    readRefcat(
      writeTableColumns(
        [
          { name: 'RA', values: [1] },
          { name: 'Dec', values: [2] },
          { name: 'MAG', values: [3] },
        ],
        'T',
      ),
      'i',
    ),
    [{ ra: 1, dec: 2, mag: 3 }],
  );
});

test('binary tables as other writers make them: float32, scaled int32 with TNULL, and a text column', () => {
  // Hand-built per the FITS standard (7.3): a 4A name, 1E ra, 1E dec, 1J mag in millimag with
  // TZERO 15 and TSCAL 0.001, TNULL -1; rows of 16 bytes.
  const h = new FitsHeader();
  for (const [k, v] of [
    ['XTENSION', 'BINTABLE'],
    ['BITPIX', 8],
    ['NAXIS', 2],
    ['NAXIS1', 16],
    ['NAXIS2', 2],
    ['PCOUNT', 0],
    ['GCOUNT', 1],
    ['TFIELDS', 4],
    ['TTYPE1', 'name'],
    ['TFORM1', '4A'],
    ['TTYPE2', 'ra'],
    ['TFORM2', 'E'],
    ['TTYPE3', 'dec'],
    ['TFORM3', '1E'],
    ['TTYPE4', 'g'],
    ['TFORM4', '1J'],
    ['TSCAL4', 0.001],
    ['TZERO4', 15],
    ['TNULL4', -1],
  ] as const)
    h.set(k, v);
  const primary = new FitsHeader();
  primary.set('SIMPLE', true);
  primary.set('BITPIX', 8);
  primary.set('NAXIS', 0);
  const [p, t] = [primary.toBytes(), h.toBytes()];
  const bytes = new Uint8Array(p.length + t.length + 2880);
  bytes.set(p);
  bytes.set(t, p.length);
  const view = new DataView(bytes.buffer, p.length + t.length);
  bytes.set(Buffer.from('star'), p.length + t.length);
  view.setFloat32(4, 150.25);
  view.setFloat32(8, 2.5);
  view.setInt32(12, 5500);
  view.setFloat32(20, 150.5);
  view.setFloat32(24, 2.75);
  view.setInt32(28, -1);
  assert.deepEqual(readRefcat(bytes, 'g'), [{ ra: 150.25, dec: 2.5, mag: 20.5 }]);
  assert.equal(readTableColumns(bytes).column('name'), null, 'text is not numeric');
  assert.throws(() => readTableColumns(bytes.subarray(0, p.length + t.length + 8)), /truncated/);
});
