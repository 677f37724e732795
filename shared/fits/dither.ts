/**
 * Quantization of floating-point tiles with subtractive dithering, as in the FITS tiled image
 * compression convention (Pence, White & Seaman 2010, "Optimal compression of floating-point
 * astronomical images without significant loss of information", PASP 122, 1065; FITS Standard 4.0
 * sect. 10.2): value = (I - R + 0.5) * ZSCALE + ZZERO, with R from a fixed pseudo-random sequence.
 */
import { FitsError } from './errors.js';
import { MAD_TO_SIGMA } from '../util/numeric.js';

export const N_RANDOM = 10000;
/** Integer reserved for undefined (NaN) pixels in quantized tiles. */
export const NULL_VALUE = -2147483647;
/** Integer reserved for exact zeros under SUBTRACTIVE_DITHER_2. */
export const ZERO_VALUE = -2147483646;

export type QuantizeMethod = 'NO_DITHER' | 'SUBTRACTIVE_DITHER_1' | 'SUBTRACTIVE_DITHER_2';

let randoms: Float32Array | null = null;

/** The convention's 10000 uniform deviates: Park & Miller (1988) minimal standard generator, seed 1. */
export function ditherRandoms(): Float32Array {
  if (randoms) return randoms;
  const values = new Float32Array(N_RANDOM);
  const a = 16807;
  const m = 2147483647;
  let seed = 1;
  for (let i = 0; i < N_RANDOM; i++) {
    const temp = a * seed;
    seed = temp - m * Math.trunc(temp / m);
    values[i] = seed / m;
  }
  // the convention's check value of the generator after 10000 draws
  if (seed !== 1043618065) throw new FitsError('dither random generator self-check failed');
  randoms = values;
  return values;
}

export function parseQuantizeMethod(
  text: string | undefined,
  hasScale: boolean,
): QuantizeMethod | null {
  if (!hasScale) return null;
  const method = (text ?? 'NO_DITHER').trim().toUpperCase();
  if (
    method === 'NO_DITHER' ||
    method === 'SUBTRACTIVE_DITHER_1' ||
    method === 'SUBTRACTIVE_DITHER_2'
  )
    return method;
  throw new FitsError(`unsupported ZQUANTIZ '${method}'`);
}

/** Walks the random sequence of one tile: first index from the tile's seed (1-based row + ZDITHER0 - 1). */
class DitherSequence {
  private readonly r = ditherRandoms();
  private seed: number;
  private next: number;

  constructor(row: number) {
    this.seed = (((row - 1) % N_RANDOM) + N_RANDOM) % N_RANDOM;
    this.next = Math.trunc(this.r[this.seed] * 500);
  }

  take(): number {
    const value = this.r[this.next];
    if (++this.next === N_RANDOM) {
      if (++this.seed === N_RANDOM) this.seed = 0;
      this.next = Math.trunc(this.r[this.seed] * 500);
    }
    return value;
  }
}

export interface TileScaling {
  scale: number;
  zero: number;
  method: QuantizeMethod;
  /** ZDITHER0 + tile index (0-based): the tile's dither seed row. */
  ditherRow: number;
  /** Integer marking undefined pixels, or null. */
  blank: number | null;
}

/** Restores physical values of one tile into `out[offsets[k]]` for k in tile order. */
export function dequantize(
  ints: Int32Array,
  count: number,
  scaling: TileScaling,
  out: Float32Array | Float64Array,
  offsets: (k: number) => number,
): void {
  const { scale, zero, method, blank } = scaling;
  const dither = method === 'NO_DITHER' ? null : new DitherSequence(scaling.ditherRow);
  const zeros = method === 'SUBTRACTIVE_DITHER_2';
  for (let k = 0; k < count; k++) {
    const v = ints[k];
    const r = dither ? dither.take() : 0.5;
    let value: number;
    if (blank !== null && v === blank) value = Number.NaN;
    else if (zeros && v === ZERO_VALUE) value = 0;
    else value = (v - r + 0.5) * scale + zero;
    out[offsets(k)] = value;
  }
}

/**
 * Quantizes one tile of floats with SUBTRACTIVE_DITHER_1: scale = noise / level, the noise
 * estimated as 1.4826 * median |x[i] - x[i-1]| / sqrt(2) (white noise); NaN -> NULL_VALUE.
 * Returns null when the tile cannot be quantized (constant or non-finite spread).
 */
export function quantizeTile(
  values: Float32Array | Float64Array,
  level: number,
  ditherRow: number,
): { ints: Int32Array; scale: number; zero: number; hasNull: boolean } | null {
  let min = Infinity;
  let max = -Infinity;
  const diffs = new Float64Array(values.length);
  let nDiffs = 0;
  let previous = Number.NaN;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    if (!Number.isNaN(previous)) diffs[nDiffs++] = Math.abs(v - previous);
    previous = v;
  }
  if (nDiffs < 1) return null;
  const noise = (MAD_TO_SIGMA * select(diffs.subarray(0, nDiffs), nDiffs >> 1)) / Math.SQRT2;
  const scale = noise / level;
  if (!(scale > 0) || (max - min) / scale > 2 ** 31 - 10) return null;
  // zero point on a multiple of the step, near the minimum, so all integers are small and positive
  const zero = Math.floor(min / scale) * scale;
  const dither = new DitherSequence(ditherRow);
  const ints = new Int32Array(values.length);
  let hasNull = false;
  for (let k = 0; k < values.length; k++) {
    const r = dither.take();
    const v = values[k];
    if (!Number.isFinite(v)) {
      ints[k] = NULL_VALUE;
      hasNull = true;
    } else ints[k] = Math.round((v - zero) / scale + r - 0.5);
  }
  return { ints, scale, zero, hasNull };
}

/** The k-th smallest value (0-based) by Hoare's quickselect; reorders `a`. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}
