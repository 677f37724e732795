/**
 * runDiff: the whole `ap diff` task as timed stages: (1) characterize both images at once, the
 * science on a pool worker and the template here (shared/characterize: background subtracted,
 * variance, CR masks, PSF model), (2) warp the template onto the science grid (shared/warp,
 * Lanczos-3) as soon as the template is done, then subtractImages' stages
 * (3) choose the method, (4) select kernel candidates, (5) fit the kernel, (6) convolve and
 * subtract, (7) decorrelate, (8) build the output.
 * @example
 *   const r = await runDiff(readExposure(sciBytes), readExposure(tmplBytes), { subtract: { method: 'auto' } });
 *   writeFileSync('diff.fits', diffToFits(r));
 */
import type { Exposure } from '../image/exposure.js';
import { characterizeImage, type CharacterizeOverrides } from '../characterize/characterize.js';
import { characterizeImageAsync } from '../characterize/characterize-async.js';
import { characterizeNoiseCorrelation } from '../characterize/noise-correlation-estimate.js';
import { rescaleVarianceToPsfScales } from '../warp/index.js';
import {
  registerPair,
  DEFAULT_ASTROMETRY_CONFIG,
  type AstrometryConfig,
  type AstrometryResult,
} from '../astrom/register.js';
import { findSources, fromCandidates } from '../astrom/sources.js';
import { warpRegistered } from '../astrom/warp-registered.js';
import {
  characterizeOverridesFor,
  DEFAULT_ILLUMINATION_CONFIG,
  fineSky,
  hasSkyPedestal,
  mapOntoScience,
  maskResponseMismatch,
} from './illumination.js';
import { applyModelError, type ModelError } from './model-error.js';
import type { WarpConfig } from '../warp/config.js';
import { writeExposure } from '../fits/exposure.js';
import { FitsHeader } from '../fits/header.js';
import { DEFAULT_SUBTRACT_CONFIG, type SubtractConfig } from './config.js';
import { WorkerPool } from '../util/worker-pool.js';
import { readFits } from '../fits/read.js';
import { diffPsfToHdu, readDiffPsf, type GridPsf } from './psf-grid.js';
import {
  normalisedNoise,
  subtractImages,
  type SubtractResult,
  type SubtractStage,
} from './subtract.js';

export interface DiffConfig {
  /** Characterize the inputs (default true); false keeps their PSFs and pixels as given (backgrounds already removed). */
  characterize: boolean;
  characterizeOverrides: CharacterizeOverrides;
  /** The science WCS refitted on the template's stars, WCS-less pairs registered by their stars (shared/astrom). */
  astrometry: Partial<AstrometryConfig>;
  warp: Partial<WarpConfig>;
  subtract: Partial<SubtractConfig>;
  /** 1: everything on the calling thread; else the shared WorkerPool (one thread per core, AP_THREADS). */
  threads: number;
}

export const DEFAULT_DIFF_CONFIG: DiffConfig = {
  characterize: true,
  characterizeOverrides: {},
  astrometry: DEFAULT_ASTROMETRY_CONFIG,
  warp: {},
  subtract: {},
  threads: 0,
};

export type DiffStage = 'characterizeScience' | 'characterizeTemplate' | 'warp' | SubtractStage;

export interface DiffResult extends SubtractResult {
  /** Fraction of the science grid the warped template covers. */
  coverageFraction: number;
  /** Warp's variance correlation factor (1: no resampling). */
  covarianceFactor: number;
  /** The characterized template on the science grid, as subtracted (for previews and cutouts). */
  warpedTemplate: Exposure;
  /** How the pair was registered (the ASTR* header cards). */
  astrometry: AstrometryResult;
  /** Fraction of the science masked NO_DATA because the two images' responses differ there (illumination.ts). */
  responseMaskedFraction: number;
  /** The model error whose variance was added to the difference's (the MODERRF and MODERRA cards). */
  modelError: ModelError;
  /**
   * Wall time of each stage, ms, adding up to `total`: the stages overlap (characterizeScience runs on a worker from the
   * start), so each one counts from the previous stage's end to its own: characterizeTemplate, then the rest of
   * characterizeScience, then the rest of the warp, then the subtraction's stages.
   */
  timingsMs: Record<DiffStage, number>;
}

