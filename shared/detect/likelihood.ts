/**
 * The matched-filter (likelihood) image of a difference: for every pixel the maximum-likelihood
 * PSF flux of a point source centred there and its variance, from the per-pixel variance plane
 * (Kaiser 2004, "The Photon Statistics of Faint Source Detection", Pan-STARRS PSDC-002-011;
 * Bosch et al. 2018, PASJ 70, S5, sec. 4.7):
 *   num(x) = sum_i P(i - x) D(i) / V(i),   den(x) = sum_i P(i - x)^2 / V(i),
 *   flux(x) = num / den,   fluxErr(x) = 1 / sqrt(den),   significance(x) = num / sqrt(den).
 * Masked pixels get zero weight, so detection never thresholds single pixels.
 */
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { tasksOf } from '../util/pool-task.js';
import { WorkerPool } from '../util/worker-pool.js';
import { siblingModule } from '../util/worker.js';
import {
  correlateAndFinishBand,
  finishRows,
  grownMaskRows,
  weightRows,
  type BandJob,
  type MaskRule,
  type SharedLikelihoodPlanes,
} from './likelihood-worker.js';
import { sharedOrCopy } from '../util/shared-plane.js';
export type { MaskRule } from './likelihood-worker.js';
import {
  correlateSeparable,
  kernelOf,
  separableTerms,
  symmetrizeTerms,
  type SeparableTerm,
} from './separable.js';

const likelihoodTask = tasksOf<typeof import('./likelihood-worker.js')>(
  siblingModule('./likelihood-worker', import.meta.url).href,
);
const WEIGHT_BAND = likelihoodTask('weightBand');
const CORRELATE_BAND = likelihoodTask('correlateAndFinishBand');

export interface LikelihoodImage {
  width: number;
  height: number;
  /** num / sqrt(den): the detection significance in sigma (0 where no pixel has weight). */
  significance: Float32Array;
  /** den = 1 / fluxErr^2, ADU^-2. */
  inverseFluxVariance: Float32Array;
  /** Half-side of the filter kernel, pixels. */
  kernelRadius: number;
}

/**
 * The PSF at the image centre cut to the smallest square that keeps `energy` of sum P^2
 * (what the matched filter's significance depends on); returns the kernel and its side.
 */
export function detectionKernel(
  psf: Psf,
  x: number,
  y: number,
  energy = 0.999,
): { data: Float64Array; size: number } {
  const stamp = psf.stampAt(x, y, true);
  const n = stamp.size;
  const c = (n - 1) / 2;
  let total = 0;
  for (const p of stamp.data) total += p * p;
  let r = 1;
  for (; r < c; r++) {
    let inside = 0;
    for (let j = c - r; j <= c + r; j++)
      for (let i = c - r; i <= c + r; i++) inside += stamp.data[j * n + i] ** 2;
    if (inside >= energy * total) break;
  }
  const size = 2 * r + 1;
  const data = new Float64Array(size * size);
  for (let j = 0; j < size; j++)
    for (let i = 0; i < size; i++) data[j * size + i] = stamp.data[(j + c - r) * n + (i + c - r)];
  return { data, size };
}

/** Pixels within `radius` px (a disc) of a pixel with any of `bits`: 1, else 0. */
export function grownMask(exposure: Exposure, bits: number, radius: number): Uint8Array {
  return grownMaskRows(exposure.mask, bits, radius, 0, exposure.height);
}

/** A zeroed float plane in shared memory, for the pool's workers. */
function plane(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * 4));
}

interface Prepared {
  weighted: Float32Array;
  weight: Float32Array;
  squared: Float64Array;
  kernelSize: number;
  numTerms: SeparableTerm[];
  denTerms: SeparableTerm[];
}

/** The filter's kernel, its square and their separable terms. */
function filterTerms(
  psf: Psf,
  width: number,
  height: number,
): Omit<Prepared, 'weighted' | 'weight'> {
  const kernel = detectionKernel(psf, (width - 1) / 2, (height - 1) / 2);
  // Terms beyond 99.9% of the kernel's power change the significance by well under 0.1 sigma;
  // mirror-symmetric factors (exact for round PSFs, a <0.1% loss of matched-filter efficiency for
  // mildly asymmetric ones) halve the multiplications. The denominator uses the filter actually
  // applied, squared, so num / sqrt(den) keeps unit variance.
  const numTerms = symmetrizeTerms(separableTerms(kernel.data, kernel.size, 1e-3));
  const squared = kernelOf(numTerms, kernel.size).map((p) => p * p);
  const denTerms = symmetrizeTerms(separableTerms(squared, kernel.size, 1e-3));
  return { squared, kernelSize: kernel.size, numTerms, denTerms };
}

/** Weighted image D/V and weight 1/V (0 where excluded), and the filter's separable terms. */
function prepare(exposure: Exposure, psf: Psf, mask: MaskRule): Prepared {
  const { width, height } = exposure;
  const weighted = new Float32Array(width * height);
  const weight = new Float32Array(width * height);
  weightRows(exposure, mask, weighted, weight, 0, height);
  return { weighted, weight, ...filterTerms(psf, width, height) };
}

