/**
 * Image identity (shared/image/identity.ts) as read from FITS headers: id cards, derived visits,
 * CCDNAME detectors, and a bad card refused rather than read as 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FitsError, FitsHeader, readExposure, writeFits } from '../../shared/fits/index.js';
import { DERIVED_VISIT_EPOCH_MJD } from '../../shared/image/identity.js';

function fileWith(cards: Record<string, string | number>, fill = 1): Uint8Array {
  const header = new FitsHeader();
  for (const [k, v] of Object.entries(cards)) header.set(k, v);
  return writeFits([{ data: new Float32Array(16).fill(fill), width: 4, height: 4, header }]);
}

test('visit and detector from VISIT/EXPNUM/EXPID and DETECTOR/CCDNUM, in that order', () => {
  assert.deepEqual(
    pick(readExposure(fileWith({ VISIT: 12, EXPNUM: 99, DETECTOR: 3, CCDNUM: 9 })).info),
    [12, 3, 'header', 'header'],
  );
  assert.deepEqual(pick(readExposure(fileWith({ EXPNUM: 99, CCDNUM: 9 })).info), [
    99,
    9,
    'header',
    'header',
  ]);
  assert.deepEqual(pick(readExposure(fileWith({ EXPID: 7, CCDNAME: 'S29' })).info), [
    7,
    29,
    'header',
    'name',
  ]);
  // DECam: DETECTOR is the CCD's serial, CCDNUM the number.
  assert.deepEqual(
    pick(readExposure(fileWith({ EXPNUM: 8, DETECTOR: 'S3-177_107419-14-1', CCDNUM: 28 })).info),
    [8, 28, 'header', 'header'],
  );
});

test('a VISIT or DETECTOR card that is not a non-negative integer is an error, never 0', () => {
  const cases: Array<Record<string, string | number>> = [
    { VISIT: 'abc' },
    { VISIT: 1.5 },
    { EXPNUM: -3 },
    { DETECTOR: 2.5 },
  ];
  for (const cards of cases) {
    assert.throws(
      () => readExposure(fileWith(cards), 'bad.fits'),
      (e: Error) =>
        e instanceof FitsError &&
        /^bad\.fits: (VISIT|EXPNUM|DETECTOR) = .* is not a non-negative integer id$/.test(
          e.message,
        ),
      JSON.stringify(cards),
    );
  }
});

test('without an id card the visit is the exposure start in minutes since MJD 51544; without a time, a digest of the pixels', () => {
  const start = 61012.5 + 17 / 1440; // 12:17 UTC
  const timed = readExposure(fileWith({ 'MJD-OBS': start, EXPTIME: 30 })).info;
  assert.deepEqual(pick(timed), [
    Math.floor((start - DERIVED_VISIT_EPOCH_MJD) * 1440 + 1e-6),
    0,
    'time',
    'default',
  ]);
  const a = readExposure(fileWith({}, 1)).info;
  const b = readExposure(fileWith({}, 2)).info;
  assert.equal(a.visitSource, 'digest');
  assert.equal(readExposure(fileWith({}, 1)).info.visit, a.visit, 'deterministic');
  assert.notEqual(a.visit, b.visit, 'different pixels, different visit');
  assert.ok(a.visit >= 0 && a.visit < 2 ** 25);
});

function pick(info: {
  visit: number;
  detector: number;
  visitSource?: string;
  detectorSource?: string;
}) {
  return [info.visit, info.detector, info.visitSource, info.detectorSource];
}
