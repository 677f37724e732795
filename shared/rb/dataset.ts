/**
 * The training-set generator: simulated nights run through the real chain (shared/sim ->
 * characterize -> warp -> subtract -> detect), every DIASource cut into a raw cutout and
 * labelled against the truth:
 * - real: within `realMatchPx` of a transient, variable or moving object whose expected
 *   difference S/N is at least `minRealExpectedSnr` in magnitude;
 * - left out: within `realMatchPx` of a fainter change, or between `realMatchPx` and
 *   `ambiguousPx` of any real change (neither label is sure);
 * - bogus: everything else (kind from the simulator's artifacts or artifacts.ts's, else 'other':
 *   bright-star, saturation and subtraction residuals, noise).
 * Nights are cached under `.cache/rb/` keyed by a hash of their configuration.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { characterizeImage } from '../characterize/characterize.js';
import { DEFAULT_DETECT_CONFIG, detectDiaSources } from '../detect/detect.js';
import type { SubtractMethodChoice } from '../diffim/config.js';
import { runDiff } from '../diffim/pipeline.js';
import { subtractImages, templateIsNarrower } from '../diffim/subtract.js';
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import type { SimConfig } from '../sim/config.js';
import { planNight, renderImage, truthForVisit } from '../sim/night.js';
import { rngStream } from '../sim/random.js';
import { REAL_WORLD_PRESETS } from '../sim/real-world.js';
import type { SnrContext, TruthRow } from '../sim/truth.js';
import { rescaleVarianceToPsfScales, warpExposure } from '../warp/index.js';
import {
  DEFAULT_ARTIFACT_CONFIG,
  TRAINING_ARTIFACT_CONFIG,
  injectArtifacts,
  type ArtifactConfig,
  type InjectedArtifact,
} from './artifacts.js';
import { cutTriplets } from './cutouts.js';
import {
  FAINT_TRANSIENT_KIND,
  injectFaintTransients,
  type FaintTransientConfig,
} from './faint-transients.js';
import { concatSets, readSet, writeSet, type LabelledSet } from './labelled-set.js';

/** Bump when the generator's output changes, so that caches are rebuilt. */
export const GENERATOR_VERSION = 4;

export interface NightSetConfig {
  /** Simulator settings of the night (seed given separately). */
  sim: Partial<SimConfig>;
  /** Artifacts added to every science visit (null: none). */
  artifacts: ArtifactConfig | null;
  /** Detection threshold, sigma. */
  detectThreshold: number;
  realMatchPx: number;
  ambiguousPx: number;
  minRealExpectedSnr: number;
  /**
   * 'pipeline': each visit goes through `ap diff`'s runDiff (astrometric refit, response
   * masking, model-error variance; artifacts injected once the science is characterized) with
   * `method`; absent: characterize, warp and subtract called stage by stage (the nights of rb-v1-v4).
   */
  chain?: 'pipeline';
  method?: SubtractMethodChoice;
  /**
   * Faint real transients (faint-transients.ts) added to each visit whose subtraction will convolve
   * the science (AL-CONVSCI: the template's PSF is not the narrower, subtract.ts templateIsNarrower),
   * as many as its unmasked defects; stage-by-stage chain only. Absent: none (every night before rb-v6).
   */
  faintTransients?: FaintTransientConfig;
}

/** Training nights: 1024 px, 3 visits, more changes and defects than a default night. */
export const TRAINING_NIGHT: NightSetConfig = {
  sim: {
    size: 1024,
    visits: 3,
    transientsPerMegapixel: 120,
    variablesPerMegapixel: 30,
    movingPerMegapixel: 12,
    cosmicRaysPerMegapixel: 150,
    hotPixelsPerMegapixel: 50,
    streakProbability: 0.8,
  },
  artifacts: DEFAULT_ARTIFACT_CONFIG,
  detectThreshold: 5,
  realMatchPx: 1.5,
  ambiguousPx: 3,
  minRealExpectedSnr: 2.5,
};

/** The held-out evaluation night: the simulator's default rates on 2048 px, plus the injected artifacts. */
export const EVALUATION_NIGHT: NightSetConfig = {
  ...TRAINING_NIGHT,
  sim: { size: 2048, visits: 2 },
};

