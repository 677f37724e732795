/**
 * Cutouts for real/bogus scoring: 51 x 51 pixels centred on a DIASource, CHANNELS planes per
 * pixel (interleaved, NHWC): the science image, the warped template and the difference (ADU,
 * backgrounds removed) and the difference's S/N (difference / sqrt(variance)).
 * `cutTriplets` copies raw pixels; `normalizeCutouts` turns them into the network's input.
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import { selectInPlace } from '../util/stats.js';

/** Side of a cutout, pixels (odd: the source sits on the central pixel). */
export const CUTOUT_SIZE = 51;
/** Planes per cutout pixel: science, template, difference, difference S/N. */
export const CHANNELS = 4;
/** Floats per cutout. */
export const CUTOUT_LENGTH = CUTOUT_SIZE * CUTOUT_SIZE * CHANNELS;

/** N cutouts, raw or normalised, as one array [N, 51, 51, CHANNELS]. */
export interface CutoutSet {
  count: number;
  data: Float32Array;
}

/** The three aligned images a cutout is cut from (same pixel grid as the science image). */
export interface TripletImages {
  science: Exposure;
  /** The template warped onto the science grid (and background-subtracted). */
  template: Exposure;
  difference: Exposure;
}

/**
 * Raw cutouts centred on the pixel nearest each position (0-based science pixels, the parent
 * frame of views). Pixels off the image, non-finite, or NO_DATA in their plane are 0.
 * @example
 *   const raw = cutTriplets(sources, { science, template: warped, difference });
 */
export function cutTriplets(
  positions: ReadonlyArray<{ x: number; y: number }>,
  images: TripletImages,
): CutoutSet {
  const { science, template, difference } = images;
  const data = new Float32Array(positions.length * CUTOUT_LENGTH);
  const half = (CUTOUT_SIZE - 1) / 2;
  const planes = [science, template, difference];
  positions.forEach((p, n) => {
    const cx = Math.round(p.x);
    const cy = Math.round(p.y);
    const base = n * CUTOUT_LENGTH;
    for (let j = 0; j < CUTOUT_SIZE; j++) {
      for (let i = 0; i < CUTOUT_SIZE; i++) {
        const out = base + (j * CUTOUT_SIZE + i) * CHANNELS;
        planes.forEach((exp, c) => (data[out + c] = pixel(exp, cx - half + i, cy - half + j)));
        const variance = pixel(difference, cx - half + i, cy - half + j, 'variance');
        data[out + 3] = variance > 0 ? data[out + 2] / Math.sqrt(variance) : 0;
      }
    }
  });
  return { count: positions.length, data };
}

function pixel(exp: Exposure, x: number, y: number, plane: 'image' | 'variance' = 'image'): number {
  const lx = x - exp.image.x0;
  const ly = y - exp.image.y0;
  if (lx < 0 || ly < 0 || lx >= exp.width || ly >= exp.height) return 0;
  if (exp.mask.get(lx, ly) & MaskPlane.NO_DATA) return 0;
  const v = exp[plane].get(lx, ly);
  return Number.isFinite(v) ? v : 0;
}

/**
 * How raw cutouts become the network's input; each model records its own in its manifest
 * (`input`, INPUT_DESCRIPTIONS), so older weights keep the normalisation they were trained on.
 * - 'median': each image plane (science, template, difference) minus its median over the cutout
 *   and divided by its RMS about that median (scale-free, as braai normalises each plane), the
 *   S/N plane as asinh(S/N) with no background removed (rb-v1 to rb-v5).
 * - 'local-background': the science and template planes as 'median'; the difference and its S/N
 *   first lose their local background, the median over the outer annulus
 *   (LOCAL_BACKGROUND_ANNULUS) of the pixels present, so that a source on a pedestal the
 *   difference's background left looks like one on flat sky. Missing pixels (difference and S/N
 *   both 0) sit at that background.
 */
export type InputNormalization = 'median' | 'local-background';

/** The manifest's words for each normalisation (model.ts reads them back). */
export const INPUT_DESCRIPTIONS: Record<InputNormalization, string> = {
  median:
    'NHWC 51x51x4: science, warped template, difference (each minus its median, over its RMS about the median), asinh(difference S/N)',
  'local-background':
    'NHWC 51x51x4: science, warped template (each minus its median, over its RMS about the median), difference (minus the median of its present pixels 18-25 px from the centre, over its RMS about that level), asinh(difference S/N minus the same annulus median of the S/N)',
};

/** Inner and outer radius (pixels from the central pixel) of the local-background annulus. */
export const LOCAL_BACKGROUND_ANNULUS: readonly [number, number] = [18, 25];

