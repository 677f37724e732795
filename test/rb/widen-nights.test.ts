// The wider-world release's nights (release.ts WIDEN_NIGHTS): default and wider nights in both the
// training and the validation that chooses the cut (a fine-tuning on the wider world alone lost the
// default night's purity, shared/rb/README.md), and none of them a night the figures are quoted on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TRAINING_NIGHT, VALIDATION_NIGHT, widerNight } from '../../shared/rb/dataset.js';
import { RELEASE_SEEDS, REPRODUCTION_SEED, WIDEN_NIGHTS } from '../../shared/rb/release.js';

test('widen trains and chooses its cut on default and wider nights together, never on a night it is judged on', () => {
  const isWider = (n: { seed: number; config: unknown }) =>
    JSON.stringify(n.config) === JSON.stringify(widerNight(n.seed));
  const { train, validation } = WIDEN_NIGHTS;
  assert.ok(
    train.some((n) => n.config === TRAINING_NIGHT),
    'default training nights',
  );
  assert.ok(train.some(isWider), 'wider training nights');
  assert.ok(
    validation.some((n) => n.config === VALIDATION_NIGHT),
    'default validation nights',
  );
  assert.ok(validation.some(isWider), 'a wider validation night');
  assert.ok(
    [...train, ...validation].every(
      (n) => n.config === TRAINING_NIGHT || n.config === VALIDATION_NIGHT || isWider(n),
    ),
  );
  const trainSeeds = new Set(train.map((n) => n.seed));
  for (const seed of [
    ...validation.map((n) => n.seed),
    RELEASE_SEEDS.evaluation,
    REPRODUCTION_SEED,
  ])
    assert.ok(!trainSeeds.has(seed), `seed ${seed} both trains and judges`);
});
