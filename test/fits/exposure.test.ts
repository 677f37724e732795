import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Exposure } from '../../shared/image/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { cdMatrix, makeTanWcs } from '../../shared/wcs/index.js';
import {
  bandOf,
  FitsError,
  FitsHeader,
  readExposure,
  readExposureWithHeader,
  readFits,
  writeExposure,
  writeFits,
} from '../../shared/fits/index.js';
import { runPython, skipWithout } from '../helpers/python.js';

function sampleExposure(width = 40, height = 30): Exposure {
  const exp = Exposure.blank(width, height);
  exp.image.data.forEach((_, i, a) => (a[i] = 100 + (i % 17) * 0.25));
  exp.variance.fill(12.5);
  exp.mask.set(3, 4, MaskPlane.SAT | MaskPlane.CR);
  exp.wcs = makeTanWcs({ crpix: [19.5, 14.5], crval: [150.1, 2.2], cd: cdMatrix(0.2, 30) });
  exp.info = {
    visit: 4021,
    detector: 37,
    band: 'r',
    mjd: 60000.25,
    exposureTime: 30,
    gain: 1.7,
    readNoise: 5.5,
    saturation: 60000,
    zeroPoint: 31.4,
    instrument: 'SIM',
  };
  return exp;
}

test('writeExposure -> readExposure keeps pixels, mask, variance, visit info and WCS', () => {
  const exp = sampleExposure();
  const bytes = writeExposure(exp, {
    extraHeader: [
      ['DIFFMETH', 'AL'],
      ['KERNSUM', 0.98],
    ],
  });
  const names = readFits(bytes).map((h) => h.name);
  assert.deepEqual(names, ['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
  const { exposure, header, imageHdu, maskFromFile, varianceFromFile } = readExposureWithHeader(
    bytes,
    'x.fits',
  );
  assert.equal(imageHdu, 'IMAGE');
  assert.ok(maskFromFile && varianceFromFile);
  assert.deepEqual(exposure.image.data, exp.image.data);
  assert.deepEqual(exposure.mask.data, exp.mask.data);
  assert.deepEqual(exposure.variance.data, exp.variance.data);
  assert.equal(header.get('DIFFMETH'), 'AL'); // primary cards are inherited
  assert.equal(header.get('KERNSUM'), 0.98);
  for (const [key, value] of Object.entries(exp.info)) {
    const got = exposure.info[key as keyof typeof exp.info];
    if (typeof value === 'number')
      assert.ok(Math.abs((got as number) - value) < 1e-9, `${key}: ${got} vs ${value}`);
    else assert.equal(got, value, key);
  }
  assert.ok(exposure.wcs);
  const pix = { x: Float64Array.of(0, 39, 12.25), y: Float64Array.of(0, 29, 7.5) };
  const a = exp.wcs!.pixelToSky(pix);
  const b = exposure.wcs.pixelToSky(pix);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(a.ra[i] - b.ra[i]) < 1e-12 && Math.abs(a.dec[i] - b.dec[i]) < 1e-12);
  }
});

test('a sub-image view is written in its own pixels and read back with its origin and parent-frame WCS', () => {
  const exp = sampleExposure();
  const view = exp.view({ x: 10, y: 5, width: 12, height: 9 });
  const back = readExposure(writeExposure(view));
  assert.equal(back.width, 12);
  assert.equal(back.image.x0, 10);
  assert.equal(back.image.y0, 5);
  assert.equal(back.image.get(0, 0), exp.image.get(10, 5));
  const pix = { x: Float64Array.of(15), y: Float64Array.of(8) }; // parent-frame pixel
  assert.ok(Math.abs(back.wcs!.pixelToSky(pix).ra[0] - exp.wcs!.pixelToSky(pix).ra[0]) < 1e-12);
  // a FITS reader without our origin convention sees the WCS of the cut-out pixels
  const crpix1 = readFits(writeExposure(view))[1].header.getNumber('CRPIX1');
  assert.equal(crpix1, 19.5 + 1 - 10);
});

