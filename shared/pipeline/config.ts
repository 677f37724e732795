/**
 * Configuration of the per-detector pipeline: one block per stage, each the stage's own config
 * with that stage's documented defaults (Rubin's pipe_tasks style: a task config made of
 * subtask configs).
 */
import { createHash } from 'node:crypto';
import {
  DEFAULT_CHARACTERIZE_CONFIG,
  type CharacterizeOverrides,
} from '../characterize/characterize.js';
import { DEFAULT_WARP_CONFIG, type WarpConfig } from '../warp/index.js';
import { DEFAULT_ASTROMETRY_CONFIG, type AstrometryConfig } from '../astrom/register.js';
import { DEFAULT_SUBTRACT_CONFIG, type SubtractConfig } from '../diffim/config.js';
import { DEFAULT_DETECT_CONFIG, type DetectConfig } from '../detect/detect.js';
import { DEFAULT_ASSOCIATION_CONFIG, type AssociationConfig } from '../association/associate.js';
import { DEFAULT_KNOWN_OBJECT_CONFIG } from '../association/known-objects.js';
import { DEFAULT_CUTOUT_CONFIG, type CutoutConfig } from '../alerts/cutouts.js';
import { canonicalJson, deepFreeze } from '../util/freeze.js';
import { PIPELINE_CONFIG_RULES } from './config-rules.js';
import { DEFAULT_LIMITS_CONFIG, type LimitsConfig } from './limits.js';
import { DEFAULT_QUALITY_CONFIG, type QualityConfig } from './quality.js';
import { DEFAULT_CALIBRATION_CONFIG, type CalibrationConfig } from './zero-point.js';

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
  /** Bounds on sizes implied by the headers (pixel scale, footprint, pixels), checked first (./limits.ts). */
  limits: LimitsConfig;
  /** Background, variance, CR/SAT masks and PSF model of each input (shared/characterize). */
  characterize: CharacterizeOverrides;
  /** Science WCS refitted on the template's stars; WCS-less pairs registered by their stars (shared/astrom). */
  astrometry: AstrometryConfig;
  /** Template resampling onto the science grid (shared/warp); `minCoverageFraction` rejects poor overlaps. */
  warp: WarpConfig;
  /** PSF matching and subtraction (shared/diffim); `method` 'auto' follows Rubin's rule. */
  subtract: SubtractConfig;
  /** DIASource detection and measurement on the difference (shared/detect). */
  detect: DetectConfig;
  /** DIASource -> DIAObject matching radius and history window (shared/association). */
  association: AssociationConfig;
  alerts: AlertConfig;
  /** When an image's DIASources are too many or too negative to publish (./quality.ts): the Cloud Function and `ap process` quarantine it. */
  quality: QualityConfig;
  /** Photometric calibration (./zero-point.ts). */
  calibration: CalibrationConfig;
}

/** The built-in defaults, deep-frozen: no caller can change them for another by accident. */
export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = deepFreeze({
  limits: DEFAULT_LIMITS_CONFIG,
  characterize: DEFAULT_CHARACTERIZE_CONFIG,
  astrometry: DEFAULT_ASTROMETRY_CONFIG,
  warp: DEFAULT_WARP_CONFIG,
  subtract: DEFAULT_SUBTRACT_CONFIG,
  detect: DEFAULT_DETECT_CONFIG,
  // Known-object matching spelled out, so that overrides of it are validated and hashed.
  association: { ...DEFAULT_ASSOCIATION_CONFIG, knownObjects: DEFAULT_KNOWN_OBJECT_CONFIG },
  alerts: {
    cutouts: true,
    cutout: DEFAULT_CUTOUT_CONFIG,
    psfCellSize: 512,
    observationReason: null,
    targetName: null,
  },
  quality: DEFAULT_QUALITY_CONFIG,
  calibration: DEFAULT_CALIBRATION_CONFIG,
});

/** Per-block partial overrides of the pipeline config. */
export type PipelineOverrides = { [K in keyof PipelineConfig]?: Partial<PipelineConfig[K]> };

/** An invalid configuration: one line naming where it came from, the setting and the problem. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `defaults` with `override` merged in at every level; unknown settings and wrong types throw. */
function merge(defaults: Tree, override: unknown, path: string, source: string): Tree {
  if (!isTree(override))
    throw new ConfigError(
      `${source}: ${path || 'the configuration'} must be an object, got ${JSON.stringify(override)}`,
    );
  const out: Tree = { ...defaults };
  for (const [key, value] of Object.entries(override)) {
    const at = path ? `${path}.${key}` : key;
    if (!(key in defaults)) throw new ConfigError(`${source}: unknown setting ${at}`);
    const d = defaults[key];
    if (value === undefined) continue;
    if (isTree(d)) out[key] = merge(d, value, at, source);
    else {
      const ok =
        d === null
          ? value === null || typeof value === 'string'
          : Array.isArray(d)
            ? Array.isArray(value) && value.every((x) => typeof x === typeof d[0])
            : typeof value === typeof d &&
              (typeof value !== 'number' || Number.isFinite(value) || Number.isNaN(d));
      if (!ok)
        throw new ConfigError(
          `${source}: ${at} must be ${d === null ? 'a string or null' : Array.isArray(d) ? `a list of ${typeof d[0]}s` : typeof d === 'number' ? 'a finite number' : `a ${typeof d}`}, got ${JSON.stringify(value)}`,
        );
      out[key] = value;
    }
  }
  return out;
}

/** Checks the ranges and relations of PIPELINE_CONFIG_RULES; the first problem throws. */
function checkRules(config: PipelineConfig, source: string): void {
  const at = (path: string): unknown =>
    path.split('.').reduce<unknown>((v, k) => (isTree(v) ? v[k] : undefined), config);
  for (const rule of PIPELINE_CONFIG_RULES) {
    const value = at(rule.path);
    const problem = rule.problem(value, at);
    if (problem)
      throw new ConfigError(`${source}: ${rule.path} ${problem}, got ${JSON.stringify(value)}`);
  }
}

/**
 * `base` (default: the defaults) with `overrides` merged at every level, validated (types, ranges,
 * relations) and deep-frozen; an invalid override throws one ConfigError naming `source` and the setting.
 * @example
 *   const config = pipelineConfig({ subtract: { method: 'zogy' }, detect: { threshold: 5.5 } });
 */
export function pipelineConfig(
  overrides: PipelineOverrides = {},
  source = 'pipeline configuration',
  base: PipelineConfig = DEFAULT_PIPELINE_CONFIG,
): PipelineConfig {
  const config = merge(
    structuredClone(base) as unknown as Tree,
    overrides,
    '',
    source,
  ) as unknown as PipelineConfig;
  checkRules(config, source);
  return deepFreeze(config);
}

/** A configuration override as JSON text (a --config file, the AP_PIPELINE_CONFIG variable); empty text is no override. */
export function pipelineConfigFromJson(text: string, source: string): PipelineConfig {
  if (text.trim() === '') return pipelineConfig({}, source);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid JSON (${(err as Error).message})`);
  }
  return pipelineConfig(parsed as PipelineOverrides, source);
}

/** Length in hex digits of a configuration hash. */
export const CONFIG_HASH_DIGITS = 16;

/** The hash of an effective configuration: SHA-256 of its canonical JSON, first 16 hex digits (APCONFIG, diaSource.configHash). */
export function configHash(config: PipelineConfig): string {
  return createHash('sha256')
    .update(canonicalJson(config))
    .digest('hex')
    .slice(0, CONFIG_HASH_DIGITS);
}
