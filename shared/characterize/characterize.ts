/**
 * characterizeImage: everything the subtraction needs to know about an exposure before it
 * subtracts, in the order of Rubin's calibrateImage / characterizeImage: defects (NO_DATA, SAT and
 * bleed trails), background and noise, the variance plane, cosmic rays, PSF star selection and an
 * empirical spatially varying PSF. Each stage is timed.
 *
 * The exposure is updated in place: mask bits (NO_DATA, SAT, CR) are set, an empty variance plane
 * is filled, the background is subtracted from the image (unless config.subtractBackground is false)
 * and exposure.psf is set to the fitted model. Pixel values are never interpolated.
 * @example
 *   const result = characterizeImage(exposure);
 *   result.psf.fwhmPx; exposure.psf?.stampAt(100.3, 200.7);
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { GaussianPsf } from '../psf/gaussian-psf.js';
import { DEFAULT_PSF_FIT_CONFIG, fitPixelPsf, type PsfFitConfig, type PsfStarFit } from '../psf/fit-psf.js';
import { polyTerms } from '../psf/pixel-psf.js';
import { DEFAULT_BACKGROUND_CONFIG, estimateBackground, type BackgroundConfig, type BackgroundResult } from './background.js';
import { DEFAULT_COSMIC_RAY_CONFIG, findCosmicRays, type CosmicRayConfig } from './cosmic-rays.js';
import { DEFAULT_DEFECT_CONFIG, flagDefects, type DefectConfig, type DefectResult } from './defects.js';
import { DEFAULT_PEAK_CONFIG, detectPeaks, type PeakConfig } from './detect-peaks.js';
import { DEFAULT_STAR_SELECT_CONFIG, selectStars, type Candidate, type StarSelectConfig } from './star-select.js';
import { DEFAULT_VARIANCE_CONFIG, computeVariance, type VarianceConfig, type VarianceResult } from './variance.js';
import { median } from './stats.js';
import { measureStamp } from '../psf/shape.js';

export interface CharacterizeConfig {
  defects: DefectConfig;
  background: BackgroundConfig;
  peaks: PeakConfig;
  variance: VarianceConfig;
  cosmicRays: CosmicRayConfig;
  starSelect: StarSelectConfig;
  psfFit: PsfFitConfig;
  /** Subtract the background model from exposure.image (default true). */
  subtractBackground: boolean;
  /** Set exposure.psf to the fitted model (default true). */
  setPsf: boolean;
  /** Narrowest PSF the first, conservative CR pass assumes, FWHM px (default 1.5). */
  minPsfFwhmPx: number;
  /** FWHM assumed when no star is found at all, px (default 4). */
  defaultFwhmPx: number;
  /** Stars per polynomial term for a spatially varying fit; fewer lower the degree (default 4). */
  minStarsPerTerm: number;
  /** Fewer usable stars than this: analytic Gaussian fallback instead of a pixel model (default 3). */
  minStarsPixelModel: number;
}

export const DEFAULT_CHARACTERIZE_CONFIG: CharacterizeConfig = {
  defects: DEFAULT_DEFECT_CONFIG,
  background: DEFAULT_BACKGROUND_CONFIG,
  peaks: DEFAULT_PEAK_CONFIG,
  variance: DEFAULT_VARIANCE_CONFIG,
  cosmicRays: DEFAULT_COSMIC_RAY_CONFIG,
  starSelect: DEFAULT_STAR_SELECT_CONFIG,
  psfFit: DEFAULT_PSF_FIT_CONFIG,
  subtractBackground: true,
  setPsf: true,
  minPsfFwhmPx: 1.5,
  defaultFwhmPx: 4,
  minStarsPerTerm: 4,
  minStarsPixelModel: 3,
};

/** Partial config: each stage's block may itself be partial. */
export type CharacterizeOverrides = Partial<{ [K in keyof CharacterizeConfig]: CharacterizeConfig[K] extends object ? Partial<CharacterizeConfig[K]> : CharacterizeConfig[K] }>;

export interface PsfModelResult {
  /** The model, evaluable anywhere (also set as exposure.psf). */
  psf: Psf;
  /** 'pixel': empirical pixel basis (PSFEx-like); 'gaussian': analytic fallback. */
  kind: 'pixel' | 'gaussian';
  /** Polynomial degree in position actually fitted (0 = constant; -1 for the Gaussian). */
  degree: number;
  /** True when the model is simpler than configured (lower degree, or Gaussian) for lack of stars. */
  fallback: boolean;
  /** FWHM at the image centre, px, and its range over a 5x5 grid of the detector. */
  fwhmPx: number;
  fwhmMinPx: number;
  fwhmMaxPx: number;
  /** Gaussian-fit FWHM of the pixelised PSF at the image centre (as SExtractor / survey headers quote), px. */
  fwhmGaussPx: number;
  /** Distortion |(ixx - iyy, 2 ixy)| / (ixx + iyy) at the image centre. */
  ellipticity: number;
  /** Stars used in the final fit. */
  nStars: number;
  /** Candidates passing the size cluster (before isolation and outlier rejection). */
  nCandidates: number;
  /** Sum chi^2 / sum dof of star minus model over used stars with SNR < 200 (NaN if none). */
  chi2PerDof: number;
  /** The same over all used stars. */
  chi2PerDofAll: number;
  /** Per-star fit results (positions, fluxes, chi^2, used flag). */
  stars: PsfStarFit[];
}

