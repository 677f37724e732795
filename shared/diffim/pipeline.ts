/**
 * runDiff: the pair's one orchestration, shared by `ap diff` and the per-detector pipeline
 * (shared/pipeline processDetector), as timed stages: (1) characterize both images at once, the
 * science on a pool worker and the template here (shared/characterize: background subtracted,
 * variance, CR masks, PSF model; a prepared template is not characterized again), (2) refit the
 * science WCS on the two images' stars (shared/astrom), warp the template onto the science grid
 * (shared/warp, Lanczos-3) and bring it onto the science's illumination (illumination.ts), then
 * subtractImages' stages (3) choose the method, (4) select kernel candidates, (5) fit the kernel,
 * (6) convolve and subtract, (7) decorrelate, (8) build the output.
 * @example
 *   const r = await runDiff(readExposure(sciBytes), readExposure(tmplBytes), { subtract: { method: 'auto' } });
 *   writeFileSync('diff.fits', diffToFits(r));
 */
import type { Exposure } from '../image/exposure.js';
import {
  characterizeImage,
  type CharacterizeOverrides,
  type CharacterizeResult,
} from '../characterize/characterize.js';
import {
  characterizeImageAsync,
  noiseCorrelationAsync,
} from '../characterize/characterize-async.js';
import { characterizeNoiseCorrelation } from '../characterize/noise-correlation-estimate.js';
import { rescaleVarianceToPsfScalesAsync, warpSource } from '../warp/index.js';
import { fftDescription } from '../util/fft-engine.js';
import { resamplerDescription } from '../warp/resample.js';
import { kernelArithmeticDescription } from './kernel-engine.js';
import type { WarpSource } from '../warp/warp.js';
import { releaseShared } from '../util/buffer-pool.js';
import {
  registerPair,
  DEFAULT_ASTROMETRY_CONFIG,
  type AstrometryConfig,
  type AstrometryResult,
} from '../astrom/register.js';
import { findSources, fromCandidates } from '../astrom/sources.js';
import type { AstromSource } from '../astrom/register.js';
import { warpRegistered } from '../astrom/warp-registered.js';
import {
  characterizeOverridesFor,
  DEFAULT_ILLUMINATION_CONFIG,
  fineSky,
  hasSkyPedestal,
  isStructuredSky,
  resubtractFineSky,
  mapOntoScience,
  matchResponse,
  readIllumination,
} from './illumination.js';
import { NO_MODEL_ERROR, type ModelError } from './model-error.js';
import type { ImageF } from '../image/plane.js';
import { fineSkyAsync } from './fine-sky-async.js';
import type { WarpConfig } from '../warp/config.js';
import { writeExposure, type WriteExposureOptions } from '../fits/exposure.js';
import { FitsHeader } from '../fits/header.js';
import type { SubtractConfig } from './config.js';
import { WorkerPool } from '../util/worker-pool.js';
import { readFits } from '../fits/read.js';
import { diffPsfToHdu, readDiffPsf, type GridPsf } from './psf-grid.js';
import { subtractImages, type SubtractResult, type SubtractStage } from './subtract.js';
import { poolHelper } from '../util/shared-bands.js';

export interface DiffConfig {
  /** Characterize the inputs (default true); false keeps their PSFs and pixels as given (backgrounds already removed). */
  characterize: boolean;
  characterizeOverrides: CharacterizeOverrides;
  /**
   * Estimate the science's noise correlation on blank sky (default true: `ap diff` takes images
   * resampled by their provider; false for raw frames, ~1.5 CPU-s at 4k saved).
   */
  scienceNoiseCorrelation: boolean;
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
  scienceNoiseCorrelation: true,
  astrometry: DEFAULT_ASTROMETRY_CONFIG,
  warp: {},
  subtract: {},
  threads: 0,
};

