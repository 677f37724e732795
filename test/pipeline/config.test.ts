/**
 * The pipeline configuration: defaults deep-frozen, overrides merged at every level and validated
 * (types, ranges, relations) with one line naming the source and the setting, and a hash that
 * changes with any effective setting and not with how the override was written.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ConfigError,
  DEFAULT_PIPELINE_CONFIG,
  configHash,
  pipelineConfig,
  pipelineConfigFromJson,
  type PipelineOverrides,
} from '../../shared/pipeline/index.js';
import { DEFAULT_DETECT_CONFIG } from '../../shared/detect/detect.js';

test('the defaults are deep-frozen and pipelineConfig returns a frozen copy', () => {
  assert.ok(Object.isFrozen(DEFAULT_PIPELINE_CONFIG));
  assert.ok(Object.isFrozen(DEFAULT_PIPELINE_CONFIG.characterize.background));
  assert.ok(Object.isFrozen(DEFAULT_PIPELINE_CONFIG.subtract.basisDegrees));
  assert.ok(
    Object.isFrozen(DEFAULT_DETECT_CONFIG),
    'the stage defaults are the same frozen objects',
  );
  assert.throws(() => {
    (DEFAULT_PIPELINE_CONFIG.detect as { threshold: number }).threshold = 3;
  }, TypeError);
  const config = pipelineConfig({ detect: { threshold: 6 } });
  assert.equal(config.detect.threshold, 6);
  assert.equal(DEFAULT_PIPELINE_CONFIG.detect.threshold, 5);
  assert.ok(Object.isFrozen(config.alerts.cutout));
  assert.notEqual(
    config.characterize,
    DEFAULT_PIPELINE_CONFIG.characterize,
    'no block shared by reference',
  );
});

test('overrides merge at every level', () => {
  const config = pipelineConfigFromJson(
    '{"characterize": {"background": {"meshSize": 64}}, "alerts": {"cutout": {"maxSize": 64}}}',
    'c.json',
  );
  assert.equal(config.characterize.background?.meshSize, 64);
  assert.equal(
    config.characterize.peaks?.thresholdSigma,
    DEFAULT_PIPELINE_CONFIG.characterize.peaks?.thresholdSigma,
  );
  assert.deepEqual(config.alerts.cutout, { minSize: 30, maxSize: 64 });
});

test('bad settings fail with one line naming the source, the setting and the problem', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"detect": {"threshold": -1}}', /^c\.json: detect\.threshold must be > 0, got -1$/],
    [
      '{"detect": {"threshold": "5"}}',
      /^c\.json: detect\.threshold must be a finite number, got "5"$/,
    ],
    ['{"detect": {"treshold": 5}}', /^c\.json: unknown setting detect\.treshold$/],
    [
      '{"subtract": {"kernelSizeMin": 41}}',
      /^c\.json: subtract\.kernelSizeMax must be >= subtract\.kernelSizeMin \(41\), got 35$/,
    ],
    [
      '{"subtract": {"method": "hotpants"}}',
      /^c\.json: subtract\.method must be one of al, al-convsci, auto, zogy/,
    ],
    ['{"subtract": {"fftSize": 500}}', /subtract\.fftSize must be a power of two >= 64, got 500$/],
    [
      '{"alerts": {"cutout": {"minSize": 200}}}',
      /alerts\.cutout\.maxSize must be >= alerts\.cutout\.minSize \(200\)/,
    ],
    [
      '{"warp": {"minCoverageFraction": 1.5}}',
      /warp\.minCoverageFraction must be in \[0, 1\], got 1\.5$/,
    ],
    [
      '{"alerts": {"observationReason": 3}}',
      /alerts\.observationReason must be a string or null, got 3$/,
    ],
    ['{"detect": 5}', /^c\.json: detect must be an object, got 5$/],
    ['[1]', /^c\.json: the configuration must be an object/],
    ['{"detect": ', /^c\.json: not valid JSON/],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => pipelineConfigFromJson(text, 'c.json'),
      (err: Error) => {
        assert.ok(err instanceof ConfigError, text);
        assert.match(err.message, expected);
        assert.ok(!err.message.includes('\n'), 'one line');
        return true;
      },
    );
  }
});

test('the hash follows the effective configuration, not the way it was written', () => {
  const base = configHash(pipelineConfig());
  assert.match(base, /^[0-9a-f]{16}$/);
  assert.equal(configHash(pipelineConfigFromJson('', 'empty')), base);
  assert.equal(
    configHash(pipelineConfig({ detect: { threshold: 5 } })),
    base,
    'a default restated',
  );
  const a = pipelineConfig({ detect: { threshold: 5.5, growSigmas: 2 } } as PipelineOverrides);
  const b = pipelineConfigFromJson('{"detect": {"growSigmas": 2, "threshold": 5.5}}', 'b');
  assert.equal(configHash(a), configHash(b), 'key order does not matter');
  assert.notEqual(configHash(a), base);
  assert.notEqual(
    configHash(pipelineConfig({ warp: { noDataValue: 0 } })),
    base,
    'NaN default vs 0',
  );
});
