/**
 * subtractImages: PSF-match and subtract an aligned, characterized template from a science
 * exposure (stages 3-8 of `ap diff`; runDiff in pipeline.ts adds characterization and the
 * warp). Stages: choose the method, select kernel candidates, fit the kernel, convolve and
 * subtract, decorrelate, and build the output; each is timed.
 * @example
 *   const r = await subtractImages(science, warpedTemplate, { method: 'auto' });
 *   r.method; r.kernelSum; r.difference.image; r.differencePsf.stampAt(x, y);
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import { Plane, type ImageF } from '../image/plane.js';
import type { Psf } from '../psf/types.js';
import { releaseShared } from '../util/buffer-pool.js';
import { sharedCopy, sharedOrCopy } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { alDifferencePsf } from './al-psf.js';
import {
  pairApertureCorrection,
  STEADY_CLIP_SIGMA,
  steadyCandidates,
} from './aperture-correction.js';
import type { StarHalos } from './star-halos.js';
import { alardLuptonBasis, basisSigmas, type KernelBasis } from './basis.js';
import { selectCandidates } from './candidates.js';
import { DEFAULT_SUBTRACT_CONFIG, type DiffMethod, type SubtractConfig } from './config.js';
import { differenceMaskAsync } from './difference-mask.js';
import { convolveKernelField, kernelSquaredSum } from './convolve-field.js';
import { decorrelate, type NoiseModels } from './decorrelate.js';
import { fillGarbageAsync, withGarbageFilled } from './garbage-fill.js';
import { MIN_PIXELS_PER_UNKNOWN, prepareStamps, type CandidateReport } from './kernel-fit.js';
import { fitKernelWithFallback } from './kernel-fallback.js';
import type { KernelSolution } from './kernel-solution.js';
import { differenceVarianceAsync, inLocalFrame, NoiseMap } from './noise.js';
import { GridPsf, stampSigma } from './psf-grid.js';
import { SmoothedPsf } from './smooth-psf-spectrum.js';
import { zogy, zogyDifferencePsf } from './zogy.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';
import type { ResidualBackground } from './illumination.js';
import type { ModelError } from './model-error.js';
import { finishDifference, preloadOutputTasks, startHaloStars } from './output.js';
import type { HaloStar } from './star-halos.js';

export type SubtractStage =
  | 'chooseMethod'
  | 'selectCandidates'
  | 'fitKernel'
  | 'convolveSubtract'
  | 'decorrelate'
  | 'output'
  | 'total';

export interface SubtractStats {
  /** Kernel side and basis sigmas used, pixels. */
  kernelSize: number;
  basisSigmas: number[];
  /** Spatial orders actually fitted (lowered when candidates are few). */
  spatialKernelOrder: number;
  spatialBackgroundOrder: number;
  candidates: CandidateReport[];
  candidatesUsed: number;
  /** FWHM of the science and template PSFs at the image centre, pixels. */
  scienceFwhmPx: number;
  templateFwhmPx: number;
  /** Clipped standard deviation of IMAGE / sqrt(VARIANCE) over unmasked pixels (1 when the variance is right). */
  noiseRatio: number;
  /** Fraction of the image's pixels that are usable (no UNUSABLE bit). */
  usableFraction: number;
  /** '' when the configured kernel fit was sound, else what was degenerate and the simpler fit used (KERNFALL). */
  kernelFallback: string;
  /** Aperture-correction ratio applied to the kernel sum (1 when a PSF's wings could not be extrapolated). */
  apertureCorrection: number;
  apertureCorrected: boolean;
  /** The difference's residual background (illumination.ts): whether it was significant and subtracted. */
  residualBackground: ResidualBackground;
  /** The bright stars' common ring fitted on an AL difference (null for ZOGY; star-halos.ts). */
  starHalos: StarHalos | null;
  /** Pixels flagged CR on the difference (difference-cosmic-rays.ts). */
  differenceCrPixels: number;
}

