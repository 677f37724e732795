/**
 * Batched real/bogus inference: reliability in [0, 1] (the sigmoid of the network's logit) for
 * raw cutouts, and for DIASources straight from the pipeline's images.
 * @example
 *   const model = await loadShippedModel();
 *   scoreSources(model, records, science, warpedTemplate, difference); // fills record.reliability
 *   alert.diaSource.reliabilityModel = model.version;
 */
import type { DiaSourceRecord } from '../detect/types.js';
import type { Exposure } from '../image/exposure.js';
import { tf } from '../tf/backend.js';
import {
  CHANNELS,
  CUTOUT_LENGTH,
  CUTOUT_SIZE,
  cutTriplets,
  normalizeCutouts,
  type CutoutSet,
} from './cutouts.js';
import type { RbModel } from './model.js';
import { logits } from './network.js';

/** Cutouts per forward pass. */
export const SCORE_BATCH = 256;

/** Reliability of each raw cutout (see cutTriplets), in order, normalised as the model was trained. */
export function scoreCutouts(model: RbModel, raw: CutoutSet): Float32Array {
  return scoreNormalized(model, normalizeCutouts(raw, model.input));
}

/** Reliability of already-normalised cutouts (see normalizeCutouts). */
export function scoreNormalized(model: RbModel, input: CutoutSet): Float32Array {
  const scores = new Float32Array(input.count);
  for (let start = 0; start < input.count; start += SCORE_BATCH) {
    const n = Math.min(SCORE_BATCH, input.count - start);
    const batch = input.data.subarray(start * CUTOUT_LENGTH, (start + n) * CUTOUT_LENGTH);
    const out = tf.tidy(() =>
      tf.sigmoid(
        logits(model.weights, tf.tensor4d(batch, [n, CUTOUT_SIZE, CUTOUT_SIZE, CHANNELS])),
      ),
    );
    scores.set(out.dataSync() as Float32Array, start);
    out.dispose();
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
