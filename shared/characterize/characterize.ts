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
import { Plane } from '../image/plane.js';
import type { Psf } from '../psf/types.js';
import { GaussianPsf } from '../psf/gaussian-psf.js';
import {
  DEFAULT_PSF_FIT_CONFIG,
  fitPixelPsf,
  type PsfFitConfig,
  type PsfStarFit,
} from '../psf/fit-psf.js';
import { polyTerms } from '../psf/pixel-psf.js';
import {
  DEFAULT_BACKGROUND_CONFIG,
  type BackgroundConfig,
  type BackgroundResult,
} from './background.js';
import {
  detectPeaksBands,
  drawMapBands,
  measureMeshBands,
  sharedZeros,
} from './background-bands.js';
import { sharedBytes, type Helper } from '../util/shared-bands.js';
import { DEFAULT_COSMIC_RAY_CONFIG, findCosmicRays, type CosmicRayConfig } from './cosmic-rays.js';
import { brightPixelsBands } from './bright-bands.js';
import {
  DEFAULT_DEFECT_CONFIG,
  flagDefects,
  type DefectConfig,
  type DefectResult,
} from './defects.js';
import { DEFAULT_PEAK_CONFIG, type PeakConfig } from './detect-peaks.js';
import {
  DEFAULT_STAR_SELECT_CONFIG,
  dropTouching,
  selectStars,
  type Candidate,
  type StarSelectConfig,
} from './star-select.js';
import {
  DEFAULT_VARIANCE_CONFIG,
  computeVariance,
  type VarianceConfig,
  type VarianceResult,
} from './variance.js';
import { median } from '../util/stats.js';
import { measureStamp } from '../psf/shape.js';
import { OffsetPsf } from '../psf/offset-psf.js';
import { forEachComponent8 } from '../util/components.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';
import { samplePsfStars } from './psf-sample.js';

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
  /** At most this many selected stars are fitted, spread over the detector and their brightness (psf-sample.ts; default 300, 0: all). */
  maxPsfStars: number;
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
  maxPsfStars: 300,
};

/** Partial config: each stage's block may itself be partial. */
export type CharacterizeOverrides = Partial<{
  [K in keyof CharacterizeConfig]: CharacterizeConfig[K] extends object
    ? Partial<CharacterizeConfig[K]>
    : CharacterizeConfig[K];
}>;

export interface PsfModelResult {
  /** The model, evaluable anywhere (also set as exposure.psf). */
  psf: Psf;
  /** 'pixel': empirical pixel basis (PSFEx-like); 'gaussian': analytic fallback. */
  kind: 'pixel' | 'gaussian';
  /** Polynomial degree in position actually fitted (0 = constant; -1 for the Gaussian). */
  degree: number;
  /** True when the model is simpler than configured (lower degree, or Gaussian) for lack of stars. */
  fallback: boolean;
  /** True when the spatial variation was restricted to affine changes of the mean PSF (fewer than psfFit.freeVariationMinStars stars). */
  affineVariation: boolean;
  /** FWHM at the image centre, px (its range over the detector: fwhmRange). */
  fwhmPx: number;
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
  /** Wall time of each stage, ms (cosmicRays and starSelect sum their two passes). */
  timingsMs: Record<CharacterizeStage, number>;
}

export type CharacterizeStage =
  'defects' | 'background' | 'variance' | 'cosmicRays' | 'starSelect' | 'psf' | 'total';

const UNUSABLE_HERE =
  MaskPlane.NO_DATA | MaskPlane.SAT | MaskPlane.BAD | MaskPlane.CR | MaskPlane.EDGE;

/**
 * Overrides of which only the defects' are known at the start: the rest is decided while the
 * defects are flagged (e.g. by another thread measuring the raw image), `decide()` being called
 * once they are (its `defects` are not read).
 */
export interface LateOverrides {
  defects?: CharacterizeOverrides['defects'];
  decide: () => CharacterizeOverrides;
}

/**
 * Runs every stage on `exposure` (updated in place, see above) and returns what was measured.
 * `onStage` is called after each stage's step (e.g. to sample memory in a benchmark).
 * `mapStorage` (width * height), when given, holds the background map (e.g. a worker's shared
 * buffer, so that the map is not drawn elsewhere and copied there).
 */
