// Training, saving and fine-tuning on synthetic cutouts: PSF-like changes (real) against single hot pixels (bogus).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { initTf } from '../../shared/tf/backend.js';
import { leastCertain, retrainModel, uncertainSubset } from '../../shared/rb/adapt.js';
import { CHANNELS, CUTOUT_LENGTH, CUTOUT_SIZE } from '../../shared/rb/cutouts.js';
import type { LabelledSet } from '../../shared/rb/labelled-set.js';
import { loadModel, saveModel, type RbModel } from '../../shared/rb/model.js';
import { initialWeights } from '../../shared/rb/network.js';
import { scoreCutouts } from '../../shared/rb/score.js';
import { trainNetwork } from '../../shared/rb/train.js';

function synthetic(n: number, seed: number): LabelledSet {
  let s = seed;
  const rand = (): number => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const gauss = (): number =>
    Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const data = new Float32Array(n * CUTOUT_LENGTH);
  const label = new Int8Array(n);
  const c = (CUTOUT_SIZE - 1) / 2;
  for (let k = 0; k < n; k++) {
    label[k] = k % 2;
    const flux = 200 + 800 * rand();
    const dx = rand() - 0.5;
    const dy = rand() - 0.5;
    for (let j = 0; j < CUTOUT_SIZE; j++) {
      for (let i = 0; i < CUTOUT_SIZE; i++) {
        const signal = label[k]
          ? (flux / (2 * Math.PI * 4)) * Math.exp(-((i - c - dx) ** 2 + (j - c - dy) ** 2) / 8)
          : i === c && j === c
            ? flux / 3
            : 0;
        const o = k * CUTOUT_LENGTH + (j * CUTOUT_SIZE + i) * CHANNELS;
        data[o] = signal + 5 * gauss();
        data[o + 1] = 3 * gauss();
        data[o + 2] = signal + 6 * gauss();
        data[o + 3] = data[o + 2] / 6;
      }
    }
  }
  return {
    raw: { count: n, data },
    label,
    snr: new Float32Array(n).fill(10),
    kind: Array.from(label, (l) => (l ? 'transient' : 'hot')),
    id: Array.from(label, (_, i) => `syn${seed}-${i}`),
  };
}

const accuracy = (scores: Float32Array, set: LabelledSet, cut = 0.5): number =>
  scores.reduce((a, v, i) => a + ((v >= cut ? 1 : 0) === set.label[i] ? 1 : 0), 0) / scores.length;

test('the network learns PSF-like changes from hot pixels, and a saved model scores identically after loading', async () => {
  await initTf(undefined, () => {});
  const train = synthetic(128, 1);
  const check = synthetic(64, 2);
  const before = accuracy(
    scoreCutouts({ version: 't', threshold: 0.5, weights: initialWeights(3) }, check.raw),
    check,
  );
  const result = trainNetwork(train, { epochs: 4, batchSize: 16, seed: 3 });
  assert.equal(result.history.length, 4);
  assert.ok(
    result.history[3].loss < result.history[0].loss,
    `loss ${result.history.map((h) => h.loss.toFixed(3))}`,
  );
  const model: RbModel = { version: 'rb-test', threshold: 0.5, weights: result.weights };
  const scores = scoreCutouts(model, check.raw);
  assert.ok(
    accuracy(scores, check) >= 0.95,
    `accuracy ${accuracy(scores, check)} (untrained ${before})`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'rb-model-'));
  saveModel(dir, model);
  const loaded = await loadModel(dir);
  assert.equal(loaded.version, 'rb-test');
  assert.deepEqual(scoreCutouts(loaded, check.raw), scores);
  assert.equal(loaded.input, 'median', 'a model saved without a normalisation is the median one');

  // A model records its normalisation in the manifest and is scored with it after loading.
  const local: RbModel = { ...model, version: 'rb-test-local', input: 'local-background' };
  const localDir = mkdtempSync(join(tmpdir(), 'rb-model-'));
  saveModel(localDir, local);
  const localLoaded = await loadModel(localDir);
  assert.equal(localLoaded.input, 'local-background');
  assert.deepEqual(scoreCutouts(localLoaded, check.raw), scoreCutouts(local, check.raw));
  assert.notDeepEqual(scoreCutouts(localLoaded, check.raw), scores);
  const manifest = join(localDir, 'manifest.json');
  writeFileSync(
    manifest,
    readFileSync(manifest, 'utf8').replace(/"input": "[^"]*"/, '"input": "something else"'),
  );
  await assert.rejects(loadModel(localDir), /input 'something else' is no known normalisation/);
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(100));
  await assert.rejects(loadModel(dir), /weights\.bin: too short for tensor/);

  // Fine-tuning starts from the given weights; uncertainty sampling ranks by distance to the cut.
  const tuned = retrainModel(model, synthetic(64, 4), {
    version: 'rb-test-tuned',
    holdOutFraction: 0.25,
    minSnr: 6,
    train: { epochs: 1, batchSize: 16 },
  });
  assert.equal(tuned.model.version, 'rb-test-tuned');
  assert.equal(tuned.model.input, 'median', 'retraining keeps the base model normalisation');
  assert.ok(tuned.heldOut && tuned.heldOut.aucAll > 0.95, `held-out AUC ${tuned.heldOut?.aucAll}`);
  const picked = uncertainSubset(tuned.model, check, 5);
  assert.equal(picked.set.raw.count, 5);
  assert.ok(picked.set.label.every((l) => l === -1));
});

test('least certain: nearest the cut first, ties by index', () => {
  assert.deepEqual(leastCertain([0.9, 0.52, 0.1, 0.45, 0.55], 0.5, 3), [1, 3, 4]);
  assert.deepEqual(leastCertain([0.2, 0.8], 0.5, 5), [0, 1]);
});

test('the background-residual augmentation changes the batches only when on', async () => {
  await initTf(undefined, () => {});
  const set = synthetic(32, 5);
  const kernel = (overrides: Parameters<typeof trainNetwork>[1]): Float32Array =>
    trainNetwork(set, { epochs: 1, batchSize: 16, seed: 7, ...overrides })
      .weights.get('conv1/kernel')!
      .dataSync() as Float32Array;
  const plain = kernel({});
  assert.deepEqual(kernel({ skyResidual: 0 }), plain);
  assert.notDeepEqual(kernel({ skyResidual: 0.5 }), plain);
});