/**
 * A template characterized beforehand (shared/pipeline prepareTemplate, or read back from a
 * prepared file): its exposure is background-subtracted with its PSF set; `characterization`,
 * when at hand, gives its stars and background (else its stars are found afresh and the
 * response matching, which needs its sky, is skipped).
 */
export interface PreparedTemplate {
  readonly kind: 'prepared';
  exposure: Exposure;
  characterization?: CharacterizeResult;
  /** Its stars for the registration, when its file kept them (shared/pipeline/prepared-io.ts). */
  stars?: AstromSource[];
}

export type DiffStage = 'characterizeScience' | 'characterizeTemplate' | 'warp' | SubtractStage;

/** What the registration and the warp gave, as they end (before the subtraction). */
export interface WarpOutcome {
  astrometry: AstrometryResult;
  coverageFraction: number;
  covarianceFactor: number;
  responseMaskedFraction: number;
  warpedTemplate: Exposure;
}

export interface DiffHooks {
  /** Called as each stage ends with its lap, ms (benchmarks sample memory there, pipelines log). */
  onStage?: (stage: DiffStage, ms: number) => void;
  /** Each characterization made here, as it ends (before its stage's onStage); may throw to stop the run. */
  onCharacterized?: (role: 'science' | 'template', result: CharacterizeResult) => void;
  /** After the warp (before its onStage), while the science is as characterized and registered. */
  onWarped?: (outcome: WarpOutcome) => void;
}

export interface DiffResult extends SubtractResult {
  /** Fraction of the science grid the warped template covers. */
  coverageFraction: number;
  /** Warp's variance correlation factor (1: no resampling). */
  covarianceFactor: number;
  /** The characterized template on the science grid, as subtracted (for previews and cutouts). */
  warpedTemplate: Exposure;
  /** How the pair was registered (the ASTR* header cards). */
  astrometry: AstrometryResult;
  /** Fraction of the science masked NO_DATA because either image's response is too low to use there (illumination.ts). */
  responseMaskedFraction: number;
  /** The model error whose variance was added to the difference's (the MODERRF and MODERRA cards). */
  modelError: ModelError;
  /** The science's characterization (null when not characterized). */
  scienceCharacterization: CharacterizeResult | null;
  /** The template's characterization made here or given with it (null otherwise). */
  templateCharacterization: CharacterizeResult | null;
  /** What ran the warp's resampler (shared/warp resamplerDescription: WebAssembly SIMD or JavaScript). */
  warpResampler: string;
  /** What ran the FFTs (shared/util fftDescription: WebAssembly SIMD or fft.js). */
  fftEngine: string;
  /** What ran the kernel field's per-pixel arithmetic (shared/diffim kernelArithmeticDescription: WebAssembly SIMD or JavaScript). */
  kernelArithmetic: string;
  /**
   * Wall time of each stage, ms, adding up to `total`: the stages overlap (characterizeScience runs on a worker from the
   * start), so each one counts from the previous stage's end to its own: characterizeTemplate, then the rest of
   * characterizeScience, then the rest of the warp, then the subtraction's stages.
   */
  timingsMs: Record<DiffStage, number>;
}

/** Resolves null after the events already queued (a worker's finished task) have been handled. */
const nextTurn = (): Promise<null> => new Promise((resolve) => setImmediate(() => resolve(null)));

export function isPreparedTemplate(t: Exposure | PreparedTemplate): t is PreparedTemplate {
  return (t as PreparedTemplate).kind === 'prepared';
}

/**
 * A template's characterization: characterizeImage, then the noise correlation of its blank sky
 * (templates are often resampled coadds, whose correlated noise the subtraction whitens).
 */
export function characterizeTemplate(
  template: Exposure,
  overrides: CharacterizeOverrides,
): CharacterizeResult {
  const result = characterizeImage(template, overrides);
  if (template.psf) characterizeNoiseCorrelation(template, result.psf.fwhmPx);
  return result;
}

