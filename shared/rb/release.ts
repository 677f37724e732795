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
  broadNight,
  cachedNight,
  generateNight,
  DEFECT_TRAINING_NIGHT,
  EVALUATION_NIGHT,
  TRAINING_NIGHT,
  VALIDATION_NIGHT,
  widerNight,
  type NightSetConfig,
} from './dataset.js';
import { cachedIndependentPair } from './independent-pair.js';
import { evaluateModel, writeEvaluation, type Evaluation } from './evaluate.js';
import { DEFAULT_FAINT_TRANSIENT_CONFIG } from './faint-transients.js';
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

/** What a training run hands to finishRelease. */
interface TrainedRun {
  train: LabelledSet;
  /** The configuration of the training's default nights (the card quotes it). */
  trainingNight: NightSetConfig;
  validation: LabelledSet;
  trainConfig: TrainConfig;
  trained: { weights: RbModel['weights']; trainMs: number; history: TrainingSummary['history'] };
  /** Time spent generating (or reading) the nights so far, ms. */
  generateMs: number;
}

/**
 * The tail both releases share: the held-out and reproduction nights generated (or read), the cut
 * chosen on the validation set, both nights evaluated, the weights and the held-out and
 * reproduction figures written to `config.outDir`. The caller writes training.json and the card.
 */
async function finishRelease(config: ReleaseConfig, run: TrainedRun): Promise<ReleaseResult> {
  const t0 = performance.now();
  const heldOutSet = await cachedNight(RELEASE_SEEDS.evaluation, EVALUATION_NIGHT);
  const reproductionSet = await generateNight(REPRODUCTION_SEED, REPRODUCTION_NIGHT);
  const generateMs = run.generateMs + performance.now() - t0;
  const model = withChosenCut(
    {
      version: config.version,
      threshold: 0.5,
      weights: run.trained.weights,
      input: run.trainConfig.input,
    },
    run.validation,
    config.minSnr,
  );
  const heldOut = evaluateModel(model, heldOutSet, config.minSnr).evaluation;
  const reproduction = evaluateModel(model, reproductionSet, config.minSnr).evaluation;
  const summary = summarise(config.version, model, { ...run, generateMs });
  saveModel(config.outDir, model);
  writeEvaluation(config.outDir, 'heldout', heldOut);
  writeEvaluation(config.outDir, 'reproduction', reproduction);
  return { model, summary, heldOut, reproduction };
}

/** The model with the cut that maximises min(purity - 98 %, completeness - 97 %) on `validation` (metrics.ts chooseThreshold). */
function withChosenCut(provisional: RbModel, validation: LabelledSet, minSnr: number): RbModel {
  const scores = evaluateModel(provisional, validation, minSnr).scores;
  return {
    ...provisional,
    threshold: chooseThreshold(scores, validation.label, validation.snr, minSnr),
  };
}

export interface ReleaseResult {
  model: RbModel;
  summary: TrainingSummary;
  heldOut: Evaluation;
  reproduction: Evaluation;
}

/** One night of a release: its seed and configuration. */
export interface NightSpec {
  seed: number;
  config: NightSetConfig;
}

/** The nights of `seeds`, each drawn with `config` (or the configuration it gives the seed). */
function specs(
  seeds: number[],
  config: NightSetConfig | ((seed: number) => NightSetConfig),
): NightSpec[] {
  return seeds.map((seed) => ({
    seed,
    config: typeof config === 'function' ? config(seed) : config,
  }));
}

function nights(list: NightSpec[], log: (m: string) => void): Promise<LabelledSet> {
  return list
    .reduce(
      async (acc, { seed, config }) => {
        const sets = await acc;
        const set = await cachedNight(seed, config);
        log(`night ${seed}: ${set.raw.count} cutouts`);
        return [...sets, set];
      },
      Promise.resolve([] as LabelledSet[]),
    )
    .then(concatSets);
}

/**
 * Seeds of the defect-rich and broad nights (no judged night uses them): half the default training
 * seeds (two epochs from converged weights need fewer cutouts than training from scratch, and each
 * night holds three times the unmasked defects) and the broad nights (broadNight).
 */
export const FINE_TUNE_SEEDS = {
  defaultTrain: [1, 2, 3, 4, 5, 6, 7, 8],
  broad: [201, 202, 203, 204],
};

/**
 * The defect-rich and broad nights (`npm run train-rb -- --base DIR --nights defects-broad`): default
 * training nights drawn with more and new unmasked defects (DEFECT_TRAINING_NIGHT) and broad nights,
 * which carry the independent pairs' PSFs. Measured in the seventh session (shared/rb/README.md): the
 * independent pairs gain, night 9002 loses 2-4 bogus at the chosen cut, so no release uses them yet.
 */
export const FINE_TUNE_NIGHTS: NightSpec[] = [
  ...specs(FINE_TUNE_SEEDS.defaultTrain, DEFECT_TRAINING_NIGHT),
  ...specs(FINE_TUNE_SEEDS.broad, broadNight),
];