/** sum(P^2) of the applied filter: the information of a fully usable neighbourhood times V. */
function sumOf(squared: Float64Array): number {
  let sum = 0;
  for (const k of squared) sum += k;
  return sum;
}

/** significance = num / sqrt(den) where enough of the PSF's information is usable. */
function finish(
  exposure: Exposure,
  prepared: Prepared,
  num: Float32Array,
  den: Float32Array,
  minInformation: number,
): LikelihoodImage {
  const { height } = exposure;
  finishRows(exposure.variance, num, den, sumOf(prepared.squared), minInformation, 0, height);
  return likelihoodOf(exposure, num, den, prepared.kernelSize);
}

/** The named result of a finished num / den pair for a filter `kernelSize` px wide. */
function likelihoodOf(
  { width, height }: { width: number; height: number },
  num: Float32Array,
  den: Float32Array,
  kernelSize: number,
): LikelihoodImage {
  return {
    width,
    height,
    significance: num,
    inverseFluxVariance: den,
    kernelRadius: (kernelSize - 1) / 2,
  };
}

/**
 * The likelihood image of `exposure` (its image, variance and mask) for `psf`, with pixels
 * excluded by `mask` given zero weight. Where the usable pixels carry less than
 * `minInformation` of the matched-filter information a clean neighbourhood would
 * (den * V / sum(P^2)), the significance is set to 0: such positions are mostly masked.
 * @example
 *   const { significance } = likelihoodImage(diff, diffPsf, { excludeBits: UNUSABLE, growBits: MaskPlane.CR, growRadius: 2 });
 */
export function likelihoodImage(
  exposure: Exposure,
  psf: Psf,
  mask: MaskRule,
  minInformation = 0,
): LikelihoodImage {
  const p = prepare(exposure, psf, mask);
  const { width, height } = exposure;
  const den = correlateSeparable(p.weight, width, height, p.denTerms);
  const num = correlateSeparable(p.weighted, width, height, p.numTerms);
  return finish(exposure, p, num, den, minInformation);
}

/**
 * likelihoodImage with its row work cut into bands, one per thread: this one and each worker of
 * `pool` (default the shared pool, warm, so no thread is started here). Each thread weights its
 * band (the masks grown from the rows around it), then, once every band is weighted, correlates
 * it (correlateSeparableRows reads the neighbours' rows) and takes its significance. The bands
 * assemble the very image of likelihoodImage.
 */
export async function likelihoodImageParallel(
  exposure: Exposure,
  psf: Psf,
  mask: MaskRule,
  minInformation = 0,
  pool: WorkerPool = WorkerPool.shared(),
): Promise<LikelihoodImage> {
  if (pool.size === 0) return likelihoodImage(exposure, psf, mask, minInformation);
  const { width, height } = exposure;
  const planes = {
    image: sharedOrCopy(exposure.image),
    variance: sharedOrCopy(exposure.variance),
    mask: sharedOrCopy(exposure.mask),
  };
  const weighted = plane(width * height);
  const weight = plane(width * height);
  const threads = pool.size + 1;
  const rows = (k: number) => ({
    y0: Math.round((k * height) / threads),
    y1: Math.round(((k + 1) * height) / threads),
  });
  const shared: SharedLikelihoodPlanes = {
    image: planes.image.data.buffer as SharedArrayBuffer,
    variance: planes.variance.data.buffer as SharedArrayBuffer,
    mask: planes.mask.data.buffer as SharedArrayBuffer,
    width,
    height,
  };
  const weighting = Array.from({ length: pool.size }, (_, k) =>
    pool.runTask(WEIGHT_BAND, {
      planes: shared,
      rule: mask,
      weighted: weighted.buffer as SharedArrayBuffer,
      weight: weight.buffer as SharedArrayBuffer,
      ...rows(k + 1),
    }),
  );
  const { y0, y1 } = rows(0);
  weightRows(planes, mask, weighted, weight, y0, y1);
  const terms = filterTerms(psf, width, height);
  await Promise.all(weighting);
  const num = plane(width * height);
  const den = plane(width * height);
  const sumSquared = sumOf(terms.squared);
  const bandOf = (k: number): BandJob => {
    const { y0, y1 } = rows(k);
    const correlation = (input: Float32Array, output: Float32Array, t: SeparableTerm[]) => ({
      input: input.buffer as SharedArrayBuffer,
      output: output.buffer as SharedArrayBuffer,
      width,
      height,
      terms: t,
      y0,
      y1,
    });
    return {
      correlations: [
        correlation(weighted, num, terms.numTerms),
        correlation(weight, den, terms.denTerms),
      ],
      finish: {
        planes: shared,
        num: num.buffer as SharedArrayBuffer,
        den: den.buffer as SharedArrayBuffer,
        sumSquared,
        minInformation,
      },
    };
  };
  const pending = Array.from({ length: pool.size }, (_, k) =>
    pool.runTask(CORRELATE_BAND, bandOf(k + 1)),
  );
  correlateAndFinishBand(bandOf(0));
  await Promise.all(pending);
  return likelihoodOf(exposure, num, den, terms.kernelSize);
}
