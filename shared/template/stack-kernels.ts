/**
 * The per-pixel work of coadding, on planes in shared memory so that a WorkerPool can split it
 * (by input or by row band): PSF-matching blur, median reference, outlier maps, the weighted mean.
 * Every function is pure over its arguments and writes only its own output rows or planes.
 */
import { convolveSeparable, gaussianTaps } from '../characterize/filters.js';
import { MaskPlane } from '../image/mask.js';
import { convolveUsable, type Stamp } from './model-match.js';
import { MAX_TILTED_INPUTS, tiltedWeights } from './psf-weights.js';

/** Bits that keep an input pixel out of the weighted mean (while another input can replace it). */
export const STACK_UNUSABLE =
  MaskPlane.NO_DATA | MaskPlane.BAD | MaskPlane.SAT | MaskPlane.CR | MaskPlane.EDGE;
/** Bits passed on to the coadd where inputs holding enough of the weight carry them (see StackJob.propagateFraction). */
const PROPAGATED = MaskPlane.SAT | MaskPlane.BAD;
/** Bits a fallback pixel (every covering input masked) carries into the coadd's mask. */
const CARRIED =
  MaskPlane.BAD |
  MaskPlane.SAT |
  MaskPlane.CR |
  MaskPlane.EDGE |
  MaskPlane.SUSPECT |
  MaskPlane.INTRP;

/** One warped, scaled input on the output grid. */
export interface StackPlane {
  image: Float32Array;
  variance: Float32Array;
  mask: Int32Array;
  /** Non-zero where rejection (compareWarp or clipping) removed the pixel. */
  rejected: Uint8Array;
  /** Inverse-variance weight of the whole input. */
  weight: number;
  /** Second moment of the input's PSF on the output grid, px^2 (psf-weights.ts). */
  psfMoment: number;
}

export interface StackJob {
  width: number;
  height: number;
  inputs: StackPlane[];
  /** Outputs. */
  image: Float32Array;
  variance: Float32Array;
  mask: Int32Array;
  /** Inputs used at each pixel. */
  count: Uint8Array;
  /** (mean of the even-numbered inputs - mean of the odd) / its sigma from VARIANCE: a noise check of the two half coadds (NaN where either half is empty). */
  halfZ: Float32Array;
  /** A SAT/BAD bit of the inputs is set in the coadd where the inputs carrying it hold at least this fraction of the weight (Rubin's maskPropagationThresholds). */
  propagateFraction: number;
  /** A pixel fewer inputs than this cover (not NO_DATA) is NO_DATA (TemplateConfig.minPixelInputs). */
  minCovering: number;
  /** Where only some inputs are usable, their weights are tilted to this PSF second moment (psf-weights.ts); NaN: weights kept. */
  targetMoment: number;
}

/**
 * out = (G * (x m)) / (G * m) for the usable pixels m of one input, binned bin x bin (the mean of
 * the usable pixels of each block; out is ceil(width / bin) x ceil(height / bin)), NaN where under
 * half the kernel's weight is usable: the input convolved with a Gaussian of `sigma` (input) px,
 * ignoring masked pixels (sigma <= 0 only bins), or, given `kernel` (on the binned grid), with that
 * kernel (model-match.ts).
 */
export function blurUsable(a: {
  width: number;
  height: number;
  image: Float32Array;
  mask: Int32Array;
  sigma: number;
  kernel?: Stamp;
  bin: number;
  out: Float32Array;
}): void {
  const { bin, out } = a;
  const width = Math.ceil(a.width / bin);
  const height = Math.ceil(a.height / bin);
  const n = width * height;
  const image = new Float32Array(n);
  const weight = new Float32Array(n);
  for (let y = 0; y < a.height; y++) {
    const o = y * a.width;
    const bo = Math.floor(y / bin) * width;
    for (let x = 0; x < a.width; x++) {
      if (a.mask[o + x] & STACK_UNUSABLE) continue;
      const b = bo + Math.floor(x / bin);
      image[b] += a.image[o + x];
      weight[b]++;
    }
  }
  const mask = new Int32Array(n);
  for (let b = 0; b < n; b++) {
    if (weight[b] > 0) image[b] /= weight[b];
    else mask[b] = MaskPlane.NO_DATA;
  }
  if (a.kernel) {
    const usable = new Float32Array(n);
    for (let i = 0; i < n; i++) usable[i] = mask[i] ? 0 : 1;
    convolveUsable(image, usable, width, height, a.kernel, out);
    return;
  }
  const sigma = a.sigma / bin;
  if (!(sigma > 0.05)) {
    for (let i = 0; i < n; i++) out[i] = mask[i] ? Number.NaN : image[i];
    return;
  }
  const taps = gaussianTaps(sigma);
  const weight01 = new Float32Array(n);
  for (let i = 0; i < n; i++) weight01[i] = mask[i] ? 0 : 1;
  const blurredImage = new Float32Array(n);
  const blurredWeight = new Float32Array(n);
  convolveSeparable(image, width, height, taps, blurredImage);
  convolveSeparable(weight01, width, height, taps, blurredWeight);
  for (let i = 0; i < n; i++)
    out[i] = blurredWeight[i] >= 0.5 ? blurredImage[i] / blurredWeight[i] : Number.NaN;
}

