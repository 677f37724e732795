/**
 * The per-detector Alert Production pipeline (see README.md).
 * @example
 *   import { processDetector, prepareTemplate, pipelineConfig } from '../pipeline/index.js';
 */
export {
  ConfigError,
  DEFAULT_PIPELINE_CONFIG,
  configHash,
  pipelineConfig,
  pipelineConfigFromJson,
  type AlertConfig,
  type PipelineConfig,
  type PipelineOverrides,
} from './config.js';
export { PipelineInputError, type InputRole } from './errors.js';
export { IdentityCollisionError, imageDigest } from './identity.js';
export { DEFAULT_QUALITY_CONFIG, qualityProblem, type QualityConfig } from './quality.js';
export { checkLimits, DEFAULT_LIMITS_CONFIG, wcsProblem, type LimitsConfig } from './limits.js';
export {
  silentLogger,
  stderrJsonLogger,
  type LogEntry,
  type PipelineLogger,
  type Severity,
} from './log.js';
export {
  checkImageData,
  isPrepared,
  prepareScience,
  prepareTemplate,
  type CharacterizedImage,
  type PreparedImage,
} from './preprocess.js';
export { readExposureOrPrepared, readPreparedImage, writePreparedImage } from './prepared-io.js';
export {
  PIPELINE_STAGES,
  mjdTaiOf,
  processDetector,
  type DetectorInputs,
  type DetectorResult,
  type PipelineDeps,
  type PipelineStage,
  type PipelineStats,
} from './process.js';
export type { RealBogusScorer, ScoringImages } from './realbogus.js';
export { resolveZeroPoint, type ZeroPoint, type ZeroPointSource } from './zero-point.js';
export { InsufficientCoverageError } from '../warp/index.js';
