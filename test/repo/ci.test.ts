/**
 * CI does not skip the independent cross-checks: .ci/run installs python3-astropy/python3-avro or
 * fails, and with AP_REQUIRE_ORACLES=1 a test that needs a missing oracle runs (and fails) instead
 * of skipping.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { evalModule, REPO_ROOT as root } from '../helpers/eval-module.js';

test('a missing oracle skips locally but not where oracles are required', () => {
  const probe = (env: Record<string, string>) =>
    evalModule(
      "const { skipWithout } = await import('./test/helpers/python.ts'); console.log(JSON.stringify(skipWithout('no_such_oracle_module')));",
      env,
    );
  const local = probe({ AP_REQUIRE_ORACLES: '' });
  assert.match(local.stdout, /not found .* skipped/);
  const ci = probe({ AP_REQUIRE_ORACLES: '1' });
  assert.equal(ci.stdout.trim(), 'false');
});

test('.ci/run requires the oracles and fails without them', () => {
  const script = readFileSync(new URL('.ci/run', `file://${root}`), 'utf8');
  assert.match(script, /export AP_REQUIRE_ORACLES=1/);
  assert.match(script, /exit 1/);
  assert.doesNotMatch(script, /will skip/);
  const syntax = spawnSync('bash', ['-n', `${root}.ci/run`]);
  assert.equal(syntax.status, 0);
});
