/**
 * The shipped real/bogus model as a RealBogusScorer, or null (with the reason logged) when the
 * model or the rb module is not available, so that the pipeline runs without scoring.
 *
 * shared/rb provides `loadShippedModel()` (model.ts; the newest models/rb/v<N>/) -> a model with
 * `version`, and `scoreSources(model, records, science, template, difference)` (score.ts) filling
 * `reliability`.
 */
import type { DiaSourceRecord } from '../detect/types.js';
import type { Exposure } from '../image/exposure.js';
import { initTf } from '../tf/backend.js';
import type { PipelineLogger } from './log.js';
import type { RealBogusScorer } from './realbogus.js';

interface RbModel {
  version: string;
}

interface RbModules {
  loadShippedModel(): Promise<RbModel>;
  scoreSources(model: RbModel, records: DiaSourceRecord[], science: Exposure, template: Exposure, difference: Exposure): unknown;
}

/** Modules resolved at run time: the stage is optional, and the rb module or its model may be absent. */
const MODEL_MODULE = new URL('../rb/model.js', import.meta.url).href;
const SCORE_MODULE = new URL('../rb/score.js', import.meta.url).href;

async function importRb(): Promise<RbModules> {
  const [model, score] = (await Promise.all([import(MODEL_MODULE), import(SCORE_MODULE)])) as [Partial<RbModules>, Partial<RbModules>];
  const loadShippedModel = model.loadShippedModel;
  const scoreSources = score.scoreSources;
  if (typeof loadShippedModel !== 'function' || typeof scoreSources !== 'function') throw new Error('shared/rb lacks loadShippedModel / scoreSources');
  return { loadShippedModel, scoreSources };
}

export async function loadRealBogus(log: PipelineLogger): Promise<RealBogusScorer | null> {
  let rb: RbModules;
  try {
    rb = await importRb();
  } catch (err) {
    log({ severity: 'WARNING', message: 'real/bogus scoring disabled: the rb module cannot be loaded', reason: (err as Error).message.split('\n')[0] });
    return null;
  }
  let model: RbModel;
  try {
    // The backend is chosen once per process; choosing it here sends its log line through `log`.
    await initTf(undefined, (line) => log({ severity: 'INFO', message: line }));
    model = await rb.loadShippedModel();
  } catch (err) {
    log({ severity: 'WARNING', message: 'real/bogus scoring disabled: no shipped model', reason: (err as Error).message.split('\n')[0] });
    return null;
  }
  return {
    version: model.version,
    async score(records, images) {
      await rb.scoreSources(model, records, images.science, images.template, images.difference);
    },
  };
}
