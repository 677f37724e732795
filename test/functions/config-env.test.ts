/**
 * The deploy-time configuration override: AP_PIPELINE_CONFIG (set from terraform's
 * var.pipeline_config) is merged into each instance's pipeline configuration and hashed, and an
 * invalid one stops the instance as it starts (importing the entry points), with one line naming
 * the variable and the setting, before any event is taken.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configFromEnv, PIPELINE_CONFIG_ENV } from '../../functions/context.js';
import { configHash, pipelineConfig } from '../../shared/pipeline/index.js';
import { evalModule } from '../helpers/eval-module.js';

test('AP_PIPELINE_CONFIG overrides the defaults and sets the hash', () => {
  assert.equal(configFromEnv({}).configHash, configHash(pipelineConfig()));
  const config = configFromEnv({ [PIPELINE_CONFIG_ENV]: '{"detect": {"threshold": 5.5}}' });
  assert.equal(config.pipeline.detect.threshold, 5.5);
  assert.equal(config.configHash, configHash(pipelineConfig({ detect: { threshold: 5.5 } })));
  assert.ok(Object.isFrozen(config.pipeline.detect));
});

test('an invalid AP_PIPELINE_CONFIG stops the instance at start with one line', () => {
  const start = (value: string) =>
    evalModule("await import('./functions/index.ts'); console.log('started');", {
      [PIPELINE_CONFIG_ENV]: value,
    });
  const good = start('{"association": {"radiusArcsec": 0.8}}');
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /started/);
  const bad = start('{"association": {"radiusArcsec": -1}}');
  assert.notEqual(bad.status, 0);
  assert.doesNotMatch(bad.stdout, /started/);
  assert.match(
    bad.stderr,
    /ConfigError: environment AP_PIPELINE_CONFIG: association\.radiusArcsec must be > 0, got -1/,
  );
});
