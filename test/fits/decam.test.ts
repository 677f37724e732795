// The real DECam frames of test/data/decam-mini (256 x 256 float64, TPV WCS) read correctly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readExposureWithHeader, readFits } from '../../shared/fits/index.js';
import { runPython, skipWithout } from '../helpers/python.js';
import { pixelDigest, PYTHON_DIGEST } from './digest.js';

const DATA = new URL('../data/decam-mini/', import.meta.url);
const FILES = ['DEC-OBS04a.mini.fits', 'DEC-OBS18a.mini.fits', 'FinalDifference.DeCorr.fits'];

test('DECam frames: 256x256 float64 primary images with their cards', () => {
  for (const file of FILES) {
    const [hdu, ...rest] = readFits(readFileSync(new URL(file, DATA)));
    assert.equal(rest.length, 0);
    assert.equal(hdu.bitpix, -64);
    assert.equal(hdu.width, 256);
    assert.equal(hdu.height, 256);
    assert.ok(hdu.data instanceof Float64Array);
    assert.equal(hdu.header.getString('CTYPE1'), 'RA---TPV');
    assert.equal(hdu.header.getNumber('EXPTIME'), 330);
  }
  const { exposure, header } = readExposureWithHeader(
    readFileSync(new URL(FILES[0], DATA)),
    FILES[0],
  );
  assert.equal(header.getNumber('GAIN'), 3.984046692260535);
  assert.equal(exposure.info.gain, 3.984046692260535);
  assert.equal(exposure.info.readNoise, 11.83702);
  assert.equal(exposure.info.saturation, 46536.1041736873);
  assert.equal(exposure.info.band, 'i');
  assert.equal(exposure.info.detector, 37);
  assert.equal(exposure.info.exposureTime, 330);
  assert.equal(exposure.info.mjd, 58334.39133794 + 330 / 2 / 86400);
  assert.equal(exposure.wcs?.kind, 'TPV');
  assert.ok(exposure.variance.data.every(Number.isNaN));
});

test(
  'DECam frames: every pixel, header values and WCS agree with astropy',
  { skip: skipWithout('astropy') },
  () => {
    const paths = FILES.map((f) => fileURLToPath(new URL(f, DATA)));
    const script = `${PYTHON_DIGEST}
import sys, json
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
out = []
for path in sys.argv[1:]:
    with fits.open(path) as f:
        h = f[0].header
        d = f[0].data
        w = WCS(h)
        sky = w.all_pix2world([[0, 0], [255, 255], [100.5, 37.25]], 0)
        out.append({'digest': digest(d), 'sum': float(d.sum()), 'p': [float(d[0, 0]), float(d[255, 255]), float(d[37, 100])],
                    'cards': {k: h[k] for k in ['GAIN', 'RDNOISE', 'SATURATE', 'MJD-OBS', 'FILTER', 'CD1_2', 'PV1_10', 'CRPIX2']},
                    'ncards': len(h), 'sky': sky.tolist()})
print(json.dumps(out))`;
    const want = JSON.parse(runPython('astropy', script, paths)) as Array<{
      digest: string;
      sum: number;
      p: number[];
      cards: Record<string, string | number>;
      ncards: number;
      sky: number[][];
    }>;
    FILES.forEach((file, i) => {
      const bytes = readFileSync(new URL(file, DATA));
      const [hdu] = readFits(bytes);
      const data = hdu.data as Float64Array;
      assert.equal(pixelDigest(data), want[i].digest, `${file}: every pixel`);
      assert.equal(data[0], want[i].p[0]);
      assert.equal(data[255 * 256 + 255], want[i].p[1]);
      assert.equal(data[37 * 256 + 100], want[i].p[2]);
      let sum = 0;
      for (const v of data) sum += v;
      assert.ok(Math.abs(sum - want[i].sum) < 1e-6 * Math.abs(want[i].sum));
      for (const [key, value] of Object.entries(want[i].cards))
        assert.equal(hdu.header.get(key), value, `${file} ${key}`);
      // astropy counts commentary cards too, and no END
      assert.equal(hdu.header.length, want[i].ncards);
      const wcs = readExposureWithHeader(bytes, file).exposure.wcs;
      assert.ok(wcs);
      const sky = wcs.pixelToSky({
        x: Float64Array.of(0, 255, 100.5),
        y: Float64Array.of(0, 255, 37.25),
      });
      want[i].sky.forEach(([ra, dec], k) => {
        assert.ok(
          Math.abs(sky.ra[k] - ra) * 3600 < 1e-4 && Math.abs(sky.dec[k] - dec) * 3600 < 1e-4,
          `${file} sky ${k}`,
        );
      });
    });
  },
);
