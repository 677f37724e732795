/**
 * What real headers say, read as a careful astronomer would (issue 15 items 1, 5; issue 20 item 6):
 * observation time from MJD-AVG / MJD-OBS / MJD / DATE-OBS (+TIME-OBS) / JD, band from FILTER,
 * FILTER1/FILTER2 or BAND, zero point from PHOTZP/MAGZERO/MAGZP or unit keywords (JWST's MJy/sr
 * with PIXAR_SR), and variance planes from noise maps (sigma, variance or inverse-variance).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyScienceOverrides, loadImage } from '../../cli/image-inputs.js';
import {
  FitsHeader,
  readExposureWithHeader,
  readFits,
  writeFits,
} from '../../shared/fits/index.js';
import { filterName, mjdOfIso, observationTime } from '../../shared/fits/observation-time.js';
import { zeroPointFromHeader } from '../../shared/fits/zero-point-cards.js';
import {
  noiseMapKind,
  varianceFromExtensions,
  varianceFromMapFile,
} from '../../shared/fits/variance-map.js';

const header = (cards: Record<string, string | number>): FitsHeader => {
  const h = new FitsHeader();
  for (const [k, v] of Object.entries(cards)) h.set(k, v);
  return h;
};

test('observation time: midpoint from MJD-AVG, else a start time plus EXPTIME/2, in the documented order', () => {
  const half = 60 / 2 / 86400;
  assert.deepEqual(observationTime(header({ 'MJD-OBS': 60000, EXPTIME: 60 })), {
    mjd: 60000 + half,
    origin: 'MJD-OBS + EXPTIME/2',
  });
  assert.equal(
    observationTime(header({ 'MJD-OBS': 60000, 'MJD-AVG': 60000.0004, EXPTIME: 60 })).origin,
    'MJD-AVG',
  );
  // A MJD-AVG days away from MJD-OBS (copied from another file, as in the NIRCam science header) yields to MJD-OBS.
  assert.equal(
    observationTime(header({ 'MJD-OBS': 59885.5766, 'MJD-AVG': 59894.174 })).mjd,
    59885.5766,
  );
  assert.equal(observationTime(header({ MJD: 59000.5 })).mjd, 59000.5);
  assert.equal(
    observationTime(header({ 'DATE-OBS': '2018-08-04T09:23:31.5', EXPTIME: 330 })).origin,
    'DATE-OBS + EXPTIME/2',
  );
  // The DECam science header's DATE-OBS and MJD-OBS agree.
  assert.ok(
    Math.abs(
      observationTime(header({ 'DATE-OBS': '2018-08-04T09:23:31.598174' })).mjd - 58334.39133794,
    ) < 1e-8,
  );
  assert.equal(
    observationTime(header({ 'DATE-OBS': '2018-08-04', 'TIME-OBS': '12:00:00' })).mjd,
    58334.5,
  );
  assert.equal(observationTime(header({ JD: 2458335 })).mjd, 58334.5);
  assert.ok(Number.isNaN(observationTime(header({ 'DATE-OBS': 'yesterday' })).mjd));
  assert.equal(mjdOfIso('1970-01-01'), 40587);
});

test('band from FILTER, else FILTER1/FILTER2 past an open wheel, else BAND', () => {
  assert.equal(filterName(header({ FILTER: 'F200W' })), 'F200W');
  assert.equal(filterName(header({ FILTER1: 'CLEAR1L', FILTER2: 'F814W' })), 'F814W');
  assert.equal(filterName(header({ FILTER1: 'r', FILTER2: 'OPEN' })), 'r');
  assert.equal(filterName(header({ BAND: 'g' })), 'g');
  assert.equal(filterName(header({})), '');
  const bytes = writeFits([
    {
      data: new Float32Array(4),
      width: 2,
      height: 2,
      header: header({ FILTER1: 'OPEN', FILTER2: "i'", 'DATE-OBS': '2020-01-01T00:00:00' }),
    },
  ]);
  const { exposure } = readExposureWithHeader(bytes);
  assert.equal(exposure.info.band, 'i');
  assert.equal(exposure.info.mjd, 58849);
});

test('zero point: PHOTZP/MAGZERO/MAGZP as given; MJy/sr with PIXAR_SR as JWST computes it; per-pixel Jy units', () => {
  assert.deepEqual(zeroPointFromHeader(header({ MAGZP: 25.1 })), {
    zeroPoint: 25.1,
    origin: 'MAGZP',
  });
  // JWST's recipe: ZP_AB = -6.10 - 2.5 log10(PIXAR_SR); the NIRCam science header's PIXAR_SR 2.25e-14 gives 28.02.
  const nircam = zeroPointFromHeader(
    header({ BUNIT: 'MJy/sr', PIXAR_SR: 2.25e-14, PHOTMJSR: 1.8054 }),
  );
  assert.equal(nircam?.origin, 'BUNIT MJy/sr, PIXAR_SR');
  assert.ok(Math.abs((nircam?.zeroPoint ?? 0) - (-6.1 - 2.5 * Math.log10(2.25e-14))) < 0.002);
  const rate = zeroPointFromHeader(header({ BUNIT: 'DN/s', PIXAR_SR: 2.25e-14, PHOTMJSR: 2 }));
  assert.ok(
    Math.abs((rate?.zeroPoint ?? 0) - ((nircam?.zeroPoint ?? 0) - 2.5 * Math.log10(2))) < 1e-9,
  );
  assert.ok(
    Math.abs((zeroPointFromHeader(header({ BUNIT: 'nJy' }))?.zeroPoint ?? 0) - 31.4) < 0.001,
  );
  assert.equal(zeroPointFromHeader(header({ BUNIT: 'MJy/sr' })), null); // no pixel area: no zero point
  assert.equal(zeroPointFromHeader(header({ BUNIT: 'adu' })), null);
});

test('noise maps: sigma, variance or inverse variance, by EXTNAME, BUNIT or file name; ambiguity is refused', () => {
  assert.equal(noiseMapKind('ERR', null, 'MJy/sr', 'x.fits'), 'sigma');
  assert.equal(noiseMapKind('WHT', null, '', ''), 'inverse-variance');
  assert.equal(noiseMapKind('', header({ BUNIT: 'MJy/sr' }), 'MJy/sr', 'x.fits'), 'sigma');
  assert.equal(noiseMapKind('', header({ BUNIT: '(MJy/sr)**2' }), 'MJy/sr', 'x.fits'), 'variance');
  assert.equal(noiseMapKind('', header({ BUNIT: 'adu2' }), 'adu', 'x.fits'), 'variance');
  assert.equal(noiseMapKind('', null, '', 'science.noise.fits'), 'sigma');
  assert.equal(noiseMapKind('', null, '', 'sci_rms.fits'), 'sigma');
  assert.equal(noiseMapKind('', null, '', 'frame.var.fits'), 'variance');
  assert.equal(noiseMapKind('', null, '', 'frame.weight.fits'), 'inverse-variance');
  assert.equal(noiseMapKind('', null, '', 'frame2.fits'), null);
  const map = (data: number[], cards: Record<string, string | number> = {}) =>
    readFits(
      writeFits([{ data: Float32Array.from(data), width: 2, height: 1, header: header(cards) }]),
    );
  assert.deepEqual(
    Array.from(varianceFromMapFile(map([2, 3]), 'a.noise.fits', 'adu', 2, 1).variance),
    [4, 9],
  );
  assert.deepEqual(
    Array.from(varianceFromMapFile(map([4, 0]), 'b.ivar.fits', 'adu', 2, 1).variance),
    [0.25, Number.NaN],
  );
  assert.throws(
    () => varianceFromMapFile(map([1, 1]), 'c.fits', 'adu', 2, 1),
    /cannot tell whether the noise map holds sigma, variance or inverse variance/,
  );
  assert.throws(
    () => varianceFromMapFile(map([1, 1]), 'd.noise.fits', 'adu', 4, 1),
    /noise map is 2x1, the image 4x1/,
  );
});

test('a JWST-like file: pixels from SCI, variance from ERR (squared), or from VAR_POISSON + VAR_RNOISE', () => {
  const plane = (name: string, value: number) => ({
    name,
    data: new Float32Array(4).fill(value),
    width: 2,
    height: 2,
    header: header({ BUNIT: 'MJy/sr' }),
  });
  const withErr = readExposureWithHeader(
    writeFits([
      { data: null, header: header({ PIXAR_SR: 2.25e-14 }) },
      plane('SCI', 7),
      plane('ERR', 0.5),
      plane('WHT', 100),
    ]),
  );
  assert.equal(withErr.exposure.image.data[0], 7);
  assert.equal(withErr.exposure.variance.data[0], 0.25);
  assert.equal(withErr.varianceOrigin, 'ERR extension');
  assert.equal(withErr.exposure.info.units, 'MJy/sr');
  assert.equal(withErr.exposure.info.zeroPointOrigin, 'BUNIT MJy/sr, PIXAR_SR');
  const parts = varianceFromExtensions(
    readFits(
      writeFits([
        { data: null },
        plane('SCI', 7),
        plane('VAR_POISSON', 0.5),
        plane('VAR_RNOISE', 0.25),
      ]),
    ),
    2,
    2,
  );
  assert.equal(parts?.variance[0], 0.75);
  assert.equal(parts?.origin, 'VAR_POISSON + VAR_RNOISE extensions');
});

test('--mjd, --band and --zero-point override the header; a noise map of the wrong shape is one error naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-meta-'));
  try {
    const image = join(dir, 'image.fits');
    writeFileSync(
      image,
      writeFits([
        {
          data: new Float32Array(4).fill(1),
          width: 2,
          height: 2,
          header: header({ 'MJD-OBS': 60000, FILTER: 'g', PHOTZP: 30 }),
        },
      ]),
    );
    const read = await loadImage(image);
    applyScienceOverrides(read, { mjd: '60001.25', band: "r'", 'zero-point': '27.5' });
    const info = read.exposure.info;
    assert.deepEqual(
      [info.mjd, info.mjdOrigin, info.band, info.zeroPoint, info.zeroPointOrigin],
      [60001.25, '--mjd', 'r', 27.5, '--zero-point'],
    );
    assert.throws(
      () => applyScienceOverrides(read, { mjd: 'soon' }),
      /--mjd must be a number, got 'soon'/,
    );
    const noise = join(dir, 'image.noise.fits');
    writeFileSync(noise, writeFits([{ data: new Float32Array(6).fill(2), width: 3, height: 2 }]));
    await assert.rejects(
      loadImage(image, noise),
      (err: Error) =>
        err.message.startsWith(noise) && /noise map is 3x2, the image 2x2/.test(err.message),
    );
    writeFileSync(noise, writeFits([{ data: new Float32Array(4).fill(2), width: 2, height: 2 }]));
    const withMap = await loadImage(image, noise);
    assert.equal(withMap.exposure.variance.data[0], 4);
    assert.equal(withMap.varianceOrigin, 'image.noise.fits (sigma)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
