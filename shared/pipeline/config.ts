/**
 * Configuration of the per-detector pipeline: one block per stage, each the stage's own config
 * with that stage's documented defaults (Rubin's pipe_tasks style: a task config made of
 * subtask configs).
 */
import { DEFAULT_CHARACTERIZE_CONFIG, type CharacterizeOverrides } from '../characterize/characterize.js';
import { DEFAULT_WARP_CONFIG, type WarpConfig } from '../warp/index.js';
import { DEFAULT_SUBTRACT_CONFIG, type SubtractConfig } from '../diffim/config.js';
import { DEFAULT_DETECT_CONFIG, type DetectConfig } from '../detect/detect.js';
import { DEFAULT_ASSOCIATION_CONFIG, type AssociationConfig } from '../association/associate.js';
import { DEFAULT_CUTOUT_CONFIG, type CutoutConfig } from '../alerts/cutouts.js';

export interface AlertConfig {
  /** Attach science, template and difference cutouts (FITS) to each alert. Default true. */
  cutouts: boolean;
  cutout: CutoutConfig;
  /**
   * The PSFs written into cutouts are evaluated once per cell of this side, pixels (detect's
   * CachedPsf; PSFs vary over hundreds of pixels), since evaluating a warped or pixel PSF model
   * and its FWHM for each of thousands of cutouts is most of the alert stage's time. 0: exact
   * model at every source. Default 512 (64 cells on a 4k detector, where the FWHM changes by ~1%).
   */
  psfCellSize: number;
  /** Scheduler reason and target name written into every alert (RTN-097), when known. Default null. */
  observationReason: string | null;
  targetName: string | null;
}

export interface PipelineConfig {
  /** Background, variance, CR/SAT masks and PSF model of each input (shared/characterize). */
  characterize: CharacterizeOverrides;
  /** Template resampling onto the science grid (shared/warp); `minCoverageFraction` rejects poor overlaps. */
  warp: WarpConfig;
  /** PSF matching and subtraction (shared/diffim); `method` 'auto' follows Rubin's rule. */
  subtract: SubtractConfig;
  /** DIASource detection and measurement on the difference (shared/detect). */
  detect: DetectConfig;
  /** DIASource -> DIAObject matching radius and history window (shared/association). */
  association: AssociationConfig;
  alerts: AlertConfig;
}

export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = {
  characterize: DEFAULT_CHARACTERIZE_CONFIG,
  warp: { ...DEFAULT_WARP_CONFIG },
  subtract: DEFAULT_SUBTRACT_CONFIG,
  detect: DEFAULT_DETECT_CONFIG,
  association: DEFAULT_ASSOCIATION_CONFIG,
  alerts: { cutouts: true, cutout: DEFAULT_CUTOUT_CONFIG, psfCellSize: 512, observationReason: null, targetName: null },
};

/** Per-block partial overrides of the pipeline config. */
export type PipelineOverrides = { [K in keyof PipelineConfig]?: Partial<PipelineConfig[K]> };

/**
 * The defaults with `overrides` merged block by block.
 * @example
 *   const config = pipelineConfig({ subtract: { method: 'zogy' }, detect: { threshold: 5.5 } });
 */
export function pipelineConfig(overrides: PipelineOverrides = {}): PipelineConfig {
  const d = DEFAULT_PIPELINE_CONFIG;
  return {
    characterize: { ...d.characterize, ...overrides.characterize },
    warp: { ...d.warp, ...overrides.warp },
    subtract: { ...d.subtract, ...overrides.subtract },
    detect: { ...d.detect, ...overrides.detect },
    association: { ...d.association, ...overrides.association },
    alerts: { ...d.alerts, ...overrides.alerts },
  };
}
