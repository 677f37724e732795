// Test-time augmentation: a model that declares a dihedral scoring is scored as the mean over its
// cutouts' 8 rotations and flips, the declaration survives saving, and models that declare nothing
// keep the single pass.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { initTf } from '../../shared/tf/backend.js';
import {
  augmentInto,
  CHANNELS,
  CUTOUT_LENGTH,
  CUTOUT_SIZE,
  type CutoutSet,
} from '../../shared/rb/cutouts.js';
import { loadModel, loadShippedModel, saveModel, type RbModel } from '../../shared/rb/model.js';
import { initialWeights } from '../../shared/rb/network.js';
import { SCORE_BATCH, scoreCutouts } from '../../shared/rb/score.js';
import type { Scoring } from '../../shared/rb/scoring.js';

const quiet = (): void => {};

/**
 * Cutouts that no rotation or flip maps onto themselves: a PSF-like change off the centre towards
 * one corner, a streak along one side of the science and a template gradient, drawn per cutout.
 */
function asymmetric(n: number): CutoutSet {
  let s = 7;
  const rand = (): number => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const data = new Float32Array(n * CUTOUT_LENGTH);
  const c = (CUTOUT_SIZE - 1) / 2;
  for (let m = 0; m < n; m++) {
    const [dx, dy] = [1 + 3 * rand(), 2 + 4 * rand()];
    const flux = 300 + 3000 * rand();
    for (let j = 0; j < CUTOUT_SIZE; j++)
      for (let i = 0; i < CUTOUT_SIZE; i++) {
        const change = flux * Math.exp(-((i - c - dx) ** 2 + (j - c - dy) ** 2) / 10);
        const o = m * CUTOUT_LENGTH + (j * CUTOUT_SIZE + i) * CHANNELS;
        data[o] = change + (i === 40 ? 500 : 0) + 10 * (rand() - 0.5);
        data[o + 1] = 3 * i + j + 10 * (rand() - 0.5);
        data[o + 2] = change + 12 * (rand() - 0.5);
        data[o + 3] = data[o + 2] / 6;
      }
  }
  return { count: n, data };
}

/** The set under symmetry k (augmentInto) of the square. */
function turned(raw: CutoutSet, k: number): CutoutSet {
  const data = new Float32Array(raw.data.length);
  for (let m = 0; m < raw.count; m++) augmentInto(raw.data, m, k, data, m);
  return { count: raw.count, data };
}

test('a dihedral scoring is the mean over the 8 rotations and flips of the single scores (probabilities) or logits', async () => {
  await initTf(undefined, quiet);
  const shipped = await loadShippedModel();
  // More than one forward batch, so that the transforms stay with their cutouts across batches.
  const raw = asymmetric(SCORE_BATCH + 3);
  const single: RbModel = { ...shipped, scoring: 'single' };
  const each = Array.from({ length: 8 }, (_, k) => scoreCutouts(single, turned(raw, k)));
  const logit = (p: number): number => Math.log(p / (1 - p));
  const byProbability = scoreCutouts({ ...shipped, scoring: 'dihedral-probability' }, raw);
  const byLogit = scoreCutouts({ ...shipped, scoring: 'dihedral-logit' }, raw);
  let spread = 0;
  for (let m = 0; m < raw.count; m++) {
    const scores = each.map((e) => e[m]);
    const mean = scores.reduce((a, v) => a + v, 0) / 8;
    const meanLogit = scores.reduce((a, v) => a + logit(v), 0) / 8;
    assert.ok(Math.abs(byProbability[m] - mean) < 1e-5, `cutout ${m}: ${byProbability[m]} ${mean}`);
    const expected = 1 / (1 + Math.exp(-meanLogit));
    assert.ok(Math.abs(byLogit[m] - expected) < 1e-4, `cutout ${m}: ${byLogit[m]} ${expected}`);
    spread = Math.max(spread, Math.abs(byProbability[m] - scores[0]));
  }
  // The network is not invariant to the symmetries, so the mean is not the single pass.
  assert.ok(spread > 0.05, `largest change from the single pass ${spread}`);
  assert.deepEqual(scoreCutouts(shipped, raw), each[0], 'a model declaring nothing: one pass');
});

test('a model records its scoring in the manifest; none recorded reads as the single pass; unknown words are refused', async () => {
  await initTf(undefined, quiet);
  const raw = asymmetric(4);
  const model: RbModel = { version: 'rb-tta', threshold: 0.8, weights: initialWeights(5) };
  for (const scoring of ['dihedral-probability', 'dihedral-logit'] as Scoring[]) {
    const dir = mkdtempSync(join(tmpdir(), 'rb-tta-'));
    saveModel(dir, { ...model, scoring });
    const loaded = await loadModel(dir);
    assert.equal(loaded.scoring, scoring);
    assert.deepEqual(scoreCutouts(loaded, raw), scoreCutouts({ ...model, scoring }, raw));
    rmSync(dir, { recursive: true });
  }
  const dir = mkdtempSync(join(tmpdir(), 'rb-tta-'));
  saveModel(dir, model);
  const manifest = join(dir, 'manifest.json');
  const text = readFileSync(manifest, 'utf8');
  assert.equal((await loadModel(dir)).scoring, 'single');
  writeFileSync(manifest, text.replace(/\n {2}"scoring": "[^"]*",/, ''));
  assert.equal((await loadModel(dir)).scoring, 'single', 'rb-v1-v5 manifests have no scoring');
  writeFileSync(manifest, text.replace(/"scoring": "[^"]*"/, '"scoring": "a vote"'));
  await assert.rejects(loadModel(dir), /scoring 'a vote' is no known scoring/);
  rmSync(dir, { recursive: true });
});