export interface SubtractResult {
  /** Difference, science frame and WCS, science flux units. */
  difference: Exposure;
  method: DiffMethod;
  /** Photometric scale: science flux per template flux of total fluxes (the kernel sum, aperture-corrected). */
  kernelSum: number;
  /** FWHM of the difference PSF at the image centre, pixels. */
  psfFwhmPx: number;
  differencePsf: GridPsf;
  /** ZOGY's S_corr (significance per pixel), when the method is ZOGY. */
  score: ImageF | null;
  /** The fitted kernel field (convolving the template for AL and ZOGY's scale, the science for AL-CONVSCI). */
  kernel: KernelSolution;
  stats: SubtractStats;
  /** The model error whose variance was added to the difference's (only when run.modelError). */
  modelError?: ModelError;
  timingsMs: Record<SubtractStage, number>;
}

/** Adaptive second moments [xx, yy] of the centred PSF stamp at (x, y), pixels^2. */
function axisMoments(psf: Psf, x: number, y: number): [number, number] {
  const s = psf.stampAt(x, y, true);
  const c = (s.size - 1) / 2;
  const sig = stampSigma(s.data, s.size);
  let t = 0,
    xx = 0,
    yy = 0;
  for (let v = 0; v < s.size; v++) {
    for (let u = 0; u < s.size; u++) {
      const w = s.data[v * s.size + u] * Math.exp(-((u - c) ** 2 + (v - c) ** 2) / (2 * sig * sig));
      t += w;
      xx += w * (u - c) ** 2;
      yy += w * (v - c) ** 2;
    }
  }
  return [xx / t, yy / t];
}

/** Gaussian-equivalent sigma of a PSF at (x, y) from adaptive moments of its stamp (robust to noisy wings). */
function psfSigma(psf: Psf, x: number, y: number): number {
  const s = psf.stampAt(x, y, true);
  return stampSigma(s.data, s.size);
}

/**
 * Rubin's rule (AlardLuptonSubtractTask, mode 'auto'): convolve the template when its PSF
 * is no wider than the science PSF along both axes, else convolve the science.
 */
export function templateIsNarrower(
  sciencePsf: Psf,
  templatePsf: Psf,
  width: number,
  height: number,
): boolean {
  let sx = 0,
    sy = 0,
    tx = 0,
    ty = 0;
  for (const fy of [0.25, 0.5, 0.75]) {
    for (const fx of [0.25, 0.5, 0.75]) {
      const [a, b] = axisMoments(sciencePsf, fx * (width - 1), fy * (height - 1));
      const [c, d] = axisMoments(templatePsf, fx * (width - 1), fy * (height - 1));
      sx += a;
      sy += b;
      tx += c;
      ty += d;
    }
  }
  return tx <= sx && ty <= sy;
}

/** Mask bits whose pixel values are meaningless (set to 0 before filters that spread them). */
const GARBAGE = MaskPlane.BAD | MaskPlane.SAT | MaskPlane.CR | MaskPlane.NO_DATA;

/** Half-side of the smallest stamp whose own fit (the basis and a background) is not degenerate. */
function smallestFitStampHalf(basis: KernelBasis): number {
  return Math.ceil((Math.sqrt(MIN_PIXELS_PER_UNKNOWN * (basis.terms.length + 1)) - 1) / 2);
}

function zeroMasked(image: ImageF, mask: Plane<Int32Array>, bits: number): void {
  for (let y = 0; y < image.height; y++) {
    const im = image.row(y),
      m = mask.row(y);
    for (let x = 0; x < image.width; x++) if (m[x] & bits) im[x] = 0;
  }
}

function gridPositions(length: number, count: number): number[] {
  return Array.from({ length: count }, (_v, i) =>
    count === 1 ? (length - 1) / 2 : ((i + 0.5) * (length - 1)) / count,
  );
}

export interface SubtractRunOptions {
  /** Called as each stage ends with its wall time, ms (benchmarks sample memory there). */
  onStage?: (stage: SubtractStage, ms: number) => void;
  /** Worker threads for the tiled stages (convolve, decorrelate, ZOGY); none: all on this thread. */
  pool?: WorkerPool | null;
  /** Measure the model error on static sources and add its variance (model-error.ts; runDiff does). */
  modelError?: boolean;
}