/** Validation nights (to choose the cut): like the evaluation night (default rates), 1024 px, 3 visits, other seeds. */
export const VALIDATION_NIGHT: NightSetConfig = {
  ...EVALUATION_NIGHT,
  sim: { size: 1024, visits: 3 },
};

/**
 * The defect-rich training nights (release.ts FINE_TUNE_NIGHTS): TRAINING_NIGHT with more and new unmasked
 * cosmic rays and hot pixels (TRAINING_ARTIFACT_CONFIG), the defects every fine-tuning let through
 * on night 9002.
 */
export const DEFECT_TRAINING_NIGHT: NightSetConfig = {
  ...TRAINING_NIGHT,
  artifacts: TRAINING_ARTIFACT_CONFIG,
};

/**
 * A broad night (release.ts FINE_TUNE_NIGHTS): DEFECT_TRAINING_NIGHT with the independent pairs' kind of PSF, which no
 * default night draws: science FWHM in [f, f + 2] px for f uniform in 3.5-5.5, Moffat beta in
 * [b, b + 0.4] for b in 1.8-2.8 (strong wings) and a sky gradient of 5-30 %, through the
 * stage-by-stage AL chain (no ZOGY or AL-CONVSCI, whose nights lifted night 9002's defects).
 * Broad nights raised the independent completeness by ~8 points (shared/rb/README.md).
 */
export function broadNight(seed: number): NightSetConfig {
  const rng = rngStream(seed, 'rb-broad-night');
  const fwhm = rng.between(3.5, 5.5);
  const beta = rng.between(1.8, 2.8);
  return {
    ...DEFECT_TRAINING_NIGHT,
    sim: {
      ...DEFECT_TRAINING_NIGHT.sim,
      fwhmRangePx: [fwhm, fwhm + 2],
      moffatBeta: [beta, beta + 0.4],
      skyGradient: rng.between(0.05, 0.3),
    },
  };
}

/**
 * A night of the wider world (rb-v5 on): the training rates on 1024 px, 2 visits, with the
 * optics, camera and sky drawn from the seed far beyond the simulator's defaults (FWHM 1.8-8 px,
 * Moffat beta 1.8-5 so from strong wings to near-Gaussian, ellipticity up to 0.25, 0.15-0.45"/px,
 * sky gradients up to 30 %, more variable stars of smaller amplitudes), one of
 * `ap simulate`'s real-world effects in two nights of three, and the difference method
 * (AL, AL convolving the science, ZOGY, auto) in turn, all through runDiff.
 */
export function widerNight(seed: number): NightSetConfig {
  const rng = rngStream(seed, 'rb-wider-world');
  const fwhm = [rng.between(1.8, 8), rng.between(1.8, 8)].sort((a, b) => a - b);
  const beta = rng.between(1.8, 4);
  const effects = Object.values(REAL_WORLD_PRESETS);
  const effect = rng.uniform() < 2 / 3 ? effects[rng.int(effects.length)] : {};
  const methods: SubtractMethodChoice[] = ['al', 'al-convsci', 'zogy', 'auto'];
  return {
    ...TRAINING_NIGHT,
    sim: {
      ...TRAINING_NIGHT.sim,
      visits: 2,
      fwhmRangePx: [fwhm[0], Math.max(fwhm[1], fwhm[0] + 0.3)],
      moffatBeta: [beta, beta + rng.between(0, 1)],
      psfEllipticity: rng.between(0, 0.25),
      pixelScaleArcsec: rng.between(0.15, 0.45),
      skyAdu: [rng.between(100, 1500), rng.between(1500, 4000)],
      skyGradient: rng.between(0, 0.3),
      variablesPerMegapixel: 60,
      variableAmplitudeMag: [0.05, 0.8],
      ...effect,
    },
    chain: 'pipeline',
    method: methods[seed % methods.length],
  };
}

const REAL_KINDS = new Set(['transient', 'variable', 'moving', FAINT_TRANSIENT_KIND]);

