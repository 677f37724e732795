/**
 * Evaluation of a model on a labelled set: ROC over all and over |S/N| >= minSnr sources,
 * purity and completeness at the model's cut, and the accepted fraction of each kind; written
 * as JSON and as PNG plots (shared/plot).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderPlot } from '../plot/png-plot.js';
import type { LabelledSet } from './labelled-set.js';
import { figuresAtCut, rocCurve, type CutFigures } from './metrics.js';
import type { RbModel } from './model.js';
import { scoreCutouts } from './score.js';

export interface KindFigures {
  kind: string;
  label: number;
  count: number;
  /** Fraction with reliability >= the cut. */
  accepted: number;
}

export interface Evaluation {
  modelVersion: string;
  cutouts: number;
  minSnr: number;
  aucAll: number;
  aucAtMinSnr: number;
  atCut: CutFigures;
  /** The same figures over every S/N. */
  atCutAllSnr: CutFigures;
  byKind: KindFigures[];
  /** ROC at |S/N| >= minSnr, thinned to at most 200 points. */
  roc: { fpr: number[]; tpr: number[]; thresholds: number[] };
}

export function evaluateModel(
  model: RbModel,
  set: LabelledSet,
  minSnr = 6,
): { evaluation: Evaluation; scores: Float32Array } {
  const scores = scoreCutouts(model, set.raw);
  const all = rocCurve(scores, set.label, set.snr, 0);
  const roc = rocCurve(scores, set.label, set.snr, minSnr);
  const step = Math.max(1, Math.ceil(roc.fpr.length / 200));
  const keep = roc.fpr.map((_, i) => i).filter((i) => i % step === 0 || i === roc.fpr.length - 1);
  const kinds = new Map<string, { label: number; count: number; accepted: number }>();
  for (let i = 0; i < set.raw.count; i++) {
    if (Math.abs(set.snr[i]) < minSnr) continue;
    const key = `${set.label[i]}:${set.kind[i]}`;
    const k = kinds.get(key) ?? { label: set.label[i], count: 0, accepted: 0 };
    k.count++;
    if (scores[i] >= model.threshold) k.accepted++;
    kinds.set(key, k);
  }
  return {
    scores,
    evaluation: {
      modelVersion: model.version,
      cutouts: set.raw.count,
      minSnr,
      aucAll: all.auc,
      aucAtMinSnr: roc.auc,
      atCut: figuresAtCut(scores, set.label, set.snr, model.threshold, minSnr),
      atCutAllSnr: figuresAtCut(scores, set.label, set.snr, model.threshold, 0),
      byKind: [...kinds].map(([key, k]) => ({
        kind: key.slice(key.indexOf(':') + 1),
        label: k.label,
        count: k.count,
        accepted: k.count ? k.accepted / k.count : 0,
      })),
      roc: {
        fpr: keep.map((i) => roc.fpr[i]),
        tpr: keep.map((i) => roc.tpr[i]),
        thresholds: keep.map((i) => roc.thresholds[i]),
      },
    },
  };
}

/** Writes `<name>.json` and `<name>-roc.png` (ROC at |S/N| >= minSnr, the cut marked) into `dir`. */
export function writeEvaluation(dir: string, name: string, e: Evaluation): void {
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(e, null, 2)}\n`);
  const cut = e.atCut;
  // The plot shows the useful corner; the plotter does not clip, so points outside it are dropped.
  const [fprMax, tprMin] = [0.2, 0.8];
  const shown = e.roc.fpr
    .map((_, i) => i)
    .filter((i) => e.roc.fpr[i] <= fprMax && e.roc.tpr[i] >= tprMin);
  const png = renderPlot(
    [
      {
        x: shown.map((i) => e.roc.fpr[i]),
        y: shown.map((i) => e.roc.tpr[i]),
        style: 'line',
        label: `ROC, S/N >= ${e.minSnr}`,
      },
      {
        x: [cut.falsePositiveRate],
        y: [1 - cut.falseNegativeRate],
        style: 'points',
        label: `cut ${cut.threshold}`,
      },
    ],
    {
      title: `${e.modelVersion} ${name}: AUC ${e.aucAtMinSnr.toFixed(4)}, purity ${(100 * cut.purity).toFixed(1)}%, completeness ${(100 * cut.completeness).toFixed(1)}%`,
      width: 900,
      xLabel: 'false-positive rate',
      yLabel: 'true-positive rate',
      xRange: [0, fprMax],
      yRange: [tprMin, 1],
    },
  );
  writeFileSync(join(dir, `${name}-roc.png`), png);
}