/**
 * An image's stars for the registration (shared/astrom). A vignetted image has its stars measured
 * again, flat-fielded by its radial `response`: the characterization's centroids on a fall-off edge
 * are pulled by the response's gradient and by its mesh background's error there (the refit
 * followed them, 0.04-0.09 px off the truth).
 */
const stars = (
  exposure: Exposure,
  c: CharacterizeResult | null,
  response: ImageF | null,
): AstromSource[] => (c && !response ? fromCandidates(c.sources) : findSources(exposure, response));

/**
 * Once the warp is done, the planes `source` made for it (warpSource: the dilated mask, copies of
 * a template with non-finite pixels), not the template's own, go back to the pool for the
 * subtraction's planes (shared/util/buffer-pool.ts).
 */
function releaseMadeFor(source: WarpSource, template: Exposure): void {
  const own = [template.image, template.mask, template.variance].map((p) => p.data.buffer);
  for (const a of [source.image, source.variance, source.mask])
    if (a && !own.includes(a.buffer)) releaseShared(a);
}

/**
 * The whole pair (see the module comment). `hooks` (or an onStage function) follow the stages;
 * the pool's worker characterizes the science and reads its response map while this thread does
 * the template's, and the tiled stages run on both. The template may be a promise (still being
 * read): it is awaited once the science's characterization has started, inside characterizeTemplate.
 */
