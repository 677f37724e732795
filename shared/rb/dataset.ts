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
import { subtractImages } from '../diffim/subtract.js';
import type { Exposure } from '../image/exposure.js';
import type { SimConfig } from '../sim/config.js';
import { planNight, renderImage, truthForVisit } from '../sim/night.js';
import { rngStream } from '../sim/random.js';
import type { TruthRow } from '../sim/truth.js';
import { rescaleVarianceToPsfScales, warpExposure } from '../warp/index.js';
import {
  DEFAULT_ARTIFACT_CONFIG,
  injectArtifacts,
  type ArtifactConfig,
  type InjectedArtifact,
} from './artifacts.js';
import { cutTriplets } from './cutouts.js';
import { concatSets, readSet, writeSet, type LabelledSet } from './labelled-set.js';

/** Bump when the generator's output changes, so that caches are rebuilt. */
export const GENERATOR_VERSION = 3;

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

const REAL_KINDS = new Set(['transient', 'variable', 'moving']);

/** Labelled cutouts of every DIASource of one simulated night. */
export async function generateNight(seed: number, config: NightSetConfig): Promise<LabelledSet> {
  const plan = planNight({ ...config.sim, seed });
  const template = renderImage(plan, plan.template).image.exposure;
  const truthTemplate = {
    variance: template.variance.clone(),
    wcs: template.wcs,
    info: template.info,
  };
  characterizeImage(template);
  const sets: LabelledSet[] = [];
  for (const spec of plan.visits) {
    const rendered = renderImage(plan, spec);
    const truth = truthForVisit(plan, spec, rendered, truthTemplate);
    const science = rendered.image.exposure;
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
    sets.push(
      await labelVisit(science, template, truth, injected, config, `${seed}-${spec.visit}`),
    );
  }
  return concatSets(sets);
}

async function labelVisit(
  science: Exposure,
  template: Exposure,
  truth: TruthRow[],
  injected: InjectedArtifact[],
  config: NightSetConfig,
  idPrefix: string,
): Promise<LabelledSet> {
  const warped = await warpExposure(template, science, {});
  rescaleVarianceToPsfScales(warped);
  const diff = await subtractImages(science, warped.exposure, {});
  const { sources } = detectDiaSources(diff.difference, diff.differencePsf, {
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
    raw: cutTriplets(kept, { science, template: warped.exposure, difference: diff.difference }),
    label: Int8Array.from(label),
    snr: Float32Array.from(kept, (s) => s.snr),
    kind,
    id: kept.map((s) => `${idPrefix}-${s.index}`),
  };
}

function labelOf(
  s: { x: number; y: number },
  truth: TruthRow[],
  injected: InjectedArtifact[],
  config: NightSetConfig,
): { label: number; kind: string } | null {
  let nearest: TruthRow | null = null;
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

/** generateNight through the cache: `<CACHE_DIR>/<hash>.{csv,bin}`. */
export async function cachedNight(
  seed: number,
  config: NightSetConfig,
  cacheDir = CACHE_DIR,
): Promise<LabelledSet> {
  const key = createHash('sha256')
    .update(JSON.stringify({ GENERATOR_VERSION, seed, config }))
    .digest('hex')
    .slice(0, 16);
  const prefix = join(cacheDir, `night-${seed}-${key}`);
  if (existsSync(`${prefix}.csv`) && existsSync(`${prefix}.bin`)) return readSet(prefix);
  const set = await generateNight(seed, config);
  mkdirSync(cacheDir, { recursive: true });
  writeSet(prefix, set);
  return set;
}