export interface CharacterizeResult {
  defects: DefectResult;
  background: BackgroundResult;
  variance: VarianceResult;
  /** Cosmic-ray groups and pixels flagged CR. */
  crCount: number;
  crPixels: number;
  psf: PsfModelResult;
  /** Bright sources measured for star selection (adaptive moments), e.g. as kernel candidates. */
  sources: Candidate[];
  /** Wall time of each stage, ms, in order. */
  timingsMs: Record<CharacterizeStage, number>;
}

export type CharacterizeStage = 'defects' | 'background' | 'variance' | 'cosmicRays' | 'starSelect' | 'psf' | 'total';

const UNUSABLE_HERE = MaskPlane.NO_DATA | MaskPlane.SAT | MaskPlane.BAD | MaskPlane.CR | MaskPlane.EDGE;

/** Runs every stage on `exposure` (updated in place, see above) and returns what was measured. */
export function characterizeImage(exposure: Exposure, overrides: CharacterizeOverrides = {}): CharacterizeResult {
  const cfg = mergeConfig(overrides);
  const w = exposure.width;
  const h = exposure.height;
  const timings = {} as Record<CharacterizeStage, number>;
  const start = performance.now();
  let last = start;
  const lap = (stage: CharacterizeStage): void => {
    const now = performance.now();
    timings[stage] = now - last;
    last = now;
  };

  const defects = flagDefects(exposure, cfg.defects);
  lap('defects');

  const unusable = unusableMask(exposure);
  const first = estimateBackground(exposure.image, unusable, cfg.background);
  const residual = residualOf(exposure, first, unusable);
  const detection = detectPeaks(residual, w, h, first.sigma, cfg.peaks);
  const exclude = new Uint8Array(w * h);
  for (let i = 0; i < exclude.length; i++) exclude[i] = unusable[i] | detection.sourceMask[i];
  const background = estimateBackground(exposure.image, exclude, cfg.background);
  const sky = residualOf(exposure, background, unusable);
  lap('background');

  const blank = new Uint8Array(w * h);
  for (let i = 0; i < blank.length; i++) blank[i] = exclude[i] ? 0 : 1;
  const variance = computeVariance(exposure, background, blank, detection.sourceMask, cfg.variance);
  const varianceData = exposure.variance.contiguous ? exposure.variance.data : exposure.variance.clone().data;
  lap('variance');

  // Conservative CR pass with the narrowest plausible PSF, so that star sizes are measured on clean data.
  const sMin = cfg.minPsfFwhmPx / 2.3548;
  const crFirst = findCosmicRays(sky, varianceData, exposure.mask, () => [sMin * sMin, sMin * sMin, 0], cfg.cosmicRays);
  const src = { data: sky, width: w, height: h, bad: unusableMask(exposure), variance: varianceData };
  const sigmaGuess = cfg.peaks.smoothingSigmaPx;
  let selection = selectStars(src, src.bad, detection.peaks, sigmaGuess, cfg.starSelect);
  const crSecond = findCosmicRays(sky, varianceData, exposure.mask, (x, y) => {
    const t = selection.sizeAt(x, y);
    return [0.5 * t * (1 + selection.e1), 0.5 * t * (1 - selection.e1), 0.5 * t * selection.e2];
  }, cfg.cosmicRays);
  lap('cosmicRays');

  if (crSecond.nPixels > 0) {
    src.bad = unusableMask(exposure);
    selection = selectStars(src, src.bad, detection.peaks, sigmaGuess, cfg.starSelect);
  }
  lap('starSelect');

  const psf = fitPsf(selection.stars, detection.peaks, src, selection.sizeAt, cfg);
  if (cfg.setPsf) exposure.psf = psf.psf;
  if (cfg.subtractBackground) subtract(exposure, background);
  lap('psf');
  timings.total = performance.now() - start;
  return {
    defects,
    background,
    variance,
    crCount: countCrGroups(exposure),
    crPixels: crFirst.nPixels + crSecond.nPixels,
    psf,
    sources: selection.candidates,
    timingsMs: timings,
  };
}

function mergeConfig(o: CharacterizeOverrides): CharacterizeConfig {
  const d = DEFAULT_CHARACTERIZE_CONFIG;
  return {
    ...d,
    ...o,
    defects: { ...d.defects, ...o.defects },
    background: { ...d.background, ...o.background },
    peaks: { ...d.peaks, ...o.peaks },
    variance: { ...d.variance, ...o.variance },
    cosmicRays: { ...d.cosmicRays, ...o.cosmicRays },
    starSelect: { ...d.starSelect, ...o.starSelect },
    psfFit: { ...d.psfFit, ...o.psfFit },
  };
}

