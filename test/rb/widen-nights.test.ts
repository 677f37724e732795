// The nights of the two fine-tuning recipes (release.ts). WIDEN_NIGHTS: default and wider nights in
// both the training and the validation that chooses the cut (a fine-tuning on the wider world alone
// lost the default night's purity, shared/rb/README.md). FINE_TUNE_NIGHTS: default nights with more
// unmasked defects and broad nights. Neither trains on a night the figures are quoted on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ARTIFACT_CONFIG, TRAINING_ARTIFACT_CONFIG } from '../../shared/rb/artifacts.js';
import {
  broadNight,
  DEFECT_TRAINING_NIGHT,
  EVALUATION_NIGHT,
  TRAINING_NIGHT,
  VALIDATION_NIGHT,
  widerNight,
} from '../../shared/rb/dataset.js';
import {
  FINE_TUNE_NIGHTS,
  FINE_TUNE_SEEDS,
  RELEASE_SEEDS,
  REPRODUCTION_NIGHT,
  REPRODUCTION_SEED,
  WIDEN_NIGHTS,
  WIDER_SEEDS,
} from '../../shared/rb/release.js';

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

test('the fine-tuning trains on defect-rich default nights and broad nights, and no night it is judged on carries the extra defects', () => {
  const seeds = FINE_TUNE_NIGHTS.map((n) => n.seed);
  assert.ok(FINE_TUNE_NIGHTS.some((n) => n.config === DEFECT_TRAINING_NIGHT));
  const broad = FINE_TUNE_NIGHTS.filter((n) => n.config !== DEFECT_TRAINING_NIGHT);
  assert.deepEqual(
    broad.map((n) => n.seed),
    FINE_TUNE_SEEDS.broad,
  );
  for (const { seed, config } of broad) {
    assert.deepEqual(config, broadNight(seed));
    const [f0, f1] = config.sim.fwhmRangePx ?? [0, 0];
    const [b0, b1] = config.sim.moffatBeta ?? [0, 0];
    assert.ok(f0 >= 3.5 && f1 <= 7.5 && b0 >= 1.8 && b1 <= 3.2, `broad night ${seed}`);
  }
  assert.ok(FINE_TUNE_NIGHTS.every((n) => n.config.artifacts === TRAINING_ARTIFACT_CONFIG));
  const judged = [
    ...RELEASE_SEEDS.validation,
    ...WIDER_SEEDS.validation,
    RELEASE_SEEDS.evaluation,
    REPRODUCTION_SEED,
  ];
  for (const seed of judged)
    assert.ok(!seeds.includes(seed), `seed ${seed} both trains and judges`);
  assert.ok(!seeds.some((s) => WIDER_SEEDS.train.includes(s)), 'a seed shared with widerNight');
  for (const night of [EVALUATION_NIGHT, VALIDATION_NIGHT, REPRODUCTION_NIGHT, TRAINING_NIGHT])
    assert.equal(night.artifacts, DEFAULT_ARTIFACT_CONFIG);
  assert.equal(DEFAULT_ARTIFACT_CONFIG.extra, undefined);
});
