/**
 * Coadding warped, scaled inputs on one grid: rejection of what only some inputs hold, then the
 * inverse-variance weighted mean, its variance and its noise correlation.
 *
 * Rejection 'compareWarp' follows Rubin's CompareWarpAssembleCoaddTask (DMTN-080): each warp is
 * PSF-matched to a common target on a grid binned rejectBin x rejectBin (artifacts are at least a
 * PSF wide; 4x fewer pixels to filter), by its PSF model (compareMatch 'model', model-match.ts) or
 * to a Gaussian (a Gaussian of sqrt(s_T^2 - s_i^2), 'gaussian'), the median of
 * the matched warps is the artifact-free reference, and where one matched warp exceeds it by
 * rejectSigma of its noise and by rejectRelative of the reference, grown by rejectGrowFwhm, that
 * input is left out of the direct (unmatched) coadd. 'clip' rejects per pixel against the median
 * (an outlier-clipped mean); 'none' keeps everything.
 */
import type { NoiseCorrelation, NoiseLags } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { MaskPlane } from '../image/mask.js';
import { madSigma } from '../util/stats.js';
import { flagInexactPsf } from './inexact-psf.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { siblingModule } from '../util/worker.js';
import type { TemplateConfig } from './config.js';
import {
  blurUsable,
  clipRows,
  medianRows,
  outlierMap,
  stackRows,
  type StackJob,
  type StackPlane,
} from './stack-kernels.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';
import { binnedPsfStamp, matchingKernels } from './model-match.js';
import { targetMoment } from './psf-weights.js';
import { tasksOf, type Task } from '../util/pool-task.js';

/** The matched PSF is this much wider than the widest input PSF, so every input is blurred a little (no deconvolution). */
const MATCH_MARGIN = 1.05;
/**
 * compareMatch 'model': the target is the broadest input's PSF convolved with a Gaussian of this
 * sigma, binned pixels: it damps the binned grid's Nyquist, where a kernel dividing by a PSF's weak
 * transfer rings (with the 5 % margin's 0.34 px the broadest input's kernel alternates in sign out
 * to its edge, and a bright star's matched wings with it).
 */
const MODEL_TARGET_SIGMA = 1;
const kernel = tasksOf<typeof import('./stack-kernels.js')>(
  siblingModule('./stack-kernels', import.meta.url).href,
);

export interface StackInput {
  image: Float32Array;
  variance: Float32Array;
  mask: Int32Array;
  weight: number;
  /** Median per-pixel variance of the covered pixels (for the noise model's mix). */
  pixelVariance: number;
  /** PSF FWHM on the output grid, px (for PSF matching). */
  fwhmPx: number;
  /** The input's PSF model on the output grid (compareMatch 'model', CoaddPsf). */
  psf: Psf;
  noiseCorrelation: NoiseCorrelation | null;
}

export interface StackOutput {
  image: Float32Array;
  variance: Float32Array;
  mask: Int32Array;
  /** Inputs used at each pixel. */
  count: Uint8Array;
  /** Difference of the two half coadds (even- and odd-numbered inputs) over its expected sigma, per pixel. */
  halfZ: Float32Array;
  /** The PSF second moment the weights were tilted to where only some inputs are usable (NaN: not tilted). */
  targetMoment: number;
  /** Per input, the fraction of its covered pixels rejection removed. */
  rejectedFraction: number[];
  noiseCorrelation: NoiseCorrelation | null;
  timingsMs: { rejection: number; stack: number };
}

