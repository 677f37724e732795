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
import { correlateBands, type CorrelationJob } from './likelihood-worker.js';
import {
  correlateSeparable,
  kernelOf,
  separableTerms,
  symmetrizeTerms,
  type SeparableTerm,
} from './separable.js';

const CORRELATE_BANDS = tasksOf<typeof import('./likelihood-worker.js')>(
  siblingModule('./likelihood-worker', import.meta.url).href,
)('correlateBands');

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
  const { width, height } = exposure;
  const out = new Uint8Array(width * height);
  const r = Math.max(0, Math.floor(radius));
  const spans = Array.from({ length: 2 * r + 1 }, (_, k) =>
    Math.floor(Math.sqrt(radius * radius - (k - r) ** 2 + 1e-9)),
  );
  for (let y = 0; y < height; y++) {
    const mk = exposure.mask.row(y);
    for (let x = 0; x < width; x++) {
      if ((mk[x] & bits) === 0) continue;
      for (let dy = -r; dy <= r; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        const half = spans[dy + r];
        out.fill(
          1,
          yy * width + Math.max(0, x - half),
          yy * width + Math.min(width - 1, x + half) + 1,
        );
      }
    }
  }
  return out;
}

/** A zeroed float plane, in shared memory when a worker will read it. */
function plane(length: number, shared: boolean): Float32Array {
  return shared ? new Float32Array(new SharedArrayBuffer(length * 4)) : new Float32Array(length);
}

interface Prepared {
  weighted: Float32Array;
  weight: Float32Array;
  squared: Float64Array;
  kernelSize: number;
  numTerms: SeparableTerm[];
  denTerms: SeparableTerm[];
}

/** Weighted image D/V and weight 1/V (0 where excluded), and the filter's separable terms. */
function prepare(exposure: Exposure, psf: Psf, mask: MaskRule, parallel: boolean): Prepared {
  const { width, height } = exposure;
  const { excludeBits, growBits, growRadius } = mask;
  const weighted = plane(width * height, parallel);
  const weight = plane(width * height, parallel);
  const grown = growBits !== 0 && growRadius > 0 ? grownMask(exposure, growBits, growRadius) : null;
  for (let y = 0; y < height; y++) {
    const img = exposure.image.row(y);
    const vr = exposure.variance.row(y);
    const mk = exposure.mask.row(y);
    const base = y * width;
    for (let x = 0; x < width; x++) {
      const v = vr[x];
      const d = img[x];
      if (
        (mk[x] & excludeBits) === 0 &&
        (grown === null || grown[base + x] === 0) &&
        v > 0 &&
        Number.isFinite(v) &&
        Number.isFinite(d)
      ) {
        weight[base + x] = 1 / v;
        weighted[base + x] = d / v;
      }
    }
  }
  const kernel = detectionKernel(psf, (width - 1) / 2, (height - 1) / 2);
  // Terms beyond 99.9% of the kernel's power change the significance by well under 0.1 sigma;
  // mirror-symmetric factors (exact for round PSFs, a <0.1% loss of matched-filter efficiency for
  // mildly asymmetric ones) halve the multiplications. The denominator uses the filter actually
  // applied, squared, so num / sqrt(den) keeps unit variance.
  const numTerms = symmetrizeTerms(separableTerms(kernel.data, kernel.size, 1e-3));
  const squared = kernelOf(numTerms, kernel.size).map((p) => p * p);
  const denTerms = symmetrizeTerms(separableTerms(squared, kernel.size, 1e-3));
  return { weighted, weight, squared, kernelSize: kernel.size, numTerms, denTerms };
}

/** significance = num / sqrt(den) where enough of the PSF's information is usable. */
function finish(
  exposure: Exposure,
  prepared: Prepared,
  num: Float32Array,
  den: Float32Array,
  minInformation: number,
): LikelihoodImage {
  const { width, height } = exposure;
  const { squared } = prepared;
  // Information a fully usable neighbourhood would give: sum(P^2) / V at the pixel.
  let sumSquared = 0;
  for (const k of squared) sumSquared += k;
  for (let y = 0; y < height; y++) {
    const vr = exposure.variance.row(y);
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const d = den[i];
      const usable = d > 0 && (minInformation <= 0 || (d * vr[x]) / sumSquared >= minInformation);
      num[i] = usable ? num[i] / Math.sqrt(d) : 0;
    }
  }
  return {
    width,
    height,
    significance: num,
    inverseFluxVariance: den,
    kernelRadius: (prepared.kernelSize - 1) / 2,
  };
}

/** Which pixels get zero weight: any of `excludeBits`, or within `growRadius` px of `growBits`. */
export interface MaskRule {
  excludeBits: number;
  growBits: number;
  growRadius: number;
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
  const p = prepare(exposure, psf, mask, false);
  const { width, height } = exposure;
  const den = correlateSeparable(p.weight, width, height, p.denTerms);
  const num = correlateSeparable(p.weighted, width, height, p.numTerms);
  return finish(exposure, p, num, den, minInformation);
}

/**
 * likelihoodImage with both correlations cut into row bands, one per thread: this one and each
 * worker of `pool` (default the shared pool, warm, so no thread is started here). The bands
 * assemble the very image of likelihoodImage (correlateSeparableRows).
 */
export async function likelihoodImageParallel(
  exposure: Exposure,
  psf: Psf,
  mask: MaskRule,
  minInformation = 0,
  pool: WorkerPool = WorkerPool.shared(),
): Promise<LikelihoodImage> {
  if (pool.size === 0) return likelihoodImage(exposure, psf, mask, minInformation);
  const p = prepare(exposure, psf, mask, true);
  const { width, height } = exposure;
  const num = plane(width * height, true);
  const den = plane(width * height, true);
  const threads = pool.size + 1;
  const band = (k: number, input: Float32Array, output: Float32Array, terms: SeparableTerm[]) => ({
    input: input.buffer as SharedArrayBuffer,
    output: output.buffer as SharedArrayBuffer,
    width,
    height,
    terms,
    y0: Math.round((k * height) / threads),
    y1: Math.round(((k + 1) * height) / threads),
  });
  const jobsOf = (k: number): CorrelationJob[] => [
    band(k, p.weighted, num, p.numTerms),
    band(k, p.weight, den, p.denTerms),
  ];
  const pending = Array.from({ length: pool.size }, (_, k) =>
    pool.runTask(CORRELATE_BANDS, jobsOf(k + 1)),
  );
  correlateBands(jobsOf(0));
  await Promise.all(pending);
  return finish(exposure, p, num, den, minInformation);
}