export function characterizeImage(
  exposure: Exposure,
  overrides: CharacterizeOverrides | LateOverrides = {},
  onStage?: (stage: CharacterizeStage) => void,
  mapStorage?: Float32Array,
  helper: Helper | null = null,
): CharacterizeResult {
  const late = 'decide' in overrides ? overrides : null;
  const w = exposure.width;
  const h = exposure.height;
  const timings: Record<CharacterizeStage, number> = {
    defects: 0,
    background: 0,
    variance: 0,
    cosmicRays: 0,
    starSelect: 0,
    psf: 0,
    total: 0,
  };
  const start = performance.now();
  const timed = <T>(stage: CharacterizeStage, run: () => T): T => {
    const t0 = performance.now();
    const out = run();
    timings[stage] += performance.now() - t0;
    onStage?.(stage);
    return out;
  };

  const defectConfig = mergeConfig(late ? { defects: late.defects } : overrides).defects;
  const defects = timed('defects', () => flagDefects(exposure, defectConfig));
  const cfg = mergeConfig(late ? { ...late.decide(), defects: late.defects } : overrides);
  // Pixels flagged CR before (in the file), kept with the passes' own to count the CR groups at the end.
  const crBefore: number[] = [];

  // The whole-image passes are shared with the helper thread when it is free (background-bands.ts),
  // which reads the image where it lies: only from a SharedArrayBuffer.
  const share = helper && exposure.image.data.buffer instanceof SharedArrayBuffer ? helper : null;
  const { background, sky, detection, exclude, unusable } = timed('background', () => {
    const image = exposure.image;
    const unusable = unusableMask(exposure, crBefore);
    // A first, coarsely sampled pass only serves to find the sources to mask in the second.
    const first = measureMeshBands(image, unusable, { ...cfg.background, sampleStep: 4 }, share);
    // Its residual is binned for detection as each row is taken, never held whole.
    const found = detectPeaksBands(image, unusable, first, first.sigma, cfg.peaks, share);
    const excluded = orInto(sharedBytes(unusable), found.sourceMask);
    const mesh = measureMeshBands(image, excluded, cfg.background, share);
    // The final map is drawn row by row as the residual is taken from it (one pass, not two).
    const map = new Plane(mapStorage ?? sharedZeros(Float32Array, w * h), w, h);
    const residual = sharedZeros(Float32Array, w * h);
    drawMapBands(image, unusable, mesh, map.data, residual, share);
    const bg: BackgroundResult = { ...mesh, map };
    return { background: bg, sky: residual, detection: found, exclude: excluded, unusable };
  });

  // The image is background-subtracted here (in the derived variance's pass): nothing after reads it.
  const variance = timed('variance', () =>
    computeVariance(
      exposure,
      background,
      exclude,
      detection.sourceMask,
      cfg.variance,
      cfg.subtractBackground,
      share,
    ),
  );
  const varianceData = exposure.variance.contiguous
    ? exposure.variance.data
    : exposure.variance.clone().data;

  // Zeros, lent to each CR pass and the final count, each leaving it zeros (fewer fresh pages).
  const flags = sharedZeros(Uint8Array, w * h);
  // Conservative CR pass with the narrowest plausible PSF, so that star sizes are measured on clean data.
  const sMin = cfg.minPsfFwhmPx / FWHM_PER_SIGMA;
  const crFirst = timed('cosmicRays', () => {
    const mask = exposure.mask.contiguous ? exposure.mask.data : exposure.mask.clone().data;
    const { minSigma } = cfg.cosmicRays;
    const bright = brightPixelsBands(sky, varianceData, mask, w, h, minSigma, flags, share);
    return findCosmicRays(
      sky,
      varianceData,
      exposure.mask,
      () => [sMin * sMin, sMin * sMin, 0],
      cfg.cosmicRays,
      bright,
      flags,
      share,
    );
  });
  // The mask only gains CR bits from here on: its unusable pixels gain each pass's CR pixels.
  const src = {
    data: sky,
    width: w,
    height: h,
    bad: withPixels(unusable, crFirst.pixels),
    variance: varianceData,
  };
  const firstSelection = timed('starSelect', () =>
    selectStars(src, src.bad, detection.peaks, cfg.peaks.smoothingSigmaPx, cfg.starSelect, share),
  );
  const crSecond = timed('cosmicRays', () =>
    findCosmicRays(
      sky,
      varianceData,
      exposure.mask,
      (x, y) => {
        const measured = firstSelection.sizeAt(x, y);
        const t = Number.isFinite(measured)
          ? measured
          : 2 * (cfg.defaultFwhmPx / FWHM_PER_SIGMA) ** 2;
        return [
          0.5 * t * (1 + firstSelection.e1),
          0.5 * t * (1 - firstSelection.e1),
          0.5 * t * firstSelection.e2,
        ];
      },
      cfg.cosmicRays,
      crFirst.bright,
      flags,
      share,
    ),
  );
  const selection = timed('starSelect', () => {
    if (crSecond.nPixels === 0) return firstSelection;
    return dropTouching(firstSelection, withPixels(src.bad, crSecond.pixels), w, h);
  });

  // The fit's stars are on shared memory of their own: its helper does not read the image.
  const psf = timed('psf', () =>
    fitPsf(selection.stars, detection.peaks, src, selection.sizeAt, cfg, helper),
  );
  if (cfg.setPsf) attachPsf(exposure, psf.psf);
  timings.total = performance.now() - start;
  return {
    defects,
    background,
    variance,
    crCount: countGroups(flags, w, h, [crBefore, crFirst.pixels, crSecond.pixels]),
    crPixels: crFirst.nPixels + crSecond.nPixels,
    psf,
    sources: selection.candidates,
    timingsMs: timings,
  };
}

