/**
 * `ap simulate` end to end: the files it writes, read back by our FITS and WCS readers and by
 * astropy; the same pixels and truth as the in-memory simulator; one-line errors on bad options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExposureWithHeader } from '../../shared/fits/index.js';
import { simulateNight } from '../../shared/sim/night.js';
import { truthFromCsv, truthToCsv } from '../../shared/sim/truth.js';
import { simPrediction } from '../../shared/sim/asteroids.js';
import { parseOrbitsCsv } from '../../shared/solar/orbit.js';
import { runPython, skipWithout } from '../helpers/python.js';

const AP = join(import.meta.dirname, '../../bin/ap.js');
const dir = mkdtempSync(join(tmpdir(), 'ap-simulate-'));
const out = join(dir, 'night');

function ap(...args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [AP, 'simulate', ...args], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

const run = ap('--out', out, '--size', '256', '--seed', '9', '--visits', '2');

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('writes template.fits, science-1..K.fits, truth.csv and orbits.csv, and logs a JSON line', () => {
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(readdirSync(out).sort(), [
    'orbits.csv',
    'science-1.fits',
    'science-2.fits',
    'template.fits',
    'truth.csv',
  ]);
  const log = JSON.parse(run.stderr.trim().split('\n').pop() ?? '{}') as {
    severity: string;
    truthRows: number;
  };
  assert.equal(log.severity, 'INFO');
  assert.ok(log.truthRows > 0);
});

test('the files hold the in-memory night: same pixels, header cards, WCS and truth', () => {
  const night = simulateNight({ size: 256, seed: 9, visits: 2 });
  for (const [k, image] of [night.template, ...night.visits].entries()) {
    const name = k === 0 ? 'template' : `science-${k}`;
    const { exposure, header, imageHdu } = readExposureWithHeader(
      readFileSync(join(out, `${name}.fits`)),
      name,
    );
    assert.equal(imageHdu, 'PRIMARY');
    assert.deepEqual(exposure.image.data, image.exposure.image.data);
    for (const key of [
      'GAIN',
      'RDNOISE',
      'SATURATE',
      'MJD-OBS',
      'EXPTIME',
      'FILTER',
      'PHOTZP',
      'VISIT',
      'DETECTOR',
      'INSTRUME',
      'OBSGEO-B',
      'OBSGEO-L',
      'OBSGEO-H',
    ]) {
      assert.ok(header.has(key), `${name} lacks ${key}`);
    }
    assert.equal(header.get('INSTRUME'), 'APSIM');
    assert.equal(exposure.info.visit, k);
    assert.ok(Math.abs(exposure.info.mjd - image.exposure.info.mjd) < 1e-9);
    assert.ok(Math.abs(exposure.info.zeroPoint - image.exposure.info.zeroPoint) < 1e-9);
    assert.equal(exposure.wcs?.kind, 'TAN-SIP');
    const probe = { x: Float64Array.of(0, 128.5, 255), y: Float64Array.of(255, 40, 0) };
    const a = exposure.wcs?.pixelToSky(probe);
    const b = image.exposure.wcs?.pixelToSky(probe);
    for (let i = 0; i < 3; i++) {
      assert.ok(
        Math.abs((a?.ra[i] ?? NaN) - (b?.ra[i] ?? NaN)) < 1e-10 &&
          Math.abs((a?.dec[i] ?? NaN) - (b?.dec[i] ?? NaN)) < 1e-10,
      );
    }
  }
  assert.equal(readFileSync(join(out, 'truth.csv'), 'utf8'), truthToCsv(night.truth));
});

test(
  'astropy reads the images and maps truth.csv sky positions to its pixel positions',
  { skip: skipWithout('astropy') },
  () => {
    const rows = truthFromCsv(readFileSync(join(out, 'truth.csv'), 'utf8')).filter(
      (r) => r.visit === 1 && r.kind !== 'bad_column',
    );
    const positions = join(dir, 'positions.json');
    writeFileSync(positions, JSON.stringify(rows.map((r) => [r.ra, r.dec, r.x, r.y])));
    const script = `
import json, sys, warnings
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS
warnings.simplefilter('ignore')
h = fits.open(sys.argv[1])[0]
w = WCS(h.header)
p = np.array(json.load(open(sys.argv[2])))
xy = w.all_world2pix(p[:, :2], 0, tolerance=1e-8)
print(json.dumps({"shape": list(h.data.shape), "dtype": str(h.data.dtype), "sip": w.sip is not None,
                  "err": float(np.max(np.hypot(xy[:, 0] - p[:, 2], xy[:, 1] - p[:, 3])))}))
`;
    const result = JSON.parse(
      runPython('astropy', script, [join(out, 'science-1.fits'), positions]),
    ) as {
      shape: number[];
      dtype: string;
      sip: boolean;
      err: number;
    };
    assert.deepEqual(result.shape, [256, 256]);
    assert.equal(result.dtype, '>f4', 'big-endian float32 (BITPIX -32)');
    assert.ok(result.sip, 'astropy sees the SIP distortion');
    assert.ok(result.err < 2e-3, `astropy pixel positions differ by ${result.err} px`);
  },
);

test('bad options exit 2 with one clear line', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--size', '256'], /--out/],
    [['--out', out, '--size', 'big'], /--size must be a number/],
    [['--out', out, '--size', '10'], /--size must be an integer in \[64, 16384\]/],
    [['--out', out, '--visits', '0'], /--visits/],
    [['--out', out, '--seed', '1.5'], /--seed/],
    [['--out', out, '--template-seeing', 'great'], /--template-seeing/],
    [['--out', join(out, 'truth.csv')], /truth\.csv: exists and is not a directory/],
    [['--out', out, '--colour', 'red'], /colour/],
  ];
  for (const [args, message] of cases) {
    const r = ap(...args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test("orbits.csv holds each asteroid's orbit, and the orbit puts it where the truth does (to 5 mas)", () => {
  const orbits = parseOrbitsCsv(readFileSync(join(out, 'orbits.csv'), 'utf8'), 'orbits.csv');
  const moving = truthFromCsv(readFileSync(join(out, 'truth.csv'), 'utf8')).filter(
    (r) => r.kind === 'moving',
  );
  assert.ok(moving.length > 0 && orbits.length > 0);
  for (const r of moving) {
    // truth.csv rounds the time to 0.09 s: a few milliarcsec of motion at most.
    const p = simPrediction(orbits[r.id], r.mjd);
    const sepArcsec =
      Math.hypot((p.ra - r.ra) * Math.cos((r.dec * Math.PI) / 180), p.dec - r.dec) * 3600;
    assert.ok(sepArcsec < 5e-3, `asteroid ${r.id}: ${sepArcsec} arcsec`);
  }
});