const shared = <T extends Float32Array | Int32Array | Uint8Array>(
  ctor: { new (b: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number },
  n: number,
): T => new ctor(new SharedArrayBuffer(n * ctor.BYTES_PER_ELEMENT));

/** Runs fn over each argument set: the pool's workers take some, this thread the rest (in lanes). */
async function fanOut<A>(
  pool: WorkerPool | null,
  task: Task<A, unknown>,
  local: (a: A) => unknown,
  args: A[],
): Promise<unknown[]> {
  const lanes = (pool?.size ?? 0) + 1;
  const results: unknown[] = new Array(args.length);
  const remote = args.map((a, i) =>
    i % lanes !== 0 && pool ? pool.runTask(task, a).then((r) => (results[i] = r)) : null,
  );
  args.forEach((a, i) => {
    if (!remote[i]) results[i] = local(a);
  });
  await Promise.all(remote);
  return results;
}

function bands(height: number, lanes: number): Array<[number, number]> {
  return Array.from({ length: lanes }, (_, t) => [
    Math.floor((t * height) / lanes),
    Math.floor(((t + 1) * height) / lanes),
  ]);
}

/** Weighted mean of the inputs' noise-lag models, weights = each input's variance contribution. */
function coaddNoise(
  inputs: readonly StackInput[],
  contribution: readonly number[],
): NoiseCorrelation | null {
  const models = inputs.map((s) => s.noiseCorrelation);
  const first = models.find((m) => m !== null);
  if (
    !first ||
    models.some(
      (m) => m && (m.nx !== first.nx || m.ny !== first.ny || m.cellSize !== first.cellSize),
    )
  )
    return null;
  const total = contribution.reduce((s, c, i) => s + (models[i] ? c : 0), 0);
  const cells: NoiseLags[] = first.cells.map((_cell, k) => {
    const len = (axis: 'x' | 'y') =>
      Math.max(...models.map((m) => (m ? m.cells[k][axis].length : 0)));
    const mix = (axis: 'x' | 'y') => {
      const out = new Array<number>(len(axis)).fill(0);
      models.forEach((m, i) => {
        if (m) m.cells[k][axis].forEach((v, d) => (out[d] += (contribution[i] / total) * v));
      });
      return out;
    };
    return { x: mix('x'), y: mix('y') };
  });
  return {
    x0: first.x0,
    y0: first.y0,
    cellSize: first.cellSize,
    nx: first.nx,
    ny: first.ny,
    cells,
  };
}

/** Robust noise of (a - b) over a subsample of pixels where both are finite. */
function differenceSigma(a: Float32Array, b: Float32Array): number {
  const step = Math.max(1, Math.floor(a.length / 200000));
  const d: number[] = [];
  for (let p = 0; p < a.length; p += step) {
    const v = a[p] - b[p];
    if (v === v) d.push(v);
  }
  return d.length > 10 ? madSigma(d) : Number.NaN;
}

/** Mean position of the pixels an input covers (not NO_DATA), on a subsample: where its PSF model is taken. */
function coveredCentre(mask: Int32Array, width: number): [number, number] {
  const step = Math.max(1, Math.floor(mask.length / 100000));
  let sx = 0;
  let sy = 0;
  let count = 0;
  for (let p = 0; p < mask.length; p += step) {
    if (mask[p] & MaskPlane.NO_DATA) continue;
    sx += p % width;
    sy += Math.floor(p / width);
    count++;
  }
  return count > 0 ? [sx / count, sy / count] : [width / 2, mask.length / width / 2];
}

async function compareWarp(
  width: number,
  height: number,
  planes: StackPlane[],
  inputs: readonly StackInput[],
  cfg: TemplateConfig,
  pool: WorkerPool | null,
): Promise<void> {
  const bin = cfg.rejectBin;
  const bw = Math.ceil(width / bin);
  const bh = Math.ceil(height / bin);
  const sigmas = inputs.map((s) => s.fwhmPx / FWHM_PER_SIGMA);
  const target = Math.max(...sigmas) * MATCH_MARGIN;
  const blurred = inputs.map(() => shared(Float32Array, bw * bh));
  const kernels =
    cfg.compareMatch === 'model'
      ? matchingKernels(
          inputs.map((s) => binnedPsfStamp(s.psf, ...coveredCentre(s.mask, width), bin)),
          sigmas.indexOf(Math.max(...sigmas)),
          MODEL_TARGET_SIGMA,
        )
      : null;
  await fanOut(
    pool,
    kernel('blurTask'),
    blurUsable,
    inputs.map((s, i) => ({
      width,
      height,
      image: s.image,
      mask: s.mask,
      sigma: Math.sqrt(Math.max(0, target * target - sigmas[i] * sigmas[i])),
      kernel: kernels?.[i],
      bin,
      out: blurred[i],
    })),
  );
  const reference = shared(Float32Array, bw * bh);
  const lanes = (pool?.size ?? 0) + 1;
  await fanOut(
    pool,
    kernel('medianTask'),
    medianRows,
    bands(bh, lanes).map(([y0, y1]) => ({ width: bw, blurred, reference, y0, y1 })),
  );
  const grow = (cfg.rejectGrowFwhm * target * FWHM_PER_SIGMA) / bin;
  await fanOut(
    pool,
    kernel('outlierTask'),
    outlierMap,
    planes.map((p, i) => ({
      width: bw,
      height: bh,
      blurred: blurred[i],
      reference,
      threshold: cfg.rejectSigma * differenceSigma(blurred[i], reference),
      relative: cfg.rejectRelative,
      grow,
      bin,
      fullWidth: width,
      fullHeight: height,
      out: p.rejected,
    })),
  );
}

/** Rejects, then stacks, `inputs` (all on one width x height grid, scaled to one zero point). */
export async function stackInputs(
  width: number,
  height: number,
  inputs: readonly StackInput[],
  cfg: TemplateConfig,
  pool: WorkerPool | null,
): Promise<StackOutput> {
  const n = width * height;
  const t0 = performance.now();
  const planes: StackPlane[] = inputs.map((s) => ({
    image: s.image,
    variance: s.variance,
    mask: s.mask,
    weight: s.weight,
    psfMoment: (s.fwhmPx / FWHM_PER_SIGMA) ** 2,
    rejected: shared(Uint8Array, n),
  }));
  const lanes = (pool?.size ?? 0) + 1;
  if (cfg.rejection === 'compareWarp' && inputs.length >= 3)
    await compareWarp(width, height, planes, inputs, cfg, pool);
  if (cfg.rejection === 'clip')
    await fanOut(
      pool,
      kernel('clipTask'),
      clipRows,
      bands(height, lanes).map(([y0, y1]) => ({
        width,
        inputs: planes,
        nSigma: cfg.clipSigma,
        y0,
        y1,
      })),
    );
  const t1 = performance.now();
  const job: StackJob = {
    width,
    height,
    inputs: planes,
    image: shared(Float32Array, n),
    variance: shared(Float32Array, n),
    mask: shared(Int32Array, n),
    count: shared(Uint8Array, n),
    propagateFraction: cfg.maskPropagationFraction,
    minCovering: cfg.minPixelInputs,
    targetMoment: cfg.psfContinuousWeights
      ? targetMoment(
          planes.map((p) => p.weight),
          planes.map((p) => p.psfMoment),
        )
      : Number.NaN,
    halfZ: shared(Float32Array, n),
  };
  await fanOut(
    pool,
    kernel('stackTask'),
    (a: { job: StackJob; y0: number; y1: number }) => stackRows(a.job, a.y0, a.y1),
    bands(height, lanes).map(([y0, y1]) => ({ job, y0, y1 })),
  );
  flagInexactPsf(job.image, job.variance, job.mask, planes, width, height, {
    footprintSigma: cfg.inexactPsfFootprintSigma,
    peakSigma: cfg.inexactPsfPeakSigma,
    missingFraction: cfg.inexactPsfMissingFraction,
  });
  const t2 = performance.now();
  const rejectedFraction = planes.map((p) => {
    let covered = 0;
    let rejected = 0;
    for (let i = 0; i < n; i++) {
      if (p.mask[i] & MaskPlane.NO_DATA) continue;
      covered++;
      rejected += p.rejected[i];
    }
    return covered > 0 ? rejected / covered : 0;
  });
  // Each input adds w^2 var to the coadd's variance.
  const contribution = inputs.map((s) => s.weight * s.weight * s.pixelVariance);
  return {
    image: job.image,
    variance: job.variance,
    mask: job.mask,
    count: job.count,
    halfZ: job.halfZ,
    targetMoment: job.targetMoment,
    rejectedFraction,
    noiseCorrelation: coaddNoise(inputs, contribution),
    timingsMs: { rejection: t1 - t0, stack: t2 - t1 },
  };
}