/**
 * FINE_TUNE_NIGHTS with faint transients (faint-transients.ts, S/N 5-10) beside the defects of their
 * AL-CONVSCI visits, as many as the defects (`--nights defects-broad-faint`): the faint compact real
 * changes those fine-tunings lost on night 9002 on the other side of the boundary the defects draw.
 */
export const FAINT_FINE_TUNE_NIGHTS: NightSpec[] = FINE_TUNE_NIGHTS.map(({ seed, config }) => ({
  seed,
  config: { ...config, faintTransients: DEFAULT_FAINT_TRANSIENT_CONFIG },
}));

/** The default training nights (TRAINING_NIGHT: the default defects) with the same faint transients (`--nights default-faint`). */
export const FAINT_TRAINING_NIGHT: NightSetConfig = {
  ...TRAINING_NIGHT,
  faintTransients: DEFAULT_FAINT_TRANSIENT_CONFIG,
};

/** Which nights a release trains on: the default nights (rb-v1-v5), with faint transients, FINE_TUNE_NIGHTS or FAINT_FINE_TUNE_NIGHTS. */
export type ReleaseNights = 'default' | 'default-faint' | 'defects-broad' | 'defects-broad-faint';

/** Each choice's training nights and the night configuration its card quotes. */
const RELEASE_NIGHT_SETS: Record<ReleaseNights, { train: NightSpec[]; quoted: NightSetConfig }> = {
  default: { train: specs(RELEASE_SEEDS.train, TRAINING_NIGHT), quoted: TRAINING_NIGHT },
  'default-faint': {
    train: specs(RELEASE_SEEDS.train, FAINT_TRAINING_NIGHT),
    quoted: FAINT_TRAINING_NIGHT,
  },
  'defects-broad': { train: FINE_TUNE_NIGHTS, quoted: DEFECT_TRAINING_NIGHT },
  'defects-broad-faint': {
    train: FAINT_FINE_TUNE_NIGHTS,
    quoted: { ...DEFECT_TRAINING_NIGHT, faintTransients: DEFAULT_FAINT_TRANSIENT_CONFIG },
  },
};

/**
 * The default release: trained on the default nights from fresh weights, or, given `base`, from
 * that model's weights with FINE_TUNE_TRAIN_CONFIG (a retraining after an upstream stage changed
 * the DIASources the chain hands the network); `nights` chooses other training nights (ReleaseNights).
 */
