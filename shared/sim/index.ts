/**
 * The sky simulator: a deep template and K science visits of one detector with the truth of
 * every injected change (see README.md).
 * @example
 *   import { simulateNight } from '../sim/index.js';
 *   const night = simulateNight({ size: 512, seed: 7, visits: 2 });
 */
export {
  DEFAULT_SIM_CONFIG,
  resolveSimConfig,
  type SimConfig,
  type TemplateSeeing,
} from './config.js';
export {
  INSTRUMENT,
  limitingMag,
  planNight,
  renderImage,
  renderImageAsync,
  simulateNight,
  truthForVisit,
  type NightPlan,
  type RenderedImage,
  type SimulatedImage,
  type SimulatedNight,
  type TemplateForTruth,
  type TemplateGrid,
} from './night.js';
export { MoffatPsf, type MoffatField, type MoffatShape } from './moffat.js';
export type { ImageSpec, Streak, Defects } from './plan.js';
export type { SkyField, Galaxy, Transient, VariableStar, MovingObject, StarList } from './field.js';
export {
  expectedSnr,
  truthFromCsv,
  truthToCsv,
  TRUTH_COLUMNS,
  type SnrContext,
  type TruthKind,
  type TruthRow,
} from './truth.js';
export { simulatedImageFits } from './write.js';
export { SkyWorker } from './parallel.js';
