/**
 * The shipped real/bogus model (shared/rb: the newest models/rb/v<N>/) as a RealBogusScorer, or
 * null, with the reason logged, when no model is shipped, so that the pipeline runs unscored.
 */
import { loadShippedModel, type RbModel } from '../rb/model.js';
import { scoreNormalized } from '../rb/score.js';
import { initTf } from '../tf/backend.js';
import { WorkerPool } from '../util/worker-pool.js';
import { networkInputAsync } from './realbogus-input.js';
import type { PipelineLogger } from './log.js';
import type { RealBogusScorer } from './realbogus.js';

export async function loadRealBogus(log: PipelineLogger): Promise<RealBogusScorer | null> {
  // The backend is chosen once per process; choosing it here sends its log line through `log`.
  await initTf(undefined, (line) => log({ severity: 'INFO', message: line }));
  let model: RbModel;
  try {
    model = await loadShippedModel();
  } catch (err) {
    log({
      severity: 'WARNING',
      message: 'real/bogus scoring disabled: no shipped model',
      reason: (err as Error).message.split('\n')[0],
    });
    return null;
  }
  return {
    version: model.version,
    // The cutouts are cut and normalised on the shared pool's worker (realbogus-input.ts), the
    // network runs here: the same scores as scoreSources.
    async score(records, images) {
      const input = await networkInputAsync(records, images, WorkerPool.shared());
      const scores = scoreNormalized(model, input);
      records.forEach((r, i) => (r.reliability = scores[i]));
    },
  };
}
