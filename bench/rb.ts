// Real/bogus benchmark: inference throughput on each TF.js backend, training time per step and
// per epoch, and the shipped model's figures on the held-out simulated night and on the
// independent held-out pairs (shared/rb/independent-pair.ts; regenerated or read from .cache/rb/).
// AP_BENCH_RB_MODEL=DIR measures that model folder instead (e.g. the previous release on today's chain).
import { initTf, tfBackendName, type TfBackend } from '../shared/tf/backend.js';
import { cachedNight, EVALUATION_NIGHT } from '../shared/rb/dataset.js';
import { evaluateModel } from '../shared/rb/evaluate.js';
import { cachedIndependentPair } from '../shared/rb/independent-pair.js';
import { concatSets, subset } from '../shared/rb/labelled-set.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { latestShippedDir, loadModel } from '../shared/rb/model.js';
import { RELEASE_SEEDS, WIDER_SEEDS, type TrainingSummary } from '../shared/rb/release.js';
import { scoreCutouts } from '../shared/rb/score.js';
import { trainNetwork } from '../shared/rb/train.js';

const quiet = (): void => {};

export async function run(): Promise<void> {
  await initTf(undefined, quiet);
  const dir = process.env.AP_BENCH_RB_MODEL ?? latestShippedDir();
  const model = await loadModel(dir);
  const night = await cachedNight(RELEASE_SEEDS.evaluation, EVALUATION_NIGHT);
  console.log(`real/bogus ${model.version}, held-out night: ${night.raw.count} cutouts`);
  for (const backend of ['wasm', 'cpu'] as TfBackend[]) {
    await initTf(backend, quiet);
    const n = backend === 'cpu' ? Math.min(256, night.raw.count) : night.raw.count;
    const probe = subset(
      night,
      Array.from({ length: n }, (_, i) => i),
    );
    scoreCutouts(model, subset(probe, [0]).raw);
    const t0 = performance.now();
    scoreCutouts(model, probe.raw);
    const s = (performance.now() - t0) / 1000;
    console.log(
      `  inference on ${tfBackendName()}: ${(n / s).toFixed(0)} cutouts/s (${n} cutouts, normalisation included)`,
    );
  }
  await initTf('wasm', quiet);
  const trainProbe = subset(
    night,
    Array.from({ length: 640 }, (_, i) => i % night.raw.count),
  );
  const trained = trainNetwork(trainProbe, { epochs: 1, batchSize: 64 });
  const msPerStep = trained.trainMs / trained.steps;
  console.log(
    `  training on wasm: ${msPerStep.toFixed(0)} ms per batch of 64 (${(((msPerStep / 64) * 10000) / 1000).toFixed(0)} s per epoch of 10k cutouts)`,
  );
  const shipped = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as TrainingSummary;
  console.log(
    `  shipped model's training (npm run train-rb): ${(shipped.trainMs / 1000).toFixed(0)} s for ${shipped.trainConfig.epochs} epochs of ${shipped.trainCutouts.total} cutouts on ${shipped.backend}; simulated nights generated or read from .cache/rb in ${(shipped.generateMs / 1000).toFixed(0)} s`,
  );
  const pairs: (typeof night)[] = [];
  for (const seed of WIDER_SEEDS.independent) pairs.push(await cachedIndependentPair(seed));
  for (const [name, set] of [
    [`held-out night ${RELEASE_SEEDS.evaluation}`, night],
    [`independent held-out pairs ${WIDER_SEEDS.independent.join(',')}`, concatSets(pairs)],
  ] as const) {
    const e = evaluateModel(model, set, 6).evaluation;
    const c = e.atCut;
    console.log(
      `  ${name}, |S/N| >= 6, cut ${model.threshold}: purity ${(100 * c.purity).toFixed(2)}% completeness ${(100 * c.completeness).toFixed(2)}% ` +
        `(FPR ${(100 * c.falsePositiveRate).toFixed(2)}%, FNR ${(100 * c.falseNegativeRate).toFixed(2)}%, ${c.real} real, ${c.bogus} bogus), ROC AUC ${e.aucAtMinSnr.toFixed(4)}`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