test('compressed exposure: MASK exact, IMAGE and VARIANCE within the quantization step', () => {
  const exp = sampleExposure(64, 32);
  exp.image.data.forEach((_, i, a) => (a[i] = 100 + 5 * Math.sin(i * 0.7)));
  const back = readExposure(writeExposure(exp, { compress: 'RICE_1', quantizeLevel: 64 }));
  assert.deepEqual(back.mask.data, exp.mask.data);
  let worst = 0;
  exp.image.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(back.image.data[i] - v))));
  assert.ok(worst < 0.1, `worst ${worst}`);
});

test('plain single-HDU image: no variance (NaN, to be derived), NaN pixels flagged NO_DATA, band letter', () => {
  const header = new FitsHeader()
    .set('FILTER', 'i DECam SDSS c0003 7835.0 1470.0')
    .set('MJD-OBS', 58334.5)
    .set('EXPTIME', 86.4);
  header.set('CCDNUM', 37).set('DETECTOR', 'S3-177').set('EXPNUM', 123456).set('MAGZERO', 30.1);
  const data = Float64Array.from({ length: 12 }, (_, i) => (i === 4 ? Number.NaN : i));
  const { exposure, maskFromFile, varianceFromFile } = readExposureWithHeader(
    writeFits([{ data, width: 4, height: 3, header }]),
  );
  assert.equal(maskFromFile || varianceFromFile, false);
  assert.ok(exposure.variance.data.every(Number.isNaN));
  assert.equal(exposure.mask.data[4], MaskPlane.NO_DATA);
  assert.equal(exposure.mask.data.filter((m) => m !== 0).length, 1);
  assert.equal(exposure.info.band, 'i');
  assert.equal(exposure.info.detector, 37);
  assert.equal(exposure.info.visit, 123456);
  assert.equal(exposure.info.zeroPoint, 30.1);
  assert.equal(exposure.info.mjd, 58334.5 + 86.4 / 2 / 86400); // midpoint from the start
  assert.equal(exposure.wcs, null);
  // On shared memory, so that a pool worker characterizes the planes in place (characterize-async.ts).
  for (const plane of [exposure.image, exposure.mask, exposure.variance])
    assert.ok(plane.data.buffer instanceof SharedArrayBuffer);
});

test('pixels come from IMAGE, else a primary with data, else the first extension (.fits.fz layout)', () => {
  const hdu = (name: string, value: number) => ({
    name,
    data: new Float32Array(4).fill(value),
    width: 2,
    height: 2,
  });
  const pick = (hdus: Parameters<typeof writeFits>[0], compress?: 'RICE_1'): number =>
    readExposure(writeFits(hdus, { compress })).image.data[0];
  assert.equal(pick([hdu('PRIMARY', 1), hdu('SCI', 2), hdu('IMAGE', 3)]), 3);
  assert.equal(pick([hdu('PRIMARY', 1), hdu('SCI', 2)]), 1);
  assert.equal(pick([{ data: null }, hdu('VARIANCE', 5), hdu('SCI', 2)]), 2);
  const ints = { name: 'SCI', data: Int16Array.of(7, 8, 9, 10), width: 2, height: 2 };
  assert.deepEqual(
    Array.from(readExposure(writeFits([{ data: null }, ints], { compress: 'RICE_1' })).image.data),
    [7, 8, 9, 10],
  );
  assert.equal(pick([{ data: null }, hdu('SCI', 2)], 'RICE_1'), 2);
});

test('a foreign MASK is mapped through its MP_ cards; unknown planes are dropped', () => {
  const maskHeader = new FitsHeader().set('MP_SAT', 0).set('MP_CR', 3).set('MP_OTHER', 5);
  const mask = Int32Array.of(1, 8, 32, 9, 0, 0);
  const bytes = writeFits([
    { data: null },
    { name: 'IMAGE', data: new Float32Array(6), width: 3, height: 2 },
    { name: 'MASK', data: mask, width: 3, height: 2, header: maskHeader },
  ]);
  const exp = readExposure(bytes);
  assert.deepEqual(Array.from(exp.mask.data), [
    MaskPlane.SAT,
    MaskPlane.CR,
    0,
    MaskPlane.SAT | MaskPlane.CR,
    0,
    0,
  ]);
});