/** Labelled cutouts of every DIASource of one simulated night. */
export async function generateNight(seed: number, config: NightSetConfig): Promise<LabelledSet> {
  const plan = planNight({ ...config.sim, seed });
  const template = renderImage(plan, plan.template).image.exposure;
  const truthTemplate = {
    variance: template.variance.clone(),
    wcs: template.wcs,
    info: template.info,
  };
  if (config.chain === 'pipeline') return pipelineNight(seed, config, plan, truthTemplate);
  const templatePsf = characterizeImage(template).psf.psf;
  const sets: LabelledSet[] = [];
  for (const spec of plan.visits) {
    const rendered = renderImage(plan, spec);
    const truth: ChangeTruth[] = truthForVisit(plan, spec, rendered, truthTemplate);
    const science = rendered.image.exposure;
    const snr: SnrContext = {
      sciencePsf: spec.psf,
      scienceVariance: science.variance.clone(),
      scienceWcs: spec.wcs,
      templateVariance: truthTemplate.variance,
      templateWcs: plan.template.wcs,
      templateScale: Math.pow(10, 0.4 * (spec.zeroPoint - plan.template.zeroPoint)),
    };
    const characterized = characterizeImage(science);
    const real = truth.filter((t) => REAL_KINDS.has(t.kind));
    const injected = config.artifacts
      ? injectArtifacts(
          science,
          characterized.sources.filter((s) => s.snr > 50),
          real,
          rngStream(seed, `rb-artifacts-${spec.visit}`),
          config.artifacts,
        )
      : [];
    const convolvesScience = !templateIsNarrower(
      characterized.psf.psf,
      templatePsf,
      science.width,
      science.height,
    );
    if (config.faintTransients && convolvesScience)
      truth.push(
        ...injectFaintTransients(
          science,
          snr,
          real,
          injected,
          rngStream(seed, `rb-faint-${spec.visit}`),
          config.faintTransients,
        ),
      );
    sets.push(
      await labelVisit(science, template, truth, injected, config, `${seed}-${spec.visit}`),
    );
  }
  return concatSets(sets);
}

/** generateNight through runDiff, as `ap diff` and `ap process` run a pair (a fresh template per visit: runDiff characterizes it in place). */
async function pipelineNight(
  seed: number,
  config: NightSetConfig,
  plan: ReturnType<typeof planNight>,
  truthTemplate: Parameters<typeof truthForVisit>[3],
): Promise<LabelledSet> {
  const sets: LabelledSet[] = [];
  for (const spec of plan.visits) {
    const rendered = renderImage(plan, spec);
    const truth = truthForVisit(plan, spec, rendered, truthTemplate);
    const science = rendered.image.exposure;
    const real = truth.filter((t) => REAL_KINDS.has(t.kind));
    let injected: InjectedArtifact[] = [];
    const r = await runDiff(
      science,
      renderImage(plan, plan.template).image.exposure,
      { subtract: config.method ? { method: config.method } : {} },
      {
        onCharacterized: (role, c) => {
          if (role !== 'science' || !config.artifacts) return;
          injected = injectArtifacts(
            science,
            c.sources.filter((s) => s.snr > 50),
            real,
            rngStream(seed, `rb-artifacts-${spec.visit}`),
            config.artifacts,
          );
        },
      },
    );
    sets.push(
      labelDetections(
        science,
        r.warpedTemplate,
        r.difference,
        r.differencePsf,
        truth,
        injected,
        config,
        `${seed}-${spec.visit}`,
      ),
    );
  }
  return concatSets(sets);
}

async function labelVisit(
  science: Exposure,
  template: Exposure,
  truth: readonly ChangeTruth[],
  injected: InjectedArtifact[],
  config: NightSetConfig,
  idPrefix: string,
): Promise<LabelledSet> {
  const warped = await warpExposure(template, science, {});
  rescaleVarianceToPsfScales(warped);
  const diff = await subtractImages(science, warped.exposure, {});
  return labelDetections(
    science,
    warped.exposure,
    diff.difference,
    diff.differencePsf,
    truth,
    injected,
    config,
    idPrefix,
  );
}

