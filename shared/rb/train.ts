/**
 * Training of the real/bogus network: Adam (Kingma & Ba 2015) on the sigmoid cross-entropy,
 * balanced batches (half real, half bogus, drawn with replacement, as braai balances its
 * classes), each cutout under a random one of the 8 symmetries of the square, L2 weight decay,
 * and a learning rate dropped tenfold for the last `fineTuneFraction` of the steps.
 * Runs on WASM or CPU: the convolutions' gradients avoid Conv2DBackpropFilter (conv.ts).
 */
import { tf } from '../tf/backend.js';
import { Rng } from '../sim/random.js';
import {
  CHANNELS,
  CUTOUT_LENGTH,
  CUTOUT_SIZE,
  augmentInto,
  normalizeCutouts,
  reverseTimeInPlace,
  zoomInPlace,
  addSkyResidualInPlace,
  type InputNormalization,
} from './cutouts.js';
import type { LabelledSet } from './labelled-set.js';
import { LAYER_SHAPES, initialWeights, logits, type NetworkWeights } from './network.js';

export interface TrainConfig {
  /** Passes over the training set's size (the balanced draw repeats the rarer class). */
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Fraction of the steps at learningRate / 10 at the end. */
  fineTuneFraction: number;
  /** L2 penalty on the kernels (not biases). */
  weightDecay: number;
  /** Augment with rotations by 90 degrees and flips. */
  augment: boolean;
  /** Probability of showing a cutout time-reversed (reverseTimeInPlace): fadings as often as brightenings. */
  timeReversal: number;
  /** Range of the PSF-scale augmentation (zoomInPlace, log-uniform); [1, 1] turns it off. */
  zoom: [number, number];
  /**
   * Background-residual augmentation (addSkyResidualInPlace): half the cutouts get a plane added
   * to their difference whose offset and edge-to-centre change along each axis are normal with
   * this rms, in units of the difference's noise; 0 turns it off.
   */
  skyResidual: number;
  /** How cutouts are normalised (cutouts.ts InputNormalization); the trained model must be scored the same way. */
  input: InputNormalization;
  seed: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 8,
  batchSize: 64,
  learningRate: 2e-3,
  fineTuneFraction: 0.25,
  weightDecay: 1e-4,
  augment: true,
  timeReversal: 0,
  zoom: [1, 1],
  skyResidual: 0,
  input: 'median',
  seed: 1,
};

/** Makes each training run's variable names unique (tf.variable names must be). */
let runCounter = 0;

export interface EpochReport {
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  ms: number;
}

export interface TrainResult {
  weights: NetworkWeights;
  history: EpochReport[];
  steps: number;
  trainMs: number;
}

/**
 * Trains from `init` (fine-tuning, e.g. for a new camera) or from fresh He-normal weights.
 * Only labelled rows (label 0 or 1) are used. `onEpoch` reports progress.
 */
export function trainNetwork(
  set: LabelledSet,
  overrides: Partial<TrainConfig> = {},
  init?: NetworkWeights,
  onEpoch?: (r: EpochReport) => void,
): TrainResult {
  const cfg: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...overrides };
  const input = normalizeCutouts(set.raw, cfg.input).data;
  const real: number[] = [];
  const bogus: number[] = [];
  set.label.forEach((l, i) => (l === 1 ? real : l === 0 ? bogus : null)?.push(i));
  if (real.length === 0 || bogus.length === 0)
    throw new Error(`training needs both classes: ${real.length} real, ${bogus.length} bogus`);
  const start = init ?? initialWeights(cfg.seed);
  const run = ++runCounter;
  const variables = new Map(
    LAYER_SHAPES.map(([name]) => [
      name,
      tf.variable(start.get(name) as tf.Tensor, true, `rb-run${run}/${name}`),
    ]),
  );
  if (!init) for (const t of start.values()) t.dispose();
  const weights: NetworkWeights = variables;
  const rng = new Rng(cfg.seed, 'rb-train');
  const stepsPerEpoch = Math.max(1, Math.ceil((real.length + bogus.length) / cfg.batchSize));
  const steps = cfg.epochs * stepsPerEpoch;
  const fineTuneFrom = Math.floor(steps * (1 - cfg.fineTuneFraction));
  let optimizer = tf.train.adam(cfg.learningRate);
  const batch = new Float32Array(cfg.batchSize * CUTOUT_LENGTH);
  const labels = new Float32Array(cfg.batchSize);
  const scratch = new Float32Array(CUTOUT_LENGTH);
  const one = { count: 1, data: new Float32Array(CUTOUT_LENGTH) };
  const [zoomLo, zoomHi] = cfg.zoom.map(Math.log);
  const history: EpochReport[] = [];
  const t0 = performance.now();
  let epochStart = t0;
  let lossSum = 0;
  for (let step = 0; step < steps; step++) {
    if (step === fineTuneFrom) {
      optimizer.dispose();
      optimizer = tf.train.adam(cfg.learningRate / 10);
    }
    for (let b = 0; b < cfg.batchSize; b++) {
      const isReal = b % 2 === 0;
      const pool = isReal ? real : bogus;
      const n = pool[rng.int(pool.length)];
      const k = cfg.augment ? rng.int(8) : 0;
      if (cfg.skyResidual > 0 && rng.uniform() < 0.5) {
        one.data.set(set.raw.data.subarray(n * CUTOUT_LENGTH, (n + 1) * CUTOUT_LENGTH));
        const [offset, gradX, gradY] = [rng.normal(), rng.normal(), rng.normal()];
        addSkyResidualInPlace(one.data, 0, {
          offset: cfg.skyResidual * offset,
          gradX: cfg.skyResidual * gradX,
          gradY: cfg.skyResidual * gradY,
        });
        augmentInto(normalizeCutouts(one, cfg.input).data, 0, k, batch, b);
      } else augmentInto(input, n, k, batch, b);
      if (cfg.timeReversal > 0 && rng.uniform() < cfg.timeReversal) reverseTimeInPlace(batch, b);
      if (zoomHi > zoomLo) zoomInPlace(batch, b, Math.exp(rng.between(zoomLo, zoomHi)), scratch);
      labels[b] = isReal ? 1 : 0;
    }
    const loss = optimizer.minimize(() => {
      const x = tf.tensor4d(batch, [cfg.batchSize, CUTOUT_SIZE, CUTOUT_SIZE, CHANNELS]);
      const y = tf.tensor2d(labels, [cfg.batchSize, 1]);
      const ce = tf.losses.sigmoidCrossEntropy(y, logits(weights, x, true));
      let l2: tf.Tensor = tf.scalar(0);
      for (const [name, v] of variables)
        if (name.endsWith('/kernel')) l2 = tf.add(l2, tf.sum(tf.square(v)));
      return tf.add(ce, tf.mul(cfg.weightDecay, l2)) as tf.Scalar;
    }, true);
    lossSum += loss ? (loss.dataSync()[0] as number) : Number.NaN;
    loss?.dispose();
    if ((step + 1) % stepsPerEpoch === 0) {
      const now = performance.now();
      const report = {
        epoch: history.length + 1,
        loss: lossSum / stepsPerEpoch,
        ms: now - epochStart,
      };
      history.push(report);
      onEpoch?.(report);
      lossSum = 0;
      epochStart = now;
    }
  }
  optimizer.dispose();
  const trained: NetworkWeights = new Map([...variables].map(([name, v]) => [name, v.clone()]));
  for (const v of variables.values()) v.dispose();
  return { weights: trained, history, steps, trainMs: performance.now() - t0 };
}