/** `onStage` is called as each stage ends (benchmarks sample memory there). */
export async function runDiff(
  science: Exposure,
  template: Exposure,
  overrides: Partial<DiffConfig> = {},
  onStage?: (stage: DiffStage) => void,
): Promise<DiffResult> {
  const cfg: DiffConfig = { ...DEFAULT_DIFF_CONFIG, ...overrides };
  // Started first, so the workers are ready by the tiled stages.
  const pool = cfg.threads === 1 ? null : WorkerPool.shared();
  const start = performance.now();
  let t = start;
  const lap = (): number => {
    const now = performance.now();
    const dt = now - t;
    t = now;
    return dt;
  };
  // The science is characterized on a pool worker while this thread characterizes the template
  // and then starts the warp, which needs only the science's grid and WCS.
  // Inputs resampled before us (e.g. by their provider) have correlated noise: measured on blank sky.
  // Structured skies (vignetting, diffuse light) are characterized on a finer background mesh (illumination.ts).
  const illumination = { ...DEFAULT_ILLUMINATION_CONFIG, ...cfg.subtract.illumination };
  const overridesFor = (e: Exposure) =>
    characterizeOverridesFor(e, cfg.characterizeOverrides, illumination);
  const scienceDone = cfg.characterize
    ? characterizeImageAsync(science, overridesFor(science), pool, { noiseCorrelation: true })
    : null;
  scienceDone?.catch(() => {}); // awaited below; an error of the template first must not leave it unhandled
  let templateStars = null;
  let templateBackground = null;
  let templateHasSky = false;
  if (cfg.characterize) {
    const characterized = characterizeImage(template, overridesFor(template));
    templateStars = fromCandidates(characterized.sources);
    templateBackground = characterized.background.map;
    templateHasSky = hasSkyPedestal(
      characterized.background.level,
      characterized.background.sigma,
      illumination,
    );
    if (template.psf)
      characterizeNoiseCorrelation(
        template,
        template.psf.fwhmAt(template.width / 2, template.height / 2),
      );
  }
  const characterizeTemplate = lap();
  onStage?.('characterizeTemplate');
  const scienceCharacterized = await scienceDone;
  const characterizeScience = lap();
  onStage?.('characterizeScience');
  // The warp goes through the science WCS refitted on the template's stars (shared/astrom).
  const astrometry = registerPair(
    science,
    template,
    scienceCharacterized ? fromCandidates(scienceCharacterized.sources) : findSources(science),
    templateStars ?? findSources(template),
    cfg.astrometry,
  );
  const warped = await warpRegistered(template, science, astrometry, cfg.warp, pool);
  // Where the two images' responses differ (vignetting seen at different pointings) stars cannot be matched.
  const responseMaskedFraction =
    scienceCharacterized &&
    templateBackground &&
    templateHasSky &&
    hasSkyPedestal(
      scienceCharacterized.background.level,
      scienceCharacterized.background.sigma,
      illumination,
    )
      ? maskResponseMismatch(
          science,
          fineSky(science, scienceCharacterized.background.map, illumination.responseMeshPx),
          mapOntoScience(
            fineSky(template, templateBackground, illumination.responseMeshPx),
            science.width,
            science.height,
            astrometry.warpScienceWcs,
            astrometry.warpTemplateWcs,
          ),
          illumination,
        )
      : 0;
  rescaleVarianceToPsfScales(warped);
  const warp = lap();
  onStage?.('warp');
  const result = await subtractImages(science, warped.exposure, cfg.subtract, { onStage, pool });
  const modelError = applyModelError(result, warped.exposure, {
    ...DEFAULT_SUBTRACT_CONFIG.modelError,
    ...cfg.subtract.modelError,
  });
  result.stats.noiseRatio = normalisedNoise(result.difference).ratio; // as written
  return {
    ...result,
    coverageFraction: warped.coverageFraction,
    covarianceFactor: warped.covarianceFactor,
    warpedTemplate: warped.exposure,
    astrometry,
    responseMaskedFraction,
    modelError,
    timingsMs: {
      characterizeScience,
      characterizeTemplate,
      warp,
      ...result.timingsMs,
      total: performance.now() - start,
    },
  };
}

