/**
 * The shipped real/bogus model as a RealBogusScorer, or null (with the reason logged) when the
 * model or the rb module is not available, so that the pipeline runs without scoring.
 *
 * The rb module (shared/rb) provides `loadShippedModel()` -> model with `version`, and
 * `scoreSources(model, records, science, template, difference)` filling `reliability`.
 */
import type { DiaSourceRecord } from '../detect/types.js';
import type { Exposure } from '../image/exposure.js';
import type { PipelineLogger } from './log.js';
import type { RealBogusScorer } from './realbogus.js';

interface RbModule {
  loadShippedModel(): Promise<{ version: string }>;
  scoreSources(model: { version: string }, records: DiaSourceRecord[], science: Exposure, template: Exposure, difference: Exposure): Promise<void> | void;
}

function isRbModule(m: unknown): m is RbModule {
  const r = m as Partial<RbModule> | null;
  return typeof r?.loadShippedModel === 'function' && typeof r.scoreSources === 'function';
}

/** Module path resolved at run time: the stage is optional and the rb module may be absent. */
const RB_MODULE = new URL('../rb/index.js', import.meta.url).href;

export async function loadRealBogus(log: PipelineLogger): Promise<RealBogusScorer | null> {
  let rb: unknown;
  try {
    rb = await import(RB_MODULE);
  } catch (err) {
    log({ severity: 'WARNING', message: 'real/bogus scoring disabled: the rb module cannot be loaded', reason: (err as Error).message.split('\n')[0] });
    return null;
  }
  if (!isRbModule(rb)) {
    log({ severity: 'WARNING', message: 'real/bogus scoring disabled: the rb module lacks loadShippedModel / scoreSources' });
    return null;
  }
  let model: { version: string };
  try {
    model = await rb.loadShippedModel();
  } catch (err) {
    log({ severity: 'WARNING', message: 'real/bogus scoring disabled: no shipped model', reason: (err as Error).message.split('\n')[0] });
    return null;
  }
  const module = rb;
  return {
    version: model.version,
    async score(records, images) {
      await module.scoreSources(model, records, images.science, images.template, images.difference);
    },
  };
}
