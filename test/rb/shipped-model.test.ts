// The shipped weights: loadable with no download, the same scores on CPU and WASM, and the
// figures of their model card reproduced on the regenerated reproduction night.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { initTf } from '../../shared/tf/backend.js';
import { generateNight } from '../../shared/rb/dataset.js';
import { evaluateModel, type Evaluation } from '../../shared/rb/evaluate.js';
import { subset } from '../../shared/rb/labelled-set.js';
import { latestShippedDir, loadShippedModel } from '../../shared/rb/model.js';
import { REPRODUCTION_NIGHT, REPRODUCTION_SEED } from '../../shared/rb/release.js';
import { scoreCutouts } from '../../shared/rb/score.js';

const quiet = (): void => {};
const night = generateNight(REPRODUCTION_SEED, REPRODUCTION_NIGHT);

test('the shipped model loads from the repository, names its version and is small', async () => {
  const dir = latestShippedDir();
  const model = await loadShippedModel();
  assert.match(model.version, /^rb-v\d+/);
  assert.ok(model.threshold > 0 && model.threshold < 1);
  const bytes = statSync(join(dir, 'weights.bin')).size;
  assert.ok(bytes > 10_000 && bytes < 1_000_000, `weights.bin ${bytes} bytes`);
  assert.match(
    readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8'),
    new RegExp(`# Real/bogus model ${model.version}`),
  );
});

test('fixed cutouts score the same on the CPU and WASM backends to 1e-4', async () => {
  const set = await night;
  const fixed = subset(
    set,
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => i % set.raw.count),
  ).raw;
  await initTf('cpu', quiet);
  const model = await loadShippedModel();
  const cpu = scoreCutouts(model, fixed);
  await initTf('wasm', quiet);
  const wasm = scoreCutouts(model, fixed);
  for (let i = 0; i < cpu.length; i++)
    assert.ok(Math.abs(cpu[i] - wasm[i]) < 1e-4, `cutout ${i}: cpu ${cpu[i]} wasm ${wasm[i]}`);
});

test('the shipped weights reproduce the model card figures on the regenerated reproduction night', async () => {
  await initTf(undefined, quiet);
  const set = await night;
  const model = await loadShippedModel();
  const reported = JSON.parse(
    readFileSync(join(latestShippedDir(), 'reproduction.json'), 'utf8'),
  ) as Evaluation;
  const { evaluation } = evaluateModel(model, set, reported.minSnr);
  const now = evaluation.atCut;
  const then = reported.atCut;
  // Binomial noise of a rate p over n sources; upstream stages may have moved a few detections since training.
  const noise = (p: number, n: number): number =>
    3 * Math.sqrt(Math.max(p * (1 - p), 0.02) / Math.max(n, 1));
  assert.ok(
    Math.abs(now.real - then.real) <= 0.1 * then.real + 3,
    `real ${now.real} vs ${then.real}`,
  );
  assert.ok(
    Math.abs(now.bogus - then.bogus) <= 0.1 * then.bogus + 3,
    `bogus ${now.bogus} vs ${then.bogus}`,
  );
  assert.ok(
    Math.abs(now.purity - then.purity) <=
      noise(then.purity, then.truePositives + then.falsePositives),
    `purity ${now.purity} vs ${then.purity}`,
  );
  assert.ok(
    Math.abs(now.completeness - then.completeness) <= noise(then.completeness, then.real),
    `completeness ${now.completeness} vs ${then.completeness}`,
  );
  assert.ok(
    Math.abs(evaluation.aucAtMinSnr - reported.aucAtMinSnr) <= 0.02,
    `AUC ${evaluation.aucAtMinSnr} vs ${reported.aucAtMinSnr}`,
  );
});
