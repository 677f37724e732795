/**
 * A model release, as `npm run train-rb` makes it: generate (or read from the cache) the
 * training, validation and held-out nights, train, choose the reliability cut on the validation
 * nights, evaluate on the held-out night (never seen in training or in choosing the cut) and
 * on the small reproduction night the tests regenerate, then write the weights, the figures
 * and a model card into a versioned folder (models/rb/v<N>/).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tfBackendName } from '../tf/backend.js';
import {
  cachedNight,
  generateNight,
  EVALUATION_NIGHT,
  TRAINING_NIGHT,
  VALIDATION_NIGHT,
  type NightSetConfig,
} from './dataset.js';
import { evaluateModel, writeEvaluation, type Evaluation } from './evaluate.js';
import { concatSets, type LabelledSet } from './labelled-set.js';
import { chooseThreshold } from './metrics.js';
import { saveModel, type RbModel } from './model.js';
import { parameterCount } from './network.js';
import { DEFAULT_TRAIN_CONFIG, trainNetwork, type TrainConfig } from './train.js';
import { writeModelCard, type ReleaseSeeds, type TrainingSummary } from './model-card.js';

export type { TrainingSummary };

export interface ReleaseConfig {
  /** Model version string, carried by every alert (diaSource.reliabilityModel). */
  version: string;
  outDir: string;
  train: Partial<TrainConfig>;
  /** Figures are quoted for |S/N| >= minSnr. */
  minSnr: number;
}

export const RELEASE_SEEDS: ReleaseSeeds = {
  train: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
  validation: [17, 18],
  evaluation: 9002,
};

/** The small night the tests regenerate to check that the shipped weights reproduce their figures. */
export const REPRODUCTION_NIGHT: NightSetConfig = {
  ...TRAINING_NIGHT,
  sim: { ...TRAINING_NIGHT.sim, size: 512, visits: 2 },
};
export const REPRODUCTION_SEED = 4242;

export interface ReleaseResult {
  model: RbModel;
  summary: TrainingSummary;
  heldOut: Evaluation;
  reproduction: Evaluation;
}

function nights(
  seeds: number[],
  config: NightSetConfig,
  log: (m: string) => void,
): Promise<LabelledSet> {
  return seeds
    .reduce(
      async (acc, seed) => {
        const sets = await acc;
        const set = await cachedNight(seed, config);
        log(`night ${seed}: ${set.raw.count} cutouts`);
        return [...sets, set];
      },
      Promise.resolve([] as LabelledSet[]),
    )
    .then(concatSets);
}

export async function trainRelease(
  config: ReleaseConfig,
  log: (m: string) => void,
): Promise<ReleaseResult> {
  const t0 = performance.now();
  const train = await nights(RELEASE_SEEDS.train, TRAINING_NIGHT, log);
  let generateMs = performance.now() - t0;
  const trainConfig: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...config.train };
  log(`training on ${train.raw.count} cutouts (${tfBackendName()})`);
  const trained = trainNetwork(train, trainConfig, undefined, (e) =>
    log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)} (${(e.ms / 1000).toFixed(0)} s)`),
  );
  const t1 = performance.now();
  const validation = await nights(RELEASE_SEEDS.validation, VALIDATION_NIGHT, log);
  const heldOutSet = await cachedNight(RELEASE_SEEDS.evaluation, EVALUATION_NIGHT);
  const reproductionSet = await generateNight(REPRODUCTION_SEED, REPRODUCTION_NIGHT);
  generateMs += performance.now() - t1;
  const provisional: RbModel = {
    version: config.version,
    threshold: 0.5,
    weights: trained.weights,
  };
  const validationScores = evaluateModel(provisional, validation, config.minSnr).scores;
  const model: RbModel = {
    ...provisional,
    threshold: chooseThreshold(validationScores, validation.label, validation.snr, config.minSnr),
  };
  const heldOut = evaluateModel(model, heldOutSet, config.minSnr).evaluation;
  const reproduction = evaluateModel(model, reproductionSet, config.minSnr).evaluation;
  const byKind: Record<string, number> = {};
  train.kind.forEach((k, i) => {
    const key = `${train.label[i] === 1 ? 'real' : 'bogus'}:${k}`;
    byKind[key] = (byKind[key] ?? 0) + 1;
  });
  const real = train.label.filter((l) => l === 1).length;
  const summary: TrainingSummary = {
    version: config.version,
    backend: tfBackendName(),
    parameters: parameterCount(),
    trainConfig,
    trainCutouts: { total: train.raw.count, real, bogus: train.raw.count - real, byKind },
    validationCutouts: validation.raw.count,
    generateMs,
    trainMs: trained.trainMs,
    history: trained.history,
    threshold: model.threshold,
    seeds: RELEASE_SEEDS,
    nights: {
      training: TRAINING_NIGHT,
      validation: VALIDATION_NIGHT,
      evaluation: EVALUATION_NIGHT,
      reproduction: { ...REPRODUCTION_NIGHT, seed: REPRODUCTION_SEED },
    },
  };
  saveModel(config.outDir, model);
  writeFileSync(join(config.outDir, 'training.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeEvaluation(config.outDir, 'heldout', heldOut);
  writeEvaluation(config.outDir, 'reproduction', reproduction);
  writeModelCard(config.outDir, summary, heldOut, reproduction);
  return { model, summary, heldOut, reproduction };
}