/** Every DIASource of a difference, cut and labelled against the truth. */
export function labelDetections(
  science: Exposure,
  warpedTemplate: Exposure,
  difference: Exposure,
  differencePsf: Psf,
  truth: readonly ChangeTruth[],
  injected: InjectedArtifact[],
  config: Pick<
    NightSetConfig,
    'detectThreshold' | 'realMatchPx' | 'ambiguousPx' | 'minRealExpectedSnr'
  >,
  idPrefix: string,
): LabelledSet {
  const { sources } = detectDiaSources(difference, differencePsf, {
    ...DEFAULT_DETECT_CONFIG,
    threshold: config.detectThreshold,
    skySources: 0,
  });
  const keep: number[] = [];
  const label: number[] = [];
  const kind: string[] = [];
  sources.forEach((s, i) => {
    const l = labelOf(s, truth, injected, config);
    if (!l) return;
    keep.push(i);
    label.push(l.label);
    kind.push(l.kind);
  });
  const kept = keep.map((i) => sources[i]);
  return {
    raw: cutTriplets(kept, { science, template: warpedTemplate, difference }),
    label: Int8Array.from(label),
    snr: Float32Array.from(kept, (s) => s.snr),
    kind,
    id: kept.map((s) => `${idPrefix}-${s.index}`),
  };
}

/** What labelling needs of a truth row (a simulator's TruthRow or another generator's). */
export type ChangeTruth = Pick<TruthRow, 'x' | 'y' | 'expectedSnr'> & { kind: string };

/** The label and kind of a DIASource at (x, y), or null when neither label is sure (see the module comment). */
export function labelOf(
  s: { x: number; y: number },
  truth: readonly ChangeTruth[],
  injected: InjectedArtifact[],
  config: Pick<NightSetConfig, 'realMatchPx' | 'ambiguousPx' | 'minRealExpectedSnr'>,
): { label: number; kind: string } | null {
  let nearest: ChangeTruth | null = null;
  let best = Infinity;
  for (const t of truth) {
    if (!REAL_KINDS.has(t.kind)) continue;
    const d = Math.hypot(t.x - s.x, t.y - s.y);
    if (d < best) [best, nearest] = [d, t];
  }
  if (nearest && best <= config.realMatchPx) {
    return Math.abs(nearest.expectedSnr) >= config.minRealExpectedSnr
      ? { label: 1, kind: nearest.kind }
      : null;
  }
  if (best <= config.ambiguousPx) return null;
  const artifact = injected.find((a) => Math.hypot(a.x - s.x, a.y - s.y) <= a.radius);
  if (artifact) return { label: 0, kind: artifact.kind };
  const simArtifact = truth.find(
    (t) => !REAL_KINDS.has(t.kind) && Math.hypot(t.x - s.x, t.y - s.y) <= 3,
  );
  return { label: 0, kind: simArtifact ? simArtifact.kind : 'other' };
}

/** The cache folder of generated nights (gitignored). */
export const CACHE_DIR = join(process.cwd(), '.cache', 'rb');

/** generateNight through the cache: `<CACHE_DIR>/night-<seed>-<hash>.{csv,bin}`. */
export function cachedNight(
  seed: number,
  config: NightSetConfig,
  cacheDir = CACHE_DIR,
): Promise<LabelledSet> {
  return cachedSet(`night-${seed}`, { seed, config }, () => generateNight(seed, config), cacheDir);
}

/** A labelled set made by `make`, cached as `<cacheDir>/<name>-<hash of key and GENERATOR_VERSION>.{csv,bin}`. */
export async function cachedSet(
  name: string,
  key: unknown,
  make: () => Promise<LabelledSet>,
  cacheDir = CACHE_DIR,
): Promise<LabelledSet> {
  const hash = createHash('sha256')
    .update(JSON.stringify({ GENERATOR_VERSION, ...(key as object) }))
    .digest('hex')
    .slice(0, 16);
  const prefix = join(cacheDir, `${name}-${hash}`);
  if (existsSync(`${prefix}.csv`) && existsSync(`${prefix}.bin`)) return readSet(prefix);
  const set = await make();
  mkdirSync(cacheDir, { recursive: true });
  writeSet(prefix, set);
  return set;
}