/** Stages 3-8 on aligned, characterized exposures (each with a PSF, backgrounds subtracted). */
export async function subtractImages(
  science: Exposure,
  template: Exposure,
  overrides: Partial<SubtractConfig> = {},
  run: SubtractRunOptions = {},
): Promise<SubtractResult> {
  const { onStage, pool = null } = run;
  const cfg: SubtractConfig = { ...DEFAULT_SUBTRACT_CONFIG, ...overrides };
  const { width, height } = science;
  if (template.width !== width || template.height !== height) {
    throw new RangeError(
      `template ${template.width}x${template.height} is not on the science grid ${width}x${height}`,
    );
  }
  const sciPsf = science.psf,
    tmplPsf = template.psf;
  if (!sciPsf || !tmplPsf)
    throw new Error('subtractImages needs a PSF on both exposures (characterize them first)');
  preloadOutputTasks(pool);
  const timings = {} as Record<SubtractStage, number>;
  const start = performance.now();
  let last = start;
  const lap = (stage: SubtractStage): void => {
    const now = performance.now();
    timings[stage] = now - last;
    last = now;
    onStage?.(stage, timings[stage]);
  };

  // (3) Method.
  const cx = (width - 1) / 2,
    cy = (height - 1) / 2;
  const fwhmS = FWHM_PER_SIGMA * psfSigma(sciPsf, cx, cy),
    fwhmT = FWHM_PER_SIGMA * psfSigma(tmplPsf, cx, cy);
  const narrowTemplate = templateIsNarrower(sciPsf, tmplPsf, width, height);
  const method: DiffMethod =
    cfg.method === 'zogy'
      ? 'ZOGY'
      : cfg.method === 'al'
        ? 'AL'
        : cfg.method === 'al-convsci'
          ? 'AL-CONVSCI'
          : narrowTemplate
            ? 'AL'
            : 'AL-CONVSCI';
  // ZOGY fits an AL kernel only for the photometric scale and differential background.
  const convolveScience = method === 'AL-CONVSCI' || (method === 'ZOGY' && !narrowTemplate);
  const [target, source] = convolveScience ? [template, science] : [science, template];
  const [targetPsf, sourcePsf] = convolveScience ? [tmplPsf, sciPsf] : [sciPsf, tmplPsf];
  lap('chooseMethod');

  // (4) Kernel candidates.
  const wide = Math.max(fwhmS, fwhmT);
  let kSize = Math.round(cfg.kernelSizeFwhmScaling * wide);
  kSize = Math.min(cfg.kernelSizeMax, Math.max(cfg.kernelSizeMin, kSize));
  if (kSize % 2 === 0) kSize += 1;
  const kHalf = (kSize - 1) / 2;
  const sigmas = basisSigmas(
    psfSigma(sourcePsf, cx, cy),
    psfSigma(targetPsf, cx, cy),
    cfg.basisBeta,
    cfg.basisMinSigma,
  );
  const makeBasis = (degrees: number[]): KernelBasis =>
    alardLuptonBasis({ size: kSize, sigmas, degrees });
  const stampHalf = Math.max(kHalf, Math.ceil(cfg.stampFwhmScaling * wide));
  const basis = makeBasis(cfg.basisDegrees);
  // The difference's mask, on a worker meanwhile: the template's bits spread over the filters' reach.
  const reach = method === 'ZOGY' ? (Math.max(sciPsf.stampSize, tmplPsf.stampSize) - 1) / 2 : kHalf;
  const masking = differenceMaskAsync(science.mask, template.mask, reach, pool);
  masking.catch(() => {}); // awaited after the kernel fit, which may throw first
  const stamps = selectCandidates(target, source, {
    grid: cfg.candidateGrid,
    perCell: cfg.candidatesPerCell,
    minSnr: cfg.candidateMinSnr,
    stampHalf,
    borderStampHalf: cfg.borderCandidates ? smallestFitStampHalf(basis) : stampHalf,
    kernelHalf: kHalf,
    fwhm: wide,
  });
  // Variable stars would pull the kernel sum: dropped by their flux ratio within one FWHM.
  const steady = steadyCandidates(stamps, target, source, wide, STEADY_CLIP_SIGMA);
  lap('selectCandidates');

  // (5) Kernel fit, its stamps prepared on both threads.
  const prepared = await prepareStamps(steady, basis, pool);
  // Masked garbage (a hot column, a cosmic ray) of the image to convolve is filled from its neighbours, else 0, so
  // the kernel does not spread it: on the worker while this thread fits.
  const filling =
    method !== 'ZOGY' && cfg.garbageFillRings > 0
      ? fillGarbageAsync(source.image, source.mask, GARBAGE, cfg.garbageFillRings, pool)
      : null;
  filling?.catch(() => {}); // awaited after the fit, which may throw first
  const fit = fitKernelWithFallback(
    steady,
    makeBasis,
    cfg.basisDegrees,
    width,
    height,
    {
      spatialOrder: method === 'ZOGY' ? 0 : cfg.spatialKernelOrder,
      spatialOrderSelection: cfg.spatialOrderSelection,
      backgroundOrder: cfg.spatialBackgroundOrder,
      residualMeanMax: cfg.candidateResidualMeanMax,
      residualStdMax: cfg.candidateResidualStdMax,
      borderResidualStdMax: cfg.borderCandidateStdMax,
      kernelSumSigmaMax: cfg.maxKernelSumSigma,
      maxIterations: cfg.maxIterations,
    },
    prepared,
  );
  const solution = fit.solution;
  const kappa = solution.kernelSum;
  const scale = convolveScience ? 1 / kappa : kappa;
  // Photometric scale of total fluxes: the kernel sum times the aperture corrections of its stamp.
  const apCorr = pairApertureCorrection(targetPsf, sourcePsf, cx, cy, stampHalf);
  const photometricScale = convolveScience ? 1 / (kappa * apCorr.ratio) : kappa * apCorr.ratio;
  lap('fitKernel');

  const noiseS = NoiseMap.of(science),
    noiseT = NoiseMap.of(template);
  // Correlated input noise (a warped template's): the filters take its spectrum, and the whitened
  // difference's per-pixel variance is each plane times its large-scale factor N(0).
  const modelS = inLocalFrame(science.noiseCorrelation, science.image.x0, science.image.y0);
  const modelT = inLocalFrame(template.noiseCorrelation, template.image.x0, template.image.y0);
  // On shared memory (with a pool): the residual background's workers read it in place (illumination.ts).
  let image: ImageF;
  let variance: ImageF;
  let score: ImageF | null = null;
  let differencePsf: GridPsf;
  let haloStars: Promise<HaloStar[]> | null = null;
  const xs = gridPositions(width, cfg.psfGrid),
    ys = gridPositions(height, cfg.psfGrid);
  // The difference PSF is as wide as the wider input PSF: stamps as large as the larger input stamp.
  const psfSize = Math.max(sciPsf.stampSize, tmplPsf.stampSize) | 1;

  const mask = await masking;

  if (method === 'ZOGY') {
    // (6) ZOGY on background-matched images: the AL fit's differential background is removed from the target.
    lap('convolveSubtract');
    // Copies on shared memory, which the filters' worker reads in place.
    const corrected = (e: Exposure): ImageF => {
      const out = sharedCopy(e.image);
      solution.addBackground(out, -1);
      return out;
    };
    // ZOGY's filters are not compact: masked garbage is zeroed so it does not ring over the tile.
    const n = convolveScience ? sharedCopy(science.image) : corrected(science);
    const r = convolveScience ? corrected(template) : sharedCopy(template.image);
    zeroMasked(n, science.mask, GARBAGE);
    zeroMasked(r, template.mask, GARBAGE);
    const noiseAt = (x: number, y: number): [number, number] => [noiseS.at(x, y), noiseT.at(x, y)];
    const [smoothS, smoothT] = [
      new SmoothedPsf(sciPsf, width, height),
      new SmoothedPsf(tmplPsf, width, height),
    ];
    const z = await zogy(
      n,
      r,
      science.variance,
      template.variance,
      smoothS,
      smoothT,
      scale,
      noiseAt,
      {
        fftSize: cfg.fftSize,
        blend: cfg.tileBlendPx,
        astrometricSigmaPx: cfg.zogyAstrometricSigmaPx,
        psfErrorFraction: cfg.zogyPsfErrorFraction,
        regularization: cfg.zogyRegularization,
      },
      pool,
      [modelS, modelT],
    );
    // The filters' inputs, copies made here, are read no more: back to the pool for the variance plane.
    releaseShared(n.data, r.data);
    score = z.score;
    image = sharedOrCopy(z.difference);
    variance = await differenceVarianceAsync(
      science.variance,
      template.variance,
      [modelS, modelT],
      scale * scale,
      null,
      null,
    );
    lap('decorrelate');
    differencePsf = zogyDifferencePsf(
      smoothS,
      smoothT,
      scale,
      noiseAt,
      xs,
      ys,
      psfSize,
      cfg.zogyRegularization,
      [modelS, modelT],
    );
  } else {
    // The difference's variance, on the worker while this thread starts the tiles below (which it joins after):
    // after decorrelation white at var_target N_t(0) + kappa^2 var_source N_s(0), before it var_target +
    // var_source times the kernel's squared sum; over kappa^2 when convolving the science.
    const models: NoiseModels = convolveScience ? [modelT, modelS] : [modelS, modelT];
    const variancing = differenceVarianceAsync(
      target.variance,
      source.variance,
      cfg.decorrelate ? models : [null, null],
      cfg.decorrelate ? kappa * kappa : kernelSquaredSum(solution, cx, cy),
      convolveScience ? kappa * kappa : null,
      pool,
    );
    variancing.catch(() => {}); // awaited after the convolution, which may throw first
    // (6) Convolve the source image, its garbage filled (above, in place for the convolution only) or read as 0,
    // by the kernel field and subtract, tile by tile; the difference's own garbage would ring through the
    // decorrelation's sidelobes: zeroed as it is written.
    const fill = filling && (await filling);
    const convolve = (): Promise<ImageF> =>
      convolveKernelField(source.image, solution, cfg.fftSize, pool, {
        target: target.image,
        divisor: convolveScience ? kappa : null,
        sourceGarbage: fill ? undefined : { mask: source.mask, bits: GARBAGE },
        garbage: cfg.decorrelate ? { mask, bits: GARBAGE } : undefined,
      });
    image = await (fill ? withGarbageFilled(source.image, fill, convolve) : convolve());
    variance = await variancing;
    lap('convolveSubtract');
    // (7) Decorrelation (DMTN-021).
    const noiseAt = (x: number, y: number): [number, number] => {
      const [u, c] = convolveScience
        ? [noiseT.at(x, y), noiseS.at(x, y)]
        : [noiseS.at(x, y), noiseT.at(x, y)];
      return [u, c];
    };
    if (cfg.decorrelate) {
      const convolved = image;
      image = await decorrelate(
        convolved,
        solution,
        noiseAt,
        { fftSize: cfg.fftSize, blend: cfg.tileBlendPx, models },
        pool,
      );
      // The difference before decorrelation is read no more: its shared buffer goes back to the pool.
      releaseShared(convolved.data);
    }
    lap('decorrelate');
    // The output's halo stars (the warped template's) on the worker while this thread makes the PSF.
    haloStars = startHaloStars(template, wide, method, cfg, pool);
    differencePsf = alDifferencePsf(sciPsf, solution, xs, ys, psfSize, {
      convolveScience,
      decorrelated: cfg.decorrelate,
      noiseAt,
      models,
    });
  }

  // (8) Output (output.ts): no-data pixels zeroed, what the kernel could not model, noise figures.
  const out = await finishDifference(
    { image, mask, variance },
    { science, template, method, differencePsf, fwhmPx: wide, scale: photometricScale, haloStars },
    cfg,
    pool,
    run.modelError ?? false,
  );
  lap('output');
  timings.total = performance.now() - start;
  return {
    difference: out.difference,
    method,
    kernelSum: photometricScale,
    psfFwhmPx: out.psfFwhmPx,
    differencePsf,
    score,
    kernel: solution,
    stats: {
      kernelSize: kSize,
      basisSigmas: sigmas,
      spatialKernelOrder: solution.spatialOrder,
      spatialBackgroundOrder: solution.backgroundOrder,
      candidates: fit.candidates,
      candidatesUsed: fit.used,
      scienceFwhmPx: fwhmS,
      templateFwhmPx: fwhmT,
      noiseRatio: out.noiseRatio,
      usableFraction: out.usableFraction,
      kernelFallback: fit.fallback,
      apertureCorrection: apCorr.ratio,
      apertureCorrected: apCorr.applied,
      residualBackground: out.residualBackground,
      starHalos: out.starHalos,
      differenceCrPixels: out.differenceCrPixels,
    },
    modelError: out.modelError,
    timingsMs: timings,
  };
}
