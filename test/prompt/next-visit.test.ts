import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseNextVisit,
  MessageError,
  MAX_NEXT_VISIT_BYTES,
} from '../../shared/prompt/next-visit.js';
import { parseRawPath, rawPath } from '../../shared/prompt/raw-path.js';
import {
  gridCamera,
  predictDetectorFootprint,
  angularSeparationDeg,
} from '../../shared/prompt/camera.js';

const good = {
  instrument: 'APSIM',
  groupId: '2026-11-25T03:12:00.100',
  nimages: 1,
  filters: 'r',
  coordinateSystem: 2,
  position: [370.5, -30.25],
  rotationSystem: 'SKY',
  cameraAngle: 90,
  survey: 'WIDE',
  duration: 30,
  detectors: [3, 1, 1],
};

test('a Rubin-style NextVisit parses, with enums by name or number and ra wrapped', () => {
  const v = parseNextVisit(JSON.stringify(good));
  assert.equal(v.coordinateSystem, 'ICRS');
  assert.deepEqual(v.position, [10.5, -30.25]);
  assert.deepEqual(v.detectors, [1, 3]);
});

test('malformed notices are rejected with the field named', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['not json', /not JSON/],
    [[1, 2], /not a JSON object/],
    [{ ...good, position: [1] }, /position/],
    [{ ...good, position: [1, 95] }, /position/],
    [{ ...good, coordinateSystem: 'MOUNT' }, /coordinateSystem/],
    [{ ...good, detectors: [] }, /detectors/],
    [{ ...good, groupId: '../etc' }, /groupId/],
    [{ ...good, nimages: 0 }, /nimages/],
    [{ ...good, duration: 'long' }, /duration/],
  ];
  for (const [body, message] of cases) {
    assert.throws(
      () => parseNextVisit(typeof body === 'string' ? body : JSON.stringify(body)),
      (e: Error) => e instanceof MessageError && message.test(e.message),
    );
  }
  assert.throws(() => parseNextVisit('x'.repeat(MAX_NEXT_VISIT_BYTES + 1)), /exceeds/);
});

test('raw object names follow {instrument}/{groupId}/{snap}/{detector}.fits', () => {
  const key = parseRawPath('APSIM/2026-11-25T03:12:00.100/0/17.fits');
  assert.deepEqual(key, {
    instrument: 'APSIM',
    groupId: '2026-11-25T03:12:00.100',
    snap: 0,
    detector: 17,
  });
  assert.equal(rawPath(key), 'APSIM/2026-11-25T03:12:00.100/0/17.fits');
  for (const bad of ['APSIM/g/0/17.png', 'APSIM/0/17.fits', '../x/0/1.fits', 'A/g/x/1.fits'])
    assert.throws(() => parseRawPath(bad), MessageError);
});

test('raw path components: no dots-only groupId, bounded lengths, allowed characters only', () => {
  const long = 'I'.repeat(900);
  for (const bad of [
    'APSIM/../0/61.fits',
    'APSIM/./0/61.fits',
    `${long}/g/0/1.fits`,
    `APSIM/${'g'.repeat(129)}/0/1.fits`,
    'AP SIM/g/0/1.fits',
    'APSIM/g h/0/1.fits',
  ]) {
    assert.throws(() => parseRawPath(bad), MessageError, bad.slice(0, 40));
  }
  assert.equal(parseRawPath(`${'I'.repeat(64)}/${'g'.repeat(128)}/0/1.fits`).groupId.length, 128);
  assert.throws(() => parseNextVisit(JSON.stringify({ ...good, groupId: '..' })), /groupId '\.\.'/);
  assert.throws(() => parseNextVisit(JSON.stringify({ ...good, instrument: long })), /instrument/);
});

test('predicted detector footprints sit at the rotated focal-plane offsets', () => {
  const camera = gridCamera('APSIM', 2048, 2, 0.2);
  const visit = parseNextVisit(JSON.stringify({ ...good, position: [150, 0], cameraAngle: 0 }));
  const pitchDeg = (2048 * 0.2 * 1.05) / 3600;
  const c0 = predictDetectorFootprint(visit, camera, 0);
  const c3 = predictDetectorFootprint(visit, camera, 3);
  // Detectors 0 and 3 are diagonal neighbours: sqrt(2) pitches apart, either side of the boresight.
  assert.ok(
    Math.abs(angularSeparationDeg(...c0.center, ...c3.center) - Math.SQRT2 * pitchDeg) < 1e-6,
  );
  assert.ok(
    Math.abs(angularSeparationDeg(150, 0, ...c0.center) - (Math.SQRT2 * pitchDeg) / 2) < 1e-6,
  );
  assert.ok(c0.center[0] < 150 && c0.center[1] < 0);
  const rotated = predictDetectorFootprint(
    parseNextVisit(JSON.stringify({ ...good, position: [150, 0], cameraAngle: 180 })),
    camera,
    0,
  );
  assert.ok(rotated.center[0] > 150 && rotated.center[1] > 0);
  assert.ok(Math.abs(c0.radiusDeg - (Math.SQRT2 * 1024 * 0.2 + 30) / 3600) < 1e-9);
});