/** Pixel indices of the local-background annulus within a cutout plane. */
const ANNULUS_PIXELS: readonly number[] = (() => {
  const half = (CUTOUT_SIZE - 1) / 2;
  const [inner, outer] = LOCAL_BACKGROUND_ANNULUS;
  const out: number[] = [];
  for (let j = 0; j < CUTOUT_SIZE; j++)
    for (let i = 0; i < CUTOUT_SIZE; i++) {
      const r = Math.hypot(i - half, j - half);
      if (r >= inner && r <= outer) out.push(j * CUTOUT_SIZE + i);
    }
  return out;
})();

/**
 * The network's input, in a new array, normalised as `input` says (InputNormalization; the
 * default is rb-v1-v5's 'median').
 */
export function normalizeCutouts(raw: CutoutSet, input: InputNormalization = 'median'): CutoutSet {
  const out = new Float32Array(raw.data.length);
  const pixels = CUTOUT_SIZE * CUTOUT_SIZE;
  const plane = new Float32Array(pixels);
  const scratch = new Float32Array(pixels);
  const ring = new Float32Array(ANNULUS_PIXELS.length);
  const local = input === 'local-background';
  for (let n = 0; n < raw.count; n++) {
    const base = n * CUTOUT_LENGTH;
    const present = (k: number): boolean =>
      raw.data[base + k * CHANNELS + 2] !== 0 || raw.data[base + k * CHANNELS + 3] !== 0;
    /** Median of plane c over the annulus's present pixels (0 when none is). */
    const ringMedian = (c: number): number => {
      let m = 0;
      for (const k of ANNULUS_PIXELS) if (present(k)) ring[m++] = raw.data[base + k * CHANNELS + c];
      return m ? medianOf(ring.subarray(0, m), scratch) : 0;
    };
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < pixels; k++) plane[k] = raw.data[base + k * CHANNELS + c];
      let level: number;
      if (local && c === 2) {
        level = ringMedian(2);
        for (let k = 0; k < pixels; k++) if (!present(k)) plane[k] = level;
      } else level = medianOf(plane, scratch);
      let sumSq = 0;
      for (let k = 0; k < pixels; k++) sumSq += (plane[k] - level) ** 2;
      const rms = Math.sqrt(sumSq / pixels);
      const scale = rms > 0 ? 1 / rms : 0;
      for (let k = 0; k < pixels; k++) out[base + k * CHANNELS + c] = (plane[k] - level) * scale;
    }
    if (!local) {
      for (let k = 0; k < pixels; k++)
        out[base + k * CHANNELS + 3] = Math.asinh(raw.data[base + k * CHANNELS + 3]);
      continue;
    }
    const snLevel = ringMedian(3);
    for (let k = 0; k < pixels; k++)
      out[base + k * CHANNELS + 3] = present(k)
        ? Math.asinh(raw.data[base + k * CHANNELS + 3] - snLevel)
        : 0;
  }
  return { count: raw.count, data: out };
}

/**
 * The median of a sorted copy (Float32Array#sort's order: -0 before +0, NaN last), found by
 * selection in `scratch` (values.length long): the same value, ~4x faster than the sort (1,293
 * planes of 2,601 pixels, a crowded detector's 431 DIASources: 95 against 423 ms under load).
 */
function medianOf(values: Float32Array, scratch: Float32Array): number {
  let n = 0;
  for (const v of values) if (v === v) scratch[n++] = v;
  const at = (k: number): number => {
    if (k >= n) return Number.NaN;
    const v = selectInPlace(scratch, k, n);
    if (v !== 0) return v;
    // Zeros sort -0 first: the k-th is -0 while k falls among the negatives and the -0s.
    let below = 0;
    for (let i = 0; i < n; i++) if (scratch[i] < 0 || Object.is(scratch[i], -0)) below++;
    return k < below ? -0 : 0;
  };
  const mid = values.length >> 1;
  return values.length % 2 ? at(mid) : 0.5 * (at(mid - 1) + at(mid));
}

/**
 * Cutout `n` transformed by one of the 8 symmetries of the square (`k` in 0..7: k & 3 quarter
 * turns, then a left-right flip when k >= 4), written to `out` at cutout index `m`.
 */
export function augmentInto(
  src: Float32Array,
  n: number,
  k: number,
  out: Float32Array,
  m: number,
): void {
  const s = CUTOUT_SIZE;
  const last = s - 1;
  const turns = k & 3;
  const flip = k >= 4;
  const from = n * CUTOUT_LENGTH;
  const to = m * CUTOUT_LENGTH;
  for (let j = 0; j < s; j++) {
    for (let i = 0; i < s; i++) {
      let u = flip ? last - i : i;
      let v = j;
      for (let t = 0; t < turns; t++) [u, v] = [last - v, u];
      const a = from + (v * s + u) * CHANNELS;
      const b = to + (j * s + i) * CHANNELS;
      for (let c = 0; c < CHANNELS; c++) out[b + c] = src[a + c];
    }
  }
}

