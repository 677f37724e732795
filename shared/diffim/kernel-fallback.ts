/**
 * A kernel fit that cannot fail silently (issue 15 item 4). The configured Alard-Lupton fit is
 * checked for a degenerate solution (non-finite terms, a kernel sum that is not positive or far
 * from what the candidates measured one by one, a kernel that blows up towards the corners, no
 * stamp left; fitKernel itself lowers the spatial orders to what the stamp count supports, and
 * one stamp's hundreds of pixels constrain the full basis); each failure falls back to a simpler
 * fit, in this order:
 *   1. the configured basis and spatial orders;
 *   2. the same basis, spatially constant kernel and background (order 0);
 *   3. the bare Gaussians (every polynomial degree 0), order 0.
 * The first sound one is used and the fallback is reported (`fallback`, written as KERNFALL);
 * when none is sound the image fails with KernelFitError naming the last cause.
 */
import type { CandidateStamp } from './candidates.js';
import type { KernelBasis } from './basis.js';
import {
  fitKernel,
  type KernelFitOptions,
  type KernelFitResult,
  type PreparedStamp,
} from './kernel-fit.js';
import { median } from '../util/stats.js';
import { KernelFitError } from './errors.js';

/** A spatial fit's kernel sum may differ from the median single-candidate sum by this fraction at most. */
export const MAX_KERNEL_SUM_DEVIATION = 0.5;
/** The kernel's squared sum at a corner may exceed the centre's by this factor at most (a polynomial running away). */
export const MAX_CORNER_POWER_RATIO = 100;

export interface KernelFallbackResult extends KernelFitResult {
  /** '' when the configured fit was sound, else what was wrong and what was used instead. */
  fallback: string;
}

function squaredSum(k: Float64Array): number {
  let s = 0;
  for (const v of k) s += v * v;
  return s;
}

/** Why a fitted kernel cannot be used, or '' when it is sound. */
export function kernelProblem(fit: KernelFitResult, width: number, height: number): string {
  const { solution } = fit;
  const ks = solution.kernelSum;
  if (
    ![ks, ...solution.background, ...solution.coefficients.flatMap((c) => Array.from(c))].every(
      Number.isFinite,
    )
  )
    return 'non-finite kernel solution';
  if (!(ks > 0)) return `kernel sum ${ks.toPrecision(4)} is not positive`;
  const singles = fit.candidates
    .filter((c) => !c.rejected && Number.isFinite(c.kernelSum))
    .map((c) => c.kernelSum);
  const typical = singles.length ? median(singles) : Number.NaN;
  if (Number.isFinite(typical) && Math.abs(ks / typical - 1) > MAX_KERNEL_SUM_DEVIATION) {
    return `kernel sum ${ks.toPrecision(4)} is far from the candidates' median ${typical.toPrecision(4)}`;
  }
  if (fit.used === 0) return 'no stamp left in the fit';
  const centre = squaredSum(solution.kernelAt((width - 1) / 2, (height - 1) / 2));
  for (const [x, y] of [
    [0, 0],
    [width - 1, 0],
    [0, height - 1],
    [width - 1, height - 1],
  ]) {
    const corner = squaredSum(solution.kernelAt(x, y));
    if (!Number.isFinite(corner) || corner > MAX_CORNER_POWER_RATIO * centre)
      return `kernel runs away towards pixel (${x}, ${y})`;
  }
  return '';
}

/**
 * fitKernel with the fallbacks above; `makeBasis(degrees)` builds the basis for a list of
 * polynomial degrees (the configured ones first); `prepared`: the stamps already prepared against
 * the configured degrees' basis (kernel-fit.ts prepareStamps), else prepared here.
 */
export function fitKernelWithFallback(
  stamps: CandidateStamp[],
  makeBasis: (degrees: number[]) => KernelBasis,
  degrees: number[],
  width: number,
  height: number,
  opt: KernelFitOptions,
  prepared?: PreparedStamp[],
): KernelFallbackResult {
  const bare = degrees.map(() => 0);
  const attempts = [
    {
      degrees,
      spatialOrder: opt.spatialOrder,
      backgroundOrder: opt.backgroundOrder,
      label: 'configured fit',
    },
    { degrees, spatialOrder: 0, backgroundOrder: 0, label: 'spatial order 0' },
    {
      degrees: bare,
      spatialOrder: 0,
      backgroundOrder: 0,
      label: 'bare Gaussian basis, spatial order 0',
    },
  ];
  const problems: string[] = [];
  const tried = new Set<string>();
  for (const a of attempts) {
    const key = `${a.degrees.join(',')}/${a.spatialOrder}/${a.backgroundOrder}`;
    if (tried.has(key)) continue;
    tried.add(key);
    const fit = fitKernel(
      stamps,
      makeBasis(a.degrees),
      width,
      height,
      { ...opt, spatialOrder: a.spatialOrder, backgroundOrder: a.backgroundOrder },
      a.degrees === degrees ? prepared : undefined,
    );
    const problem = kernelProblem(fit, width, height);
    if (!problem)
      return { ...fit, fallback: problems.length ? `${problems.join('; ')}: ${a.label}` : '' };
    problems.push(`${a.label}: ${problem}`);
  }
  throw new KernelFitError(problems.join('; '));
}
