/**
 * Batched real/bogus inference: reliability in [0, 1] (the sigmoid of the network's logit, or its
 * mean over the cutout's 8 symmetries when the model declares that scoring) for raw cutouts, and
 * for DIASources straight from the pipeline's images.
 * @example
 *   const model = await loadShippedModel();
 *   scoreSources(model, records, science, warpedTemplate, difference); // fills record.reliability
 *   alert.diaSource.reliabilityModel = model.version;
 */
import type { DiaSourceRecord } from '../detect/types.js';
import type { Exposure } from '../image/exposure.js';
import { tf } from '../tf/backend.js';
import {
  augmentInto,
  CHANNELS,
  CUTOUT_LENGTH,
  CUTOUT_SIZE,
  cutTriplets,
  normalizeCutouts,
  type CutoutSet,
} from './cutouts.js';
import type { RbModel } from './model.js';
import type { Scoring } from './scoring.js';
import { logits } from './network.js';

/** Cutouts per forward pass. */
export const SCORE_BATCH = 256;

/** The symmetries of the square a scoring averages over (augmentInto's k). */
const SYMMETRIES: Record<Scoring, number> = {
  single: 1,
  'dihedral-probability': 8,
  'dihedral-logit': 8,
};

/** Reliability of each raw cutout (see cutTriplets), in order, normalised as the model was trained. */
export function scoreCutouts(model: RbModel, raw: CutoutSet): Float32Array {
  return scoreNormalized(model, normalizeCutouts(raw, model.input));
}

/** Reliability of already-normalised cutouts (see normalizeCutouts), scored as the model declares. */
export function scoreNormalized(model: RbModel, input: CutoutSet): Float32Array {
  const scoring = model.scoring ?? 'single';
  const symmetries = SYMMETRIES[scoring];
  const byLogit = scoring === 'dihedral-logit';
  const scores = new Float32Array(input.count);
  const turned = new Float32Array(symmetries > 1 ? SCORE_BATCH * CUTOUT_LENGTH : 0);
  const sum = new Float64Array(SCORE_BATCH);
  for (let start = 0; start < input.count; start += SCORE_BATCH) {
    const n = Math.min(SCORE_BATCH, input.count - start);
    sum.fill(0);
    for (let k = 0; k < symmetries; k++) {
      let batch = input.data.subarray(start * CUTOUT_LENGTH, (start + n) * CUTOUT_LENGTH);
      if (k > 0) {
        for (let m = 0; m < n; m++) augmentInto(input.data, start + m, k, turned, m);
        batch = turned.subarray(0, n * CUTOUT_LENGTH);
      }
      const out = tf.tidy(() => {
        const l = logits(
          model.weights,
          tf.tensor4d(batch, [n, CUTOUT_SIZE, CUTOUT_SIZE, CHANNELS]),
        );
        return byLogit ? l : tf.sigmoid(l);
      });
      const values = out.dataSync() as Float32Array;
      out.dispose();
      for (let m = 0; m < n; m++) sum[m] += values[m];
    }
    for (let m = 0; m < n; m++)
      scores[start + m] = byLogit ? 1 / (1 + Math.exp(-sum[m] / symmetries)) : sum[m] / symmetries;
  }
  return scores;
}

/**
 * Scores DIASources: cuts (science, warped template, difference) at each record's (x, y) and
 * sets `record.reliability`. The images share the science pixel grid. Returns the scores.
 */
export function scoreSources(
  model: RbModel,
  records: DiaSourceRecord[],
  science: Exposure,
  template: Exposure,
  difference: Exposure,
): Float32Array {
  const scores = scoreCutouts(model, cutTriplets(records, { science, template, difference }));
  records.forEach((r, i) => (r.reliability = scores[i]));
  return scores;
}