/** Median of the first n values (insertion-sorted in place: n is the number of inputs, small). */
function medianOf(v: Float64Array, n: number): number {
  for (let i = 1; i < n; i++) {
    const x = v[i];
    let j = i - 1;
    for (; j >= 0 && v[j] > x; j--) v[j + 1] = v[j];
    v[j + 1] = x;
  }
  return n % 2 ? v[n >> 1] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/** reference[p] = median over inputs of blurred[i][p] (NaNs left out; NaN when none), rows y0..y1. */
export function medianRows(a: {
  width: number;
  blurred: Float32Array[];
  reference: Float32Array;
  y0: number;
  y1: number;
}): void {
  const values = new Float64Array(a.blurred.length);
  for (let p = a.y0 * a.width; p < a.y1 * a.width; p++) {
    let n = 0;
    for (const b of a.blurred) if (b[p] === b[p]) values[n++] = b[p];
    a.reference[p] = n > 0 ? medianOf(values, n) : Number.NaN;
  }
}

/**
 * Pixels where a PSF-matched input exceeds the reference by `threshold` (its noise times
 * rejectSigma) and by `relative` times the reference itself, grown by `grow` (binned) px (a square),
 * on the bin x bin binned grid; written block by block into `out` (fullWidth x fullHeight).
 * Only excesses: what is in one input and not in the others is positive in that input.
 */
export function outlierMap(a: {
  width: number;
  height: number;
  blurred: Float32Array;
  reference: Float32Array;
  threshold: number;
  relative: number;
  grow: number;
  bin: number;
  fullWidth: number;
  fullHeight: number;
  out: Uint8Array;
}): number {
  const { width, height, blurred, reference, out, bin } = a;
  const n = width * height;
  const seed = new Uint8Array(n);
  let seeds = 0;
  for (let p = 0; p < n; p++) {
    const d = blurred[p] - reference[p];
    if (d > a.threshold && d > a.relative * Math.abs(reference[p])) {
      seed[p] = 1;
      seeds++;
    }
  }
  if (seeds === 0) return 0;
  const g = Math.max(0, Math.round(a.grow));
  // Separable square dilation with running counts.
  const rows = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    const o = y * width;
    let count = 0;
    for (let x = 0; x < Math.min(g, width); x++) count += seed[o + x];
    for (let x = 0; x < width; x++) {
      if (x + g < width) count += seed[o + x + g];
      if (x - g - 1 >= 0) count -= seed[o + x - g - 1];
      rows[o + x] = count > 0 ? 1 : 0;
    }
  }
  let flagged = 0;
  for (let x = 0; x < width; x++) {
    let count = 0;
    for (let y = 0; y < Math.min(g, height); y++) count += rows[y * width + x];
    for (let y = 0; y < height; y++) {
      if (y + g < height) count += rows[(y + g) * width + x];
      if (y - g - 1 >= 0) count -= rows[(y - g - 1) * width + x];
      if (count > 0) {
        for (let fy = y * bin; fy < Math.min(a.fullHeight, (y + 1) * bin); fy++) {
          for (let fx = x * bin; fx < Math.min(a.fullWidth, (x + 1) * bin); fx++)
            out[fy * a.fullWidth + fx] = 1;
        }
        flagged++;
      }
    }
  }
  return flagged;
}

/** Per-pixel clipping: inputs farther than nSigma of their own noise from the median of the usable values are rejected, rows y0..y1. */
export function clipRows(a: {
  width: number;
  inputs: StackPlane[];
  nSigma: number;
  y0: number;
  y1: number;
}): void {
  const values = new Float64Array(a.inputs.length);
  for (let p = a.y0 * a.width; p < a.y1 * a.width; p++) {
    let n = 0;
    for (const s of a.inputs) if (!(s.mask[p] & STACK_UNUSABLE)) values[n++] = s.image[p];
    if (n < 3) continue;
    const med = medianOf(values, n);
    for (const s of a.inputs) {
      if (s.mask[p] & STACK_UNUSABLE) continue;
      const d = s.image[p] - med;
      if (d * d > a.nSigma * a.nSigma * s.variance[p]) s.rejected[p] = 1;
    }
  }
}

