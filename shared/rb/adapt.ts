/**
 * Domain adaptation and active learning. `retrainModel` fine-tunes a model on labelled cutouts
 * of another camera (the rows not held out), re-chooses the cut on the held-out rows and
 * reports figures there; `leastCertain` picks the cutouts whose reliability is nearest the cut
 * (uncertainty sampling, Lewis & Gale 1994) for people to label next.
 */
import type { Evaluation } from './evaluate.js';
import { evaluateModel } from './evaluate.js';
import { subset, type LabelledSet } from './labelled-set.js';
import { chooseThreshold } from './metrics.js';
import type { RbModel } from './model.js';
import { scoreCutouts } from './score.js';
import { trainNetwork, type TrainConfig } from './train.js';

export interface RetrainConfig {
  version: string;
  /** Fraction of labelled rows held out (by a hash of the id) to choose the cut and report figures. */
  holdOutFraction: number;
  minSnr: number;
  train: Partial<TrainConfig>;
}

export const DEFAULT_RETRAIN_CONFIG: Omit<RetrainConfig, 'version'> = {
  holdOutFraction: 0.2,
  minSnr: 6,
  train: { epochs: 4, learningRate: 5e-4, fineTuneFraction: 0.25 },
};

/** A stable pseudo-random number in [0, 1) from an id (FNV-1a hash). */
function idFraction(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

export interface RetrainResult {
  model: RbModel;
  trainCount: number;
  /** Figures of the retrained model on the held-out rows (null when none are held out). */
  heldOut: Evaluation | null;
  /** The base model's figures on the same rows, for comparison. */
  baseHeldOut: Evaluation | null;
}

export function retrainModel(
  base: RbModel,
  set: LabelledSet,
  config: RetrainConfig,
): RetrainResult {
  const labelled = [...set.label.keys()].filter((i) => set.label[i] >= 0);
  const held = labelled.filter((i) => idFraction(set.id[i]) < config.holdOutFraction);
  const fit = labelled.filter((i) => idFraction(set.id[i]) >= config.holdOutFraction);
  // The base's weights only make sense on cutouts normalised as it was trained.
  const input = base.input ?? 'median';
  const trained = trainNetwork(subset(set, fit), { ...config.train, input }, base.weights);
  let model: RbModel = {
    version: config.version,
    threshold: base.threshold,
    weights: trained.weights,
    input,
  };
  if (held.length === 0) return { model, trainCount: fit.length, heldOut: null, baseHeldOut: null };
  const heldSet = subset(set, held);
  const scores = scoreCutouts(model, heldSet.raw);
  if (heldSet.label.includes(0) && heldSet.label.includes(1)) {
    model = {
      ...model,
      threshold: chooseThreshold(scores, heldSet.label, heldSet.snr, config.minSnr),
    };
  }
  return {
    model,
    trainCount: fit.length,
    heldOut: evaluateModel(model, heldSet, config.minSnr).evaluation,
    baseHeldOut: evaluateModel(base, heldSet, config.minSnr).evaluation,
  };
}

/** Indices of the `count` cutouts whose scores are nearest `threshold`, nearest first. */
export function leastCertain(
  scores: ArrayLike<number>,
  threshold: number,
  count: number,
): number[] {
  return Array.from(scores, (s, i) => [Math.abs(s - threshold), i] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, count)
    .map(([, i]) => i);
}

/** The least certain cutouts of `set` as an unlabelled set (write it with writeSet for labelling). */
export function uncertainSubset(
  model: RbModel,
  set: LabelledSet,
  count: number,
): { set: LabelledSet; scores: number[] } {
  const scores = scoreCutouts(model, set.raw);
  const picked = leastCertain(scores, model.threshold, count);
  const out = subset(set, picked);
  out.label.fill(-1);
  return { set: out, scores: picked.map((i) => scores[i]) };
}