export async function trainRelease(
  config: ReleaseConfig & { base?: RbModel; nights?: ReleaseNights },
  log: (m: string) => void,
): Promise<ReleaseResult> {
  const t0 = performance.now();
  const chosen = RELEASE_NIGHT_SETS[config.nights ?? 'default'];
  const trainNights = chosen.train;
  const train = await nights(trainNights, log);
  let generateMs = performance.now() - t0;
  const trainConfig: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    ...(config.base ? FINE_TUNE_TRAIN_CONFIG : {}),
    ...config.train,
  };
  const start = config.base ? `from ${config.base.version}'s weights ` : '';
  log(`training ${start}on ${train.raw.count} cutouts (${tfBackendName()})`);
  const trained = trainNetwork(train, trainConfig, config.base?.weights, (e) =>
    log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)} (${(e.ms / 1000).toFixed(0)} s)`),
  );
  const t1 = performance.now();
  const validation = await nights(specs(RELEASE_SEEDS.validation, VALIDATION_NIGHT), log);
  generateMs += performance.now() - t1;
  const trainingNight = chosen.quoted;
  const run = { train, trainingNight, validation, trainConfig, trained, generateMs };
  const done = await finishRelease(config, run);
  const { summary, heldOut, reproduction } = done;
  if (config.base) summary.base = config.base.version;
  summary.seeds = { ...summary.seeds, train: trainNights.map((n) => n.seed) };
  if (config.nights?.startsWith('defects-broad')) summary.broadSeeds = FINE_TUNE_SEEDS.broad;
  writeFileSync(join(config.outDir, 'training.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeModelCard(config.outDir, summary, heldOut, reproduction);
  return done;
}

/** Seeds of the wider-world fine-tuning (widerNight) and of the independent held-out pairs (independent-pair.ts). */
export const WIDER_SEEDS = {
  train: [101, 102, 103, 104, 105, 106, 107, 108, 109],
  /** Default training nights (TRAINING_NIGHT) the wider fine-tuning sees beside the wider ones, so the default night's purity holds. */
  defaultTrain: [1, 2, 3, 4, 5, 6, 7, 8, 9],
  validation: [110],
  independent: [1, 2, 3, 4, 5, 6],
};

/**
 * The wider-world release's nights: default and wider ones in both the training and the validation
 * (the cut), so that neither world's purity is given up for the other's.
 */
export const WIDEN_NIGHTS: { train: NightSpec[]; validation: NightSpec[] } = {
  train: [
    ...specs(WIDER_SEEDS.defaultTrain, TRAINING_NIGHT),
    ...specs(WIDER_SEEDS.train, widerNight),
  ],
  validation: [
    ...specs(RELEASE_SEEDS.validation, VALIDATION_NIGHT),
    ...specs(WIDER_SEEDS.validation, widerNight),
  ],
};

/**
 * The wider-world release: `base` fine-tuned on default training nights and wider nights
 * (widerNight, through runDiff) together, the cut chosen on the default validation nights and the
 * wider validation night together, then evaluated as trainRelease does plus on the independent held-out pairs, whose
 * figures the base model's are written beside (independent.json, independent-base.json).
 */
export async function widenRelease(
  config: ReleaseConfig & { base: RbModel },
  log: (m: string) => void,
): Promise<ReleaseResult & { independent: Evaluation; independentBase: Evaluation }> {
  const t0 = performance.now();
  const train = await nights(WIDEN_NIGHTS.train, log);
  let generateMs = performance.now() - t0;
  const trainConfig: TrainConfig = {
    ...DEFAULT_TRAIN_CONFIG,
    ...WIDER_TRAIN_CONFIG,
    ...config.train,
  };
  log(`fine-tuning ${config.base.version} on ${train.raw.count} cutouts (${tfBackendName()})`);
  const trained = trainNetwork(train, trainConfig, config.base.weights, (e) =>
    log(`epoch ${e.epoch}: loss ${e.loss.toFixed(4)} (${(e.ms / 1000).toFixed(0)} s)`),
  );
  const t1 = performance.now();
  const validation = await nights(WIDEN_NIGHTS.validation, log);
  const independentSet = concatSets(
    await WIDER_SEEDS.independent.reduce(
      async (acc, seed) => [...(await acc), await cachedIndependentPair(seed)],
      Promise.resolve([] as LabelledSet[]),
    ),
  );
  generateMs += performance.now() - t1;
  const run = {
    train,
    trainingNight: TRAINING_NIGHT,
    validation,
    trainConfig,
    trained,
    generateMs,
  };
  const done = await finishRelease(config, run);
  const { model, summary, heldOut, reproduction } = done;
  const independent = evaluateModel(model, independentSet, config.minSnr).evaluation;
  const independentBase = evaluateModel(config.base, independentSet, config.minSnr).evaluation;
  summary.base = config.base.version;
  summary.seeds = {
    ...RELEASE_SEEDS,
    train: [...WIDER_SEEDS.defaultTrain, ...WIDER_SEEDS.train],
    validation: [...RELEASE_SEEDS.validation, ...WIDER_SEEDS.validation],
  };
  writeFileSync(
    join(config.outDir, 'training.json'),
    `${JSON.stringify({ ...summary, widerSeeds: WIDER_SEEDS, widerNights: WIDER_SEEDS.train.map(widerNight) }, null, 2)}\n`,
  );
  writeEvaluation(config.outDir, 'independent', independent);
  writeEvaluation(config.outDir, 'independent-base', independentBase);
  writeModelCard(config.outDir, summary, heldOut, reproduction, {
    base: config.base.version,
    widerSeeds: WIDER_SEEDS.train,
    independent,
    independentBase,
  });
  return { ...done, independent, independentBase };
}

/**
 * Fine-tuning from the base weights: a lower rate, two epochs of the default and wider nights
 * together (~13k cutouts), fadings shown as often as brightenings (shared/rb/README.md: what the
 * independent pairs lose). No zoom: the wider nights already span FWHM 1.8-8 px, and zoom cost the
 * default nights' purity.
 */
export const WIDER_TRAIN_CONFIG: Partial<TrainConfig> = {
  epochs: 2,
  learningRate: 5e-4,
  timeReversal: 0.5,
};

/**
 * Retraining the shipped model on the default nights after an upstream change (rb-v5 from rb-v4):
 * a lower rate and two epochs from converged weights, and fadings shown as often as brightenings
 * (time reversal kept the default night's figures and raised the independent pairs' completeness,
 * shared/rb/README.md).
 */
export const FINE_TUNE_TRAIN_CONFIG: Partial<TrainConfig> = {
  epochs: 2,
  learningRate: 5e-4,
  timeReversal: 0.5,
};

function summarise(
  version: string,
  model: RbModel,
  { train, trainingNight, validation, trainConfig, trained, generateMs }: TrainedRun,
): TrainingSummary {
  const byKind: Record<string, number> = {};
  train.kind.forEach((k, i) => {
    const key = `${train.label[i] === 1 ? 'real' : 'bogus'}:${k}`;
    byKind[key] = (byKind[key] ?? 0) + 1;
  });
  const real = train.label.filter((l) => l === 1).length;
  return {
    version,
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
      training: trainingNight,
      validation: VALIDATION_NIGHT,
      evaluation: EVALUATION_NIGHT,
      reproduction: { ...REPRODUCTION_NIGHT, seed: REPRODUCTION_SEED },
    },
  };
}