export async function runDiff(
  science: Exposure,
  templateIn: Exposure | PreparedTemplate | Promise<Exposure | PreparedTemplate>,
  overrides: Partial<DiffConfig> = {},
  hooks: DiffHooks | ((stage: DiffStage) => void) = {},
): Promise<DiffResult> {
  const cfg: DiffConfig = { ...DEFAULT_DIFF_CONFIG, ...overrides };
  const { onStage, onCharacterized, onWarped }: DiffHooks =
    typeof hooks === 'function' ? { onStage: hooks } : hooks;
  // Started first, so the workers are ready by the tiled stages.
  const pool = cfg.threads === 1 ? null : WorkerPool.shared();
  const start = performance.now();
  let t = start;
  const lap = (stage: DiffStage): number => {
    const now = performance.now();
    const dt = now - t;
    t = now;
    onStage?.(stage, dt);
    return dt;
  };
  // Structured skies (vignetting, diffuse light) are characterized on a finer background mesh,
  // and their illumination is modelled (illumination.ts).
  const illumination = { ...DEFAULT_ILLUMINATION_CONFIG, ...cfg.subtract.illumination };
  const hasSky = (c: CharacterizeResult | null): boolean =>
    !!c && hasSkyPedestal(c.background.level, c.background.sigma, illumination);
  // Measured here while the worker flags the science's defects (the choice is made before this returns).
  let scienceStructured = false;
  const scienceDone = cfg.characterize
    ? characterizeImageAsync(science, cfg.characterizeOverrides, pool, {
        overrides: characterizeOverridesFor(true, cfg.characterizeOverrides, illumination),
        chosen: () => (scienceStructured = isStructuredSky(science, illumination)),
      })
    : null;
  scienceDone?.catch(() => {}); // awaited below; an error of the template first must not leave it unhandled
  // A template still being read (a prepared one downloading) is read while the science is characterized.
  const template = await templateIn;
  const prepared = isPreparedTemplate(template) ? template : null;
  const tmpl = prepared ? prepared.exposure : (template as Exposure);
  // Measured once the science is on the worker, which does not wait for it.
  const templateStructured = cfg.characterize && !prepared && isStructuredSky(tmpl, illumination);
  let templateCharacterization: CharacterizeResult | null = prepared?.characterization ?? null;
  // The template's noise-correlation estimate (characterizeTemplate's second half): on the worker
  // when the science's characterization is done by then, else here (the worker is still busy).
  let templateNoise: Promise<unknown> | null = null;
  if (cfg.characterize && !prepared) {
    // Its whole-image passes are shared with the worker once the science's characterization frees it.
    templateCharacterization = characterizeImage(
      tmpl,
      characterizeOverridesFor(templateStructured, cfg.characterizeOverrides, illumination),
      undefined,
      undefined,
      poolHelper(pool),
    );
    onCharacterized?.('template', templateCharacterization);
  }
  // The two images' responses differ (vignetting seen at different pointings): each image's
  // response is read from its sky on a fine mesh on the thread that is free, the science's on the
  // worker and the template's here, whichever image was done first.
  const readResponse =
    (scienceStructured || templateStructured) && hasSky(templateCharacterization);
  let scienceCharacterization = scienceDone && (await Promise.race([scienceDone, nextTurn()]));
  if (templateCharacterization && !prepared && tmpl.psf) {
    const fwhmPx = templateCharacterization.psf.fwhmPx;
    // Only where the template's pixels do not change before the warp (which reads the model).
    if (scienceCharacterization && !templateStructured && !readResponse) {
      templateNoise = noiseCorrelationAsync(tmpl, tmpl.psf, pool, fwhmPx);
      templateNoise.catch(() => {}); // awaited before the warp, after the stages that may throw first
    } else characterizeNoiseCorrelation(tmpl, fwhmPx);
  }
  const characterizeTemplateMs = lap('characterizeTemplate');
  const scienceSkyOf = (c: CharacterizeResult | null): Promise<ImageF> | null => {
    if (!c || !readResponse || !hasSky(c)) return null;
    const sky = fineSkyAsync(science, c.background.map, illumination.responseMeshPx, pool);
    sky.catch(() => {}); // awaited below, after the template's, which may throw first
    return sky;
  };
  // The science's noise-correlation estimate (used from the subtraction on) runs on the worker
  // once its characterization is done, while this thread registers and warps; it only reads the
  // science, and is awaited before anything writes to it.
  let scienceNoise: Promise<unknown> | null = null;
  const scienceNoiseOf = (c: CharacterizeResult | null): void => {
    if (!c || !cfg.scienceNoiseCorrelation || science.noiseCorrelation) return;
    scienceNoise = noiseCorrelationAsync(science, c.psf.psf, pool);
    scienceNoise.catch(() => {}); // awaited below, after the stages that may throw first
  };
  scienceNoiseOf(scienceCharacterization);
  let scienceSky = scienceSkyOf(scienceCharacterization);
  const templateSky =
    readResponse && templateCharacterization
      ? fineSky(tmpl, templateCharacterization.background.map, illumination.responseMeshPx)
      : null;
  // The template's side of the warp, while the science's characterization ends on the worker: its
  // pixels do not change before the warp unless a structured sky is re-subtracted below.
  const templateWarpSource =
    !templateStructured && science.wcs && tmpl.wcs ? warpSource(tmpl, cfg.warp) : undefined;
  // Its stars for the registration too (a prepared file keeps them; else found again here).
  const templateStars = templateStructured
    ? null
    : (prepared?.stars ?? stars(tmpl, templateCharacterization, null));
  if (scienceDone && !scienceCharacterization) {
    scienceCharacterization = await scienceDone;
    scienceNoiseOf(scienceCharacterization);
    scienceSky = scienceSkyOf(scienceCharacterization);
  }
  const scienceFineSky = scienceSky && (await scienceSky);
  // Reading the science's response may re-subtract its sky and match the responses: writes to the science.
  if (scienceFineSky) await scienceNoise;
  const templateIllumination =
    templateSky && templateCharacterization
      ? readIllumination(tmpl, templateCharacterization.background.map, templateSky, illumination)
      : null;
  const scienceIllumination =
    scienceFineSky && scienceCharacterization
      ? readIllumination(
          science,
          scienceCharacterization.background.map,
          scienceFineSky,
          illumination,
        )
      : null;
  // A vignetted field's sky is subtracted as its radial model (the characterization's mesh, its
  // source mask swallowing the fall-off edge, can step by hundreds of ADU there).
  const templateSkyModel = (templateStructured && templateIllumination?.sky) || null;
  if (templateSkyModel && templateCharacterization)
    resubtractFineSky(
      tmpl,
      templateCharacterization,
      templateSkyModel,
      cfg.characterizeOverrides.cosmicRays,
    );
  const scienceSkyModel = (scienceStructured && scienceIllumination?.sky) || null;
  if (scienceSkyModel && scienceCharacterization)
    resubtractFineSky(
      science,
      scienceCharacterization,
      scienceSkyModel,
      cfg.characterizeOverrides.cosmicRays,
    );
  if (scienceCharacterization) onCharacterized?.('science', scienceCharacterization);
  const characterizeScienceMs = lap('characterizeScience');
  // The warp goes through the science WCS refitted on the two images' stars.
  const astrometry = registerPair(
    science,
    tmpl,
    stars(
      science,
      scienceCharacterization,
      scienceSkyModel && (scienceIllumination?.response ?? null),
    ),
    templateStars ??
      stars(
        tmpl,
        templateCharacterization,
        templateSkyModel && (templateIllumination?.response ?? null),
      ),
    cfg.astrometry,
  );
  // The warped template's noise correlation is the template's, resampled.
  await templateNoise;
  const warped = await warpRegistered(
    tmpl,
    science,
    astrometry,
    cfg.warp,
    pool,
    templateWarpSource,
  );
  const responseMaskedFraction =
    scienceIllumination && templateIllumination
      ? matchResponse(
          science,
          warped.exposure,
          scienceIllumination.response,
          mapOntoScience(
            templateIllumination.response,
            science.width,
            science.height,
            astrometry.warpScienceWcs,
            astrometry.warpTemplateWcs,
          ),
          illumination,
        ).maskedFraction
      : 0;
  if (templateWarpSource) releaseMadeFor(templateWarpSource, tmpl);
  await rescaleVarianceToPsfScalesAsync(warped, pool);
  const outcome: WarpOutcome = {
    astrometry,
    coverageFraction: warped.coverageFraction,
    covarianceFactor: warped.covarianceFactor,
    responseMaskedFraction,
    warpedTemplate: warped.exposure,
  };
  onWarped?.(outcome);
  const warpMs = lap('warp');
  await scienceNoise;
  const result = await subtractImages(science, warped.exposure, cfg.subtract, {
    onStage,
    pool,
    modelError: true,
  });
  return {
    ...result,
    ...outcome,
    modelError: result.modelError ?? NO_MODEL_ERROR,
    scienceCharacterization,
    templateCharacterization,
    warpResampler: resamplerDescription(),
    fftEngine: fftDescription(),
    kernelArithmetic: kernelArithmeticDescription(),
    timingsMs: {
      characterizeScience: characterizeScienceMs,
      characterizeTemplate: characterizeTemplateMs,
      warp: warpMs,
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
  return writeExposure(result.difference, diffFitsOptions(result, provenance));
}

/** What diffToFits writes beside the difference's planes (writeExposureFile writes the same file). */
export function diffFitsOptions(
  result: SubtractResult & { astrometry?: AstrometryResult; modelError?: ModelError },
  provenance?: DiffProvenance,
): WriteExposureOptions {
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
  return {
    extraHeader: [
      ...extraHeader,
      ...(provenance ? provenanceCards(provenance) : []),
      ...astrometryCards(result.astrometry),
      ...modelErrorCards(result.modelError),
    ],
    extraHdus,
  };
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
 * variance added to the difference, and MODERRX, the share of compact cores beyond the noise
 * that gates its measurement (model-error.ts).
 */
function modelErrorCards(e: ModelError | undefined): Array<[string, number]> {
  if (!e) return [];
  return [
    ['MODERRF', Number(e.fluxFraction.toFixed(5))],
    ['MODERRA', Number(e.astrometricSigmaPx.toFixed(5))],
    ['MODERRX', Number(e.coresBeyondNoise.toFixed(4))],
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