/**
 * The inverse-variance weighted mean of the usable, unrejected inputs, rows y0..y1: image, variance
 * sum(w^2 var) / sum(w)^2, count. Where every covering input is masked, their mean with their bits;
 * where none covers (or all were rejected), or fewer than minCovering do, NO_DATA and NaN.
 */
export function stackRows(job: StackJob, y0: number, y1: number): void {
  const { inputs } = job;
  const n = inputs.length;
  const base = Float64Array.from(inputs, (s) => s.weight);
  const moments = Float64Array.from(inputs, (s) => s.psfMoment);
  const tilt = Number.isFinite(job.targetMoment) && n <= MAX_TILTED_INPUTS;
  // Tilted weights per set of usable inputs (keyed by the sum of 2^k), computed once per set.
  const bySet = new Map<number, Float64Array>();
  const bit = Float64Array.from(inputs, (_s, k) => 2 ** k);
  const full = 2 ** n - 1;
  const masks = inputs.map((s) => s.mask);
  const rejected = inputs.map((s) => s.rejected);
  for (let p = y0 * job.width; p < y1 * job.width; p++) {
    let key = 0;
    for (let k = 0; k < n; k++)
      if (!(masks[k][p] & STACK_UNUSABLE) && !rejected[k][p]) key += bit[k];
    let w: Float64Array = base;
    if (tilt && key !== full && key !== 0) {
      let tilted = bySet.get(key);
      if (!tilted) {
        const present = Array.from(bit, (b) => Math.floor(key / b) % 2 === 1);
        tilted = tiltedWeights(base, moments, present, job.targetMoment);
        bySet.set(key, tilted);
      }
      w = tilted;
    }
    let num = 0;
    let den = 0;
    let vs = 0;
    let count = 0;
    let covering = 0;
    let coveringCount = 0;
    let flagged = 0;
    let flaggedBits = 0;
    const half = [0, 0, 0, 0, 0, 0];
    for (let k = 0; k < n; k++) {
      const s = inputs[k];
      const m = s.mask[p];
      if (!(m & MaskPlane.NO_DATA)) {
        covering += s.weight;
        coveringCount++;
        if (m & PROPAGATED) {
          flagged += s.weight;
          flaggedBits |= m & PROPAGATED;
        }
      }
      if (m & STACK_UNUSABLE || s.rejected[p]) continue;
      const wk = w[k];
      num += wk * s.image[p];
      den += wk;
      vs += wk * wk * s.variance[p];
      count++;
      const h = 3 * (k & 1);
      half[h] += wk * s.image[p];
      half[h + 1] += wk;
      half[h + 2] += wk * wk * s.variance[p];
    }
    job.halfZ[p] =
      half[1] > 0 && half[4] > 0
        ? (half[0] / half[1] - half[3] / half[4]) /
          Math.sqrt(half[2] / half[1] ** 2 + half[5] / half[4] ** 2)
        : Number.NaN;
    let bits = flagged > 0 && flagged >= job.propagateFraction * covering ? flaggedBits : 0;
    if (count === 0) {
      for (const s of inputs) {
        if (s.mask[p] & MaskPlane.NO_DATA || s.rejected[p]) continue;
        num += s.weight * s.image[p];
        den += s.weight;
        vs += s.weight * s.weight * s.variance[p];
        bits |= s.mask[p] & CARRIED;
      }
    }
    if (den > 0 && coveringCount >= job.minCovering) {
      job.image[p] = num / den;
      job.variance[p] = vs / (den * den);
      job.mask[p] = bits;
    } else {
      job.image[p] = Number.NaN;
      job.variance[p] = Number.NaN;
      job.mask[p] = MaskPlane.NO_DATA;
      count = 0;
    }
    job.count[p] = count;
  }
}

/** Pool entry points (WorkerPool calls fn(args)). */
export function blurTask(a: Parameters<typeof blurUsable>[0]): void {
  blurUsable(a);
}
export function medianTask(a: Parameters<typeof medianRows>[0]): void {
  medianRows(a);
}
export function outlierTask(a: Parameters<typeof outlierMap>[0]): number {
  return outlierMap(a);
}
export function clipTask(a: Parameters<typeof clipRows>[0]): void {
  clipRows(a);
}
export function stackTask(a: { job: StackJob; y0: number; y1: number }): void {
  stackRows(a.job, a.y0, a.y1);
}