/** What made a difference image: the effective configuration's hash and the code version. */
export interface DiffProvenance {
  configHash: string;
  codeVersion: string;
}

/** Header cards APCONFIG (configuration hash) and APVERSION (code version). */
export function provenanceCards(p: DiffProvenance): Array<[string, string]> {
  return [
    ['APCONFIG', p.configHash],
    ['APVERSION', p.codeVersion],
  ];
}

/**
 * The difference as `ap diff` writes it: IMAGE, MASK, VARIANCE, PSF (and SCORR for ZOGY); see
 * README.md. `provenance` adds the cards APCONFIG and APVERSION.
 */
export function diffToFits(
  result: SubtractResult & { astrometry?: AstrometryResult; modelError?: ModelError },
  provenance?: DiffProvenance,
): Uint8Array {
  const psf = diffPsfToHdu(result.differencePsf);
  const psfHeader = new FitsHeader();
  for (const [k, v] of psf.cards) if (k !== 'EXTNAME') psfHeader.set(k, v);
  const extraHdus = [
    { name: 'PSF', data: psf.data, width: psf.width, height: psf.height, header: psfHeader },
  ];
  if (result.score) {
    const s = result.score;
    extraHdus.push({
      name: 'SCORR',
      data: s.contiguous ? s.data : s.clone().data,
      width: s.width,
      height: s.height,
      header: new FitsHeader(),
    });
  }
  const extraHeader: Array<[string, string | number | boolean]> = [
    ['DIFFMETH', result.method],
    ['KERNSUM', result.kernelSum],
    ['PSFFWHM', result.psfFwhmPx],
    ['APCORR', result.stats.apertureCorrection],
  ];
  if (result.stats.kernelFallback) extraHeader.push(['KERNFALL', result.stats.kernelFallback]);
  return writeExposure(result.difference, {
    extraHeader: [
      ...extraHeader,
      ...(provenance ? provenanceCards(provenance) : []),
      ...astrometryCards(result.astrometry),
      ...modelErrorCards(result.modelError),
    ],
    extraHdus,
  });
}

/**
 * The registration's header cards: ASTRMETH (HEADER, REFIT, ALIGNED, PATTERN or NONE), ASTRNSTR
 * (stars in the fit), ASTRRMS (rms of the fit's residuals, pixels), ASTRORD (order of the fitted
 * map: 1 affine, 2-3 polynomial); the last three only when a fit was made.
 */
function astrometryCards(a: AstrometryResult | undefined): Array<[string, string | number]> {
  if (!a) return [];
  const cards: Array<[string, string | number]> = [['ASTRMETH', a.mode.toUpperCase()]];
  if (a.order > 0 && Number.isFinite(a.rmsPx))
    cards.push(
      ['ASTRNSTR', a.nStars],
      ['ASTRRMS', Number(a.rmsPx.toFixed(5))],
      ['ASTRORD', a.order],
    );
  return cards;
}

/**
 * MODERRF (fractional flux-scale error) and MODERRA (registration error, px) of the model-error
 * variance added to the difference (model-error.ts).
 */
function modelErrorCards(e: ModelError | undefined): Array<[string, number]> {
  if (!e) return [];
  return [
    ['MODERRF', Number(e.fluxFraction.toFixed(5))],
    ['MODERRA', Number(e.astrometricSigmaPx.toFixed(5))],
  ];
}

/** The difference PSF of a file written by `ap diff` (its PSF extension). */
export function readDiffPsfFromFits(bytes: Uint8Array, source = 'difference image'): GridPsf {
  const hdu = readFits(bytes).find((h) => h.name === 'PSF');
  if (!hdu || !hdu.data) throw new Error(`${source}: no PSF extension`);
  return readDiffPsf(
    (k) => {
      const v = hdu.header.get(k);
      return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean'
        ? v
        : undefined;
    },
    hdu.data as ArrayLike<number>,
    hdu.width,
    hdu.height,
  );
}