/** Sets exposure.psf to a model fitted in the image's own pixels: a view's PSF lives in its parent's frame, as its WCS does. */
export function attachPsf(exposure: Exposure, psf: Psf): void {
  const { x0, y0 } = exposure.image;
  exposure.psf = x0 !== 0 || y0 !== 0 ? new OffsetPsf(psf, x0, y0) : psf;
}

/** The full configuration: the defaults under `o`, stage block by stage block. */
export function mergeConfig(o: CharacterizeOverrides): CharacterizeConfig {
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

/**
 * 1 where the mask makes a pixel unusable for sky and star measurements; `crs` gains the (row-major)
 * indices of the pixels already flagged CR.
 */
function unusableMask(exposure: Exposure, crs: number[]): Uint8Array {
  const w = exposure.width;
  const out = sharedZeros(Uint8Array, w * exposure.height);
  const m = exposure.mask.data;
  for (let y = 0; y < exposure.height; y++) {
    // Indexed into the plane's own array (a contiguous mask is one flat run of rows).
    const r = exposure.mask.index(0, y) - y * w;
    for (let i = y * w, end = i + w; i < end; i++) {
      const bits = m[r + i];
      // Most pixels have no bit set: `out` is already 0 there.
      if (bits === 0) continue;
      if (bits & UNUSABLE_HERE) out[i] = 1;
      if (bits & MaskPlane.CR) crs.push(i);
    }
  }
  return out;
}

/** `target` |= `source`, byte by byte (four at a time), in place; returns `target`. */
function orInto(target: Uint8Array, source: Uint8Array): Uint8Array {
  const n4 = target.byteOffset % 4 || source.byteOffset % 4 ? 0 : target.length >> 2;
  const t = new Uint32Array(target.buffer, target.byteOffset, n4);
  const s = new Uint32Array(source.buffer, source.byteOffset, n4);
  for (let i = 0; i < n4; i++) t[i] |= s[i];
  for (let i = 4 * n4; i < target.length; i++) target[i] |= source[i];
  return target;
}

/** `mask` with 1 at `pixels` (in place). */
function withPixels(mask: Uint8Array, pixels: Int32Array): Uint8Array {
  for (let k = 0; k < pixels.length; k++) mask[pixels[k]] = 1;
  return mask;
}

/**
 * Number of 8-connected groups of the pixels listed (row-major indices, repeats allowed): the flood fill
 * visits them only. `member` (w * h zeros) is the fill's scratch, zeros again on return.
 */
function countGroups(member: Uint8Array, w: number, h: number, lists: ArrayLike<number>[]): number {
  const seeds: number[] = [];
  for (const list of lists)
    for (let k = 0; k < list.length; k++) {
      member[list[k]] = 1;
      seeds.push(list[k]);
    }
  return forEachComponent8(member, w, h, () => {}, seeds);
}

/** Pixel PSF with the highest degree the star count supports, else the Gaussian fallback. */
function fitPsf(
  stars: Candidate[],
  peaks: Array<{ x: number; y: number }>,
  src: {
    data: Float32Array;
    width: number;
    height: number;
    bad: Uint8Array;
    variance: Float32Array;
  },
  sizeAt: (x: number, y: number) => number,
  cfg: CharacterizeConfig,
  helper: Helper | null,
): PsfModelResult {
  const cx = (src.width - 1) / 2;
  const cy = (src.height - 1) / 2;
  const tCentre = sizeAt(cx, cy);
  const fwhmGuess =
    Number.isFinite(tCentre) && tCentre > 0
      ? FWHM_PER_SIGMA * Math.sqrt(tCentre / 2)
      : cfg.defaultFwhmPx;
  let degree = cfg.psfFit.degree;
  while (degree > 0 && stars.length < cfg.minStarsPerTerm * polyTerms(degree).length) degree--;
  const sample = samplePsfStars(stars, cfg.maxPsfStars, src.width, src.height);
  if (sample.length >= cfg.minStarsPixelModel) {
    const image = {
      residual: src.data,
      variance: src.variance,
      bad: src.bad,
      width: src.width,
      height: src.height,
    };
    const fit = fitPixelPsf(
      image,
      sample.map((s) => ({ x: s.x, y: s.y, flux: s.flux })),
      peaks,
      fwhmGuess,
      { ...cfg.psfFit, degree },
      helper,
    );
    const used = fit.stars.filter((s) => s.used);
    if (used.length >= cfg.minStarsPixelModel) {
      return summarize(
        fit.psf,
        'pixel',
        degree,
        degree < cfg.psfFit.degree,
        fit.affineVariation,
        used.length,
        stars.length,
        fit.stars,
        src.width,
        src.height,
      );
    }
  }
  const gaussian = stars.length
    ? new GaussianPsf(
        median(stars.map((s) => s.ixx)),
        median(stars.map((s) => s.iyy)),
        median(stars.map((s) => s.ixy)),
      )
    : GaussianPsf.fromFwhm(fwhmGuess);
  return summarize(
    gaussian,
    'gaussian',
    -1,
    true,
    false,
    0,
    stars.length,
    [],
    src.width,
    src.height,
  );
}

/**
 * The FWHM's range over a 3x3 grid of a w x h detector (corners, edge middles, centre), px: a figure
 * to report, measured only when asked (eight profile fits beside the centre's).
 */
export function fwhmRange(psf: Psf, w: number, h: number): { minPx: number; maxPx: number } {
  const fwhms: number[] = [];
  for (let j = 0; j < 3; j++)
    for (let i = 0; i < 3; i++) fwhms.push(psf.fwhmAt(((w - 1) * i) / 2, ((h - 1) * j) / 2));
  return { minPx: Math.min(...fwhms), maxPx: Math.max(...fwhms) };
}

function summarize(
  psf: Psf,
  kind: 'pixel' | 'gaussian',
  degree: number,
  fallback: boolean,
  affineVariation: boolean,
  nStars: number,
  nCandidates: number,
  stars: PsfStarFit[],
  w: number,
  h: number,
): PsfModelResult {
  const centre = psf.stampAt((w - 1) / 2, (h - 1) / 2, true);
  const shape = measureStamp(centre.data, centre.size, true);
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
    affineVariation,
    fwhmPx: psf.fwhmAt((w - 1) / 2, (h - 1) / 2),
    fwhmGaussPx: shape.fwhmGauss,
    ellipticity: shape.ellipticity,
    nStars,
    nCandidates,
    chi2PerDof: chi(used.filter((s) => s.flux / s.fluxErr < 200)),
    chi2PerDofAll: chi(used),
    stars,
  };
}
