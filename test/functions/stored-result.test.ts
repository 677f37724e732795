/** The stored result of a detector: alert frames and APDB rows come back byte for byte; anything else is refused. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeResult, encodeResult, type StoredResult } from '../../functions/stored-result.js';

const frames = [
  Buffer.from([0, 0, 0, 0, 100, 1, 2, 3]),
  Buffer.alloc(0),
  Buffer.from(Array.from({ length: 70_000 }, (_v, i) => (i * 31) % 256)),
];
const result: StoredResult = {
  key: 'APSIM_g1_0_7',
  batch: {
    visit: 1,
    detector: 7,
    diaSources: [],
    diaObjects: [],
    forcedSources: [],
  } as unknown as StoredResult['batch'],
  alerts: frames.map((frame, i) => ({
    diaSourceId: 1000 + i,
    frame,
    attributes: { band: 'r', snr: String(6 + i) },
  })),
  readoutTime: '2026-11-25T12:00:00.000Z',
};

test('alerts and rows round-trip exactly', () => {
  const back = decodeResult(encodeResult(result));
  assert.deepEqual(
    back.alerts.map((a) => a.frame),
    frames,
  );
  assert.deepEqual(
    { ...back, alerts: back.alerts.map(({ frame: _f, ...rest }) => rest) },
    { ...result, alerts: result.alerts.map(({ frame: _f, ...rest }) => rest) },
  );
});

test('truncated, padded or foreign bytes are refused', () => {
  const bytes = encodeResult(result);
  assert.throws(
    () => decodeResult(bytes.subarray(0, bytes.length - 1)),
    /stored result: \d+ bytes, \d+ expected/,
  );
  assert.throws(
    () => decodeResult(Buffer.concat([bytes, Buffer.from([0])])),
    /stored result: \d+ bytes, \d+ expected/,
  );
  assert.throws(() => decodeResult(Buffer.from('{"key": "x"}')), /not an APRESULT1 file/);
});