/** 1 where the mask makes a pixel unusable for sky and star measurements. */
function unusableMask(exposure: Exposure): Uint8Array {
  const w = exposure.width;
  const out = new Uint8Array(w * exposure.height);
  for (let y = 0; y < exposure.height; y++) {
    const m = exposure.mask.row(y);
    for (let x = 0; x < w; x++) out[y * w + x] = m[x] & UNUSABLE_HERE ? 1 : 0;
  }
  return out;
}

/** Image minus background, contiguous, 0 on unusable pixels. */
function residualOf(exposure: Exposure, bg: BackgroundResult, unusable: Uint8Array): Float32Array {
  const w = exposure.width;
  const out = new Float32Array(w * exposure.height);
  for (let y = 0; y < exposure.height; y++) {
    const row = exposure.image.row(y);
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      out[i] = unusable[i] ? 0 : row[x] - bg.map.data[i];
    }
  }
  return out;
}

function subtract(exposure: Exposure, bg: BackgroundResult): void {
  const w = exposure.width;
  for (let y = 0; y < exposure.height; y++) {
    const row = exposure.image.row(y);
    for (let x = 0; x < w; x++) row[x] -= bg.map.data[y * w + x];
  }
}

function countCrGroups(exposure: Exposure): number {
  const w = exposure.width;
  const h = exposure.height;
  const seen = new Uint8Array(w * h);
  let groups = 0;
  const stack: number[] = [];
  for (let s = 0; s < seen.length; s++) {
    if (seen[s] || !(exposure.mask.get(s % w, Math.floor(s / w)) & MaskPlane.CR)) continue;
    groups++;
    seen[s] = 1;
    stack.push(s);
    while (stack.length) {
      const i = stack.pop() as number;
      const x = i % w;
      const y = (i - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          const j = yy * w + xx;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h || seen[j] || !(exposure.mask.get(xx, yy) & MaskPlane.CR)) continue;
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
  }
  return groups;
}

/** Pixel PSF with the highest degree the star count supports, else the Gaussian fallback. */
function fitPsf(
  stars: Candidate[],
  peaks: Array<{ x: number; y: number }>,
  src: { data: Float32Array; width: number; height: number; bad: Uint8Array; variance: Float32Array },
  sizeAt: (x: number, y: number) => number,
  cfg: CharacterizeConfig,
): PsfModelResult {
  const cx = (src.width - 1) / 2;
  const cy = (src.height - 1) / 2;
  const tCentre = sizeAt(cx, cy);
  const fwhmGuess = Number.isFinite(tCentre) && tCentre > 0 ? 2.3548 * Math.sqrt(tCentre / 2) : cfg.defaultFwhmPx;
  let degree = cfg.psfFit.degree;
  while (degree > 0 && stars.length < cfg.minStarsPerTerm * polyTerms(degree).length) degree--;
  if (stars.length >= cfg.minStarsPixelModel) {
    const image = { residual: src.data, variance: src.variance, bad: src.bad, width: src.width, height: src.height };
    const fit = fitPixelPsf(image, stars.map((s) => ({ x: s.x, y: s.y, flux: s.flux })), peaks, fwhmGuess, { ...cfg.psfFit, degree });
    const used = fit.stars.filter((s) => s.used);
    if (used.length >= cfg.minStarsPixelModel) {
      return summarize(fit.psf, 'pixel', degree, degree < cfg.psfFit.degree, used.length, stars.length, fit.stars, src.width, src.height);
    }
  }
  const gaussian = stars.length
    ? new GaussianPsf(median(stars.map((s) => s.ixx)), median(stars.map((s) => s.iyy)), median(stars.map((s) => s.ixy)))
    : GaussianPsf.fromFwhm(fwhmGuess);
  return summarize(gaussian, 'gaussian', -1, true, 0, stars.length, [], src.width, src.height);
}

function summarize(psf: Psf, kind: 'pixel' | 'gaussian', degree: number, fallback: boolean, nStars: number, nCandidates: number, stars: PsfStarFit[], w: number, h: number): PsfModelResult {
  const fwhms: number[] = [];
  for (let j = 0; j < 5; j++) for (let i = 0; i < 5; i++) fwhms.push(psf.fwhmAt(((w - 1) * i) / 4, ((h - 1) * j) / 4));
  const centre = psf.stampAt((w - 1) / 2, (h - 1) / 2, true);
  const shape = measureStamp(centre.data, centre.size);
  const chi = (list: PsfStarFit[]): number => {
    let c = 0;
    let d = 0;
    for (const s of list) {
      c += s.chi2;
      d += s.dof;
    }
    return d > 0 ? c / d : Number.NaN;
  };
  const used = stars.filter((s) => s.used);
  return {
    psf,
    kind,
    degree,
    fallback,
    fwhmPx: psf.fwhmAt((w - 1) / 2, (h - 1) / 2),
    fwhmMinPx: Math.min(...fwhms),
    fwhmMaxPx: Math.max(...fwhms),
    fwhmGaussPx: shape.fwhmGauss,
    ellipticity: shape.ellipticity,
    nStars,
    nCandidates,
    chi2PerDof: chi(used.filter((s) => s.flux / s.fluxErr < 200)),
    chi2PerDofAll: chi(used),
    stars,
  };
}