test('bad inputs: FitsError naming the source', () => {
  assert.throws(
    () => readExposure(writeFits([{ data: null }]), 'empty.fits'),
    /^FitsError: empty\.fits: no image HDU/,
  );
  const bad = writeFits([
    { data: new Float32Array(6), width: 3, height: 2 },
    { name: 'VARIANCE', data: new Float32Array(4), width: 2, height: 2 },
  ]);
  assert.throws(
    () => readExposure(bad, 'b.fits'),
    (e: unknown) => e instanceof FitsError && /b\.fits: VARIANCE extension is 2x2/.test(e.message),
  );
  const badWcs = new FitsHeader().set('CTYPE1', 'RA---TAN').set('CTYPE2', 'DEC--TAN');
  assert.throws(
    () =>
      readExposure(
        writeFits([{ data: new Float32Array(4), width: 2, height: 2, header: badWcs }]),
        'w.fits',
      ),
    /w\.fits: bad WCS/,
  );
});

test('band letters from FILTER values', () => {
  assert.equal(bandOf('i'), 'i');
  assert.equal(bandOf('g DECam SDSS c0001 4720.0 1520.0'), 'g');
  assert.equal(bandOf('Y DECam c0005 10095.0 1130.0'), 'y');
  assert.equal(bandOf('z.00000'), 'z');
  assert.equal(bandOf('VR DECam'), 'VR DECam');
  assert.equal(bandOf('HSC-I'), 'HSC-I');
});

test(
  'astropy reads writeExposure files: extensions, pixels, visit cards and the WCS of a view',
  { skip: skipWithout('astropy') },
  () => {
    const exp = sampleExposure();
    const view = exp.view({ x: 10, y: 5, width: 12, height: 9 });
    const dir = mkdtempSync(join(tmpdir(), 'exposure-'));
    const path = join(dir, 'view.fits');
    writeFileSync(path, writeExposure(view, { compress: 'RICE_1' }));
    const script = `
import sys, json
from astropy.io import fits
from astropy.wcs import WCS
with fits.open(sys.argv[1]) as f:
    sky = WCS(f['IMAGE'].header).all_pix2world([[0.0, 0.0], [5.0, 3.0]], 0).tolist()
    print(json.dumps({'names': [h.name for h in f], 'mask': f['MASK'].data.tolist(),
                      'band': f[0].header['FILTER'], 'gain': f[0].header['GAIN'],
                      'mpcr': f['MASK'].header['MP_CR'], 'sky': sky}))`;
    const seen = JSON.parse(runPython('astropy', script, [path])) as {
      names: string[];
      mask: number[][];
      band: string;
      gain: number;
      mpcr: number;
      sky: number[][];
    };
    assert.deepEqual(seen.names, ['PRIMARY', 'IMAGE', 'MASK', 'VARIANCE']);
    assert.equal(seen.band, 'r');
    assert.equal(seen.gain, 1.7);
    assert.equal(seen.mpcr, 3);
    for (let y = 0; y < 9; y++) {
      for (let x = 0; x < 12; x++) assert.equal(seen.mask[y][x], view.mask.get(x, y));
    }
    // astropy sees the view's own pixel grid; ours is the parent's (origin 10, 5)
    const ours = exp.wcs!.pixelToSky({ x: Float64Array.of(10, 15), y: Float64Array.of(5, 8) });
    seen.sky.forEach(([ra, dec], k) => {
      assert.ok(Math.abs(ra - ours.ra[k]) < 1e-10 && Math.abs(dec - ours.dec[k]) < 1e-10);
    });
  },
);