/**
 * Time reversal of normalised cutout `m` in place: science and template swap, the difference and
 * its S/N change sign (normalizeCutouts is odd in each plane). A brightening seen backwards is a
 * fading, so a real change stays real and a bogus one bogus.
 */
export function reverseTimeInPlace(data: Float32Array, m: number): void {
  const base = m * CUTOUT_LENGTH;
  for (let k = 0; k < CUTOUT_SIZE * CUTOUT_SIZE; k++) {
    const p = base + k * CHANNELS;
    const science = data[p];
    data[p] = data[p + 1];
    data[p + 1] = science;
    data[p + 2] = -data[p + 2];
    data[p + 3] = -data[p + 3];
  }
}

/**
 * Cutout `m` magnified by `scale` about its centre in place (bilinear; scale < 1 shrinks, the
 * uncovered border is 0, the normalised sky): a PSF `scale` times wider, as another seeing or
 * pixel scale draws it. `scratch` holds CUTOUT_LENGTH floats.
 */
export function zoomInPlace(
  data: Float32Array,
  m: number,
  scale: number,
  scratch: Float32Array,
): void {
  const s = CUTOUT_SIZE;
  const centre = (s - 1) / 2;
  const base = m * CUTOUT_LENGTH;
  scratch.set(data.subarray(base, base + CUTOUT_LENGTH));
  const at = (i: number, j: number, c: number): number =>
    i < 0 || j < 0 || i >= s || j >= s ? 0 : scratch[(j * s + i) * CHANNELS + c];
  for (let j = 0; j < s; j++) {
    const v = centre + (j - centre) / scale;
    const j0 = Math.floor(v);
    const fy = v - j0;
    for (let i = 0; i < s; i++) {
      const u = centre + (i - centre) / scale;
      const i0 = Math.floor(u);
      const fx = u - i0;
      for (let c = 0; c < CHANNELS; c++)
        data[base + (j * s + i) * CHANNELS + c] =
          (1 - fy) * ((1 - fx) * at(i0, j0, c) + fx * at(i0 + 1, j0, c)) +
          fy * ((1 - fx) * at(i0, j0 + 1, c) + fx * at(i0 + 1, j0 + 1, c));
    }
  }
}

/** |S/N| above which a pixel's noise is read as difference / S/N (below it the ratio is rounding). */
const NOISE_RATIO_MIN_SNR = 1e-3;

/**
 * A background residual added to raw cutout `m` in place: the plane `offset + gradX u + gradY v`
 * (u, v from -1 at one edge to 1 at the other), in units of the difference's noise, added to the
 * S/N plane and, times each pixel's noise sqrt(variance) = difference / S/N, to the difference.
 * Science and template are untouched. Missing pixels (difference and S/N both 0) stay 0.
 * A difference whose background is not flat (a sky curvature or a star's halo the kernel could
 * not match) puts a DIASource on such a pedestal; the training nights' differences have none.
 */
export function addSkyResidualInPlace(
  data: Float32Array,
  m: number,
  plane: { offset: number; gradX: number; gradY: number },
): void {
  const base = m * CUTOUT_LENGTH;
  const half = (CUTOUT_SIZE - 1) / 2;
  const noise: number[] = [];
  for (let k = 0; k < CUTOUT_SIZE * CUTOUT_SIZE; k++) {
    const p = base + k * CHANNELS;
    if (Math.abs(data[p + 3]) > NOISE_RATIO_MIN_SNR) noise.push(data[p + 2] / data[p + 3]);
  }
  // Where the S/N is too small for the ratio, the cutout's median noise.
  const typical = noise.length ? noise.sort((a, b) => a - b)[noise.length >> 1] : 0;
  for (let j = 0; j < CUTOUT_SIZE; j++)
    for (let i = 0; i < CUTOUT_SIZE; i++) {
      const p = base + (j * CUTOUT_SIZE + i) * CHANNELS;
      if (data[p + 2] === 0 && data[p + 3] === 0) continue;
      const sigma =
        Math.abs(data[p + 3]) > NOISE_RATIO_MIN_SNR ? data[p + 2] / data[p + 3] : typical;
      const level =
        plane.offset + (plane.gradX * (i - half)) / half + (plane.gradY * (j - half)) / half;
      data[p + 3] += level;
      data[p + 2] += level * sigma;
    }
}
