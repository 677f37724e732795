/**
 * The zero point's last fallback is the configuration's calibration.zeroPoint (a deploy-time
 * setting), validated like every setting; with nothing known the error names every option; the
 * source used is written to the difference header (PHOTZSRC).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipelineConfig, pipelineConfigFromJson } from '../../shared/pipeline/config.js';
import { resolveZeroPoint } from '../../shared/pipeline/zero-point.js';
import { readExposureWithHeader, writeExposure } from '../../shared/fits/index.js';
import { Exposure } from '../../shared/image/exposure.js';

const none = { zeroPoint: Number.NaN };

test('the configured zero point is used only when nothing else gives one', () => {
  const configured = pipelineConfigFromJson('{"calibration": {"zeroPoint": 27.5}}', 'deploy');
  assert.equal(configured.calibration.zeroPoint, 27.5);
  const fallbacks = { configured: configured.calibration.zeroPoint };
  assert.deepEqual(resolveZeroPoint(none, none, 1, fallbacks), {
    zeroPoint: 27.5,
    source: 'configuration',
    origin: 'calibration.zeroPoint',
  });
  // Every other source comes first.
  assert.equal(resolveZeroPoint({ zeroPoint: 31 }, none, 1, fallbacks).zeroPoint, 31);
  assert.equal(
    resolveZeroPoint(none, none, 1, { ...fallbacks, reference: { zeroPoint: 29 } }).source,
    'reference catalog',
  );
  assert.equal(
    resolveZeroPoint(none, { zeroPoint: 30 }, 2, fallbacks).source,
    'template calibration',
  );
  assert.ok(Number.isNaN(pipelineConfig().calibration.zeroPoint), 'none by default');
});

test('calibration.zeroPoint is validated', () => {
  assert.throws(
    () => pipelineConfigFromJson('{"calibration": {"zeroPoint": 99}}', 'deploy'),
    /deploy: calibration.zeroPoint must be an AB magnitude of 1 image unit in \[-10, 50\]/,
  );
  assert.throws(
    () => pipelineConfigFromJson('{"calibration": {"zeroPoint": "27"}}', 'deploy'),
    /calibration.zeroPoint must be a finite number/,
  );
  assert.throws(
    () => pipelineConfigFromJson('{"calibration": {"zeropoint": 27}}', 'deploy'),
    /unknown setting calibration.zeropoint/,
  );
});

test('with no zero point anywhere the error names every option', () => {
  assert.throws(
    () => resolveZeroPoint(none, none, 1, { configured: Number.NaN }),
    (err: Error) => {
      for (const option of [
        'PHOTZP',
        'MAGZERO',
        'MAGZP',
        'PIXAR_SR',
        '--refcat',
        'FITS table',
        '-refcats bucket',
        '--zero-point',
        'calibration.zeroPoint',
        'AP_PIPELINE_CONFIG',
        'template',
      ])
        assert.ok(err.message.includes(option), `names ${option}: ${err.message}`);
      return true;
    },
  );
});

test('the zero point and its source are written to the header (PHOTZP, PHOTZSRC)', () => {
  const exposure = Exposure.blank(8, 8);
  exposure.info = { ...exposure.info, zeroPoint: 27.5, zeroPointOrigin: 'calibration.zeroPoint' };
  const { header } = readExposureWithHeader(writeExposure(exposure));
  assert.equal(header.getNumber('PHOTZP'), 27.5);
  assert.equal(header.getString('PHOTZSRC'), 'calibration.zeroPoint');
});
