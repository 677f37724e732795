/**
 * Real/bogus figures of merit: the ROC curve (true-positive rate against false-positive rate as
 * the reliability cut moves, Fawcett 2006), its area, and purity (precision) and completeness
 * (recall) of the sources above a reliability cut, restricted to |S/N| >= minSnr.
 */
export interface RocCurve {
  /** Cuts, descending; fpr[i], tpr[i] are the rates for reliability >= thresholds[i]. */
  thresholds: number[];
  fpr: number[];
  tpr: number[];
  auc: number;
}

export interface CutFigures {
  threshold: number;
  minSnr: number;
  real: number;
  bogus: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** TP / (TP + FP): fraction of accepted sources that are real. */
  purity: number;
  /** TP / real: fraction of real sources accepted. */
  completeness: number;
  falsePositiveRate: number;
  falseNegativeRate: number;
}

/** Indices with a 0/1 label and |snr| >= minSnr. */
function selected(labels: ArrayLike<number>, snr: ArrayLike<number>, minSnr: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++)
    if ((labels[i] === 0 || labels[i] === 1) && Math.abs(snr[i]) >= minSnr) out.push(i);
  return out;
}

export function rocCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  snr: ArrayLike<number>,
  minSnr = 0,
): RocCurve {
  const idx = selected(labels, snr, minSnr).sort((a, b) => scores[b] - scores[a]);
  const positives = idx.filter((i) => labels[i] === 1).length;
  const negatives = idx.length - positives;
  const curve: RocCurve = { thresholds: [Infinity], fpr: [0], tpr: [0], auc: 0 };
  let tp = 0;
  let fp = 0;
  for (let k = 0; k < idx.length; k++) {
    if (labels[idx[k]] === 1) tp++;
    else fp++;
    if (k + 1 < idx.length && scores[idx[k + 1]] === scores[idx[k]]) continue;
    const fpr = negatives ? fp / negatives : 0;
    const tpr = positives ? tp / positives : 0;
    const last = curve.fpr.length - 1;
    curve.auc += ((fpr - curve.fpr[last]) * (tpr + curve.tpr[last])) / 2;
    curve.thresholds.push(scores[idx[k]]);
    curve.fpr.push(fpr);
    curve.tpr.push(tpr);
  }
  return curve;
}

export function figuresAtCut(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  snr: ArrayLike<number>,
  threshold: number,
  minSnr: number,
): CutFigures {
  let real = 0,
    bogus = 0,
    tp = 0,
    fp = 0;
  for (const i of selected(labels, snr, minSnr)) {
    const accepted = scores[i] >= threshold;
    if (labels[i] === 1) {
      real++;
      if (accepted) tp++;
    } else {
      bogus++;
      if (accepted) fp++;
    }
  }
  return {
    threshold,
    minSnr,
    real,
    bogus,
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: real - tp,
    purity: tp + fp > 0 ? tp / (tp + fp) : Number.NaN,
    completeness: real > 0 ? tp / real : Number.NaN,
    falsePositiveRate: bogus > 0 ? fp / bogus : Number.NaN,
    falseNegativeRate: real > 0 ? (real - tp) / real : Number.NaN,
  };
}

/**
 * The cut that best meets purity and completeness targets together: maximises
 * min(purity - targetPurity, completeness - targetCompleteness) over the candidate cuts.
 */
export function chooseThreshold(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  snr: ArrayLike<number>,
  minSnr: number,
  targetPurity = 0.98,
  targetCompleteness = 0.97,
): number {
  let best = 0.5;
  let bestMargin = -Infinity;
  for (let k = 1; k < 200; k++) {
    const t = k / 200;
    const f = figuresAtCut(scores, labels, snr, t, minSnr);
    const margin = Math.min(
      (Number.isNaN(f.purity) ? 0 : f.purity) - targetPurity,
      f.completeness - targetCompleteness,
    );
    if (margin > bestMargin) [best, bestMargin] = [t, margin];
  }
  return best;
}
