/**
 * variance.ts's derived (CCD-equation) plane over contiguous planes, in bands of pixels shared with a
 * helper thread when one is free (../util/shared-bands.ts); each pixel's value is computed alone,
 * so the plane is the one a single loop gives.
 * @example
 *   deriveVarianceBands({ image, variance, map, sources, scale, gain, readVar, subtract: true }, helper);
 */
import { poolTask } from '../util/pool-task.js';
import { runClaimed, shareBands, type BandClaim, type Helper } from '../util/shared-bands.js';

/** Pixels per band (64 rows of a 4k image). */
const BAND_PIXELS = 1 << 18;

export interface DerivedVarianceJob {
  /** Contiguous planes of one size: the image (background subtracted in place when `subtract`), the variance written. */
  image: Float32Array;
  variance: Float32Array;
  /** The background map. */
  map: Float32Array;
  /** 1 on detected footprints, whose source counts add to the variance. */
  sources: Uint8Array;
  /** The sky term's scale, the gain and the (scaled) read-noise variance. */
  scale: number;
  gain: number;
  readVar: number;
  subtract: boolean;
}

/** The derived variance of one pixel: sky (scaled) and, on footprints, the source above it (0 where not finite). */
export function derivedVariance(
  job: Pick<DerivedVarianceJob, 'scale' | 'gain' | 'readVar'>,
): (sky: number, value: number, source: number) => number {
  const { scale, gain, readVar } = job;
  return (sky, value, source) => {
    const d = source ? value - sky : 0;
    return (scale * Math.max(sky, 0) + (d > 0 && d < Infinity ? d : 0)) / gain + readVar;
  };
}

function deriveBand(job: DerivedVarianceJob, band: number): void {
  const { image: im, variance: out, map: bg, sources } = job;
  const derived = derivedVariance(job);
  const end = Math.min(out.length, (band + 1) * BAND_PIXELS);
  if (job.subtract) {
    for (let i = band * BAND_PIXELS; i < end; i++) {
      const value = im[i];
      out[i] = derived(bg[i], value, sources[i]);
      im[i] = value - bg[i];
    }
  } else for (let i = band * BAND_PIXELS; i < end; i++) out[i] = derived(bg[i], im[i], sources[i]);
}

/** Helper side of deriveVarianceBands: the claimed bands. */
export function deriveTask(job: DerivedVarianceJob & { claim: BandClaim }): void {
  runClaimed(job.claim, (b) => deriveBand(job, b));
}

/** The derived variance into job.variance (and the image less the map when job.subtract), bands shared with `helper`. */
export function deriveVarianceBands(job: DerivedVarianceJob, helper: Helper | null): void {
  const shared = [job.image, job.variance, job.map, job.sources].every(
    (a) => a.buffer instanceof SharedArrayBuffer,
  );
  const count = Math.ceil(job.variance.length / BAND_PIXELS);
  shareBands(shared ? helper : null, poolTask(import.meta.url, { deriveTask }), job, count, (b) =>
    deriveBand(job, b),
  );
}
