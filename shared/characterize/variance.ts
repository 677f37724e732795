/**
 * The variance plane: derived from gain, read noise, background and source Poisson noise
 * (CCD equation, Mortara & Fowler 1981; Howell 1989, PASP 101, 616) when the exposure has none,
 * and checked against the measured pixel scatter in blank sky, whose ratio rescales the sky term
 * (as Rubin's ScaleVarianceTask scales the variance to the measured noise).
 */
import type { Exposure } from '../image/exposure.js';
import type { ImageF } from '../image/plane.js';
import { sigmaClip } from './stats.js';
import { selectInPlace } from '../util/stats.js';
import type { BackgroundResult } from './background.js';
import { deriveVarianceBands, derivedVariance } from './variance-bands.js';
import type { Helper } from '../util/shared-bands.js';

export interface VarianceConfig {
  /** Gain, e-/ADU; NaN (default) takes info.gain. */
  gain: number;
  /** Read noise, e-; NaN (default) takes info.readNoise (0 if unknown). */
  readNoise: number;
  /** Rescale a derived plane's sky term to the measured blank-sky scatter (default true). */
  rescaleDerived: boolean;
  /** Multiply a variance plane read from the file by the measured/predicted ratio (default false: only report it). */
  rescaleGiven: boolean;
  /**
   * How a derived plane's blank sky is measured (a plane read from the file is always measured by its
   * 'scatter'). 'scatter' (default): C(0) of the blank pixels' autocovariance C, their own variance, faint light
   * below the source mask included: a deep crowded template's plane was inflated 1.4-8x so (shared/diffim/README.md,
   * "The independent pairs' noise"). 'neighbour-difference': half the clipped variance of the difference of blank
   * pixels `noiseLagPx` apart along a row, C(0) - C(lag): the per-pixel variance of noise not correlated at that lag
   * (raw pixels; 3 x 3 taps or bilinear resampling; Lanczos-3's -0.08 at lag 2 reads 8 % high), without most of the
   * light, which is smooth on the PSF's scale (its share kept 1 - a(2): 0.46 at 3 px FWHM, 0.08 at 8 px). Not the
   * default: the noise-correlation estimate now holds under winged light with either (the correlated-template-light
   * pair 0.99 and 1.01 sigma), but on the independent pairs the sky sources' PSF-scale ratio is then 1.05-1.34
   * (0.87-1.30 with 'scatter') and the per-pixel std 1.03-1.17 (0.89-1.03): the static scene's residuals that the
   * inflated template plane hid (shared/diffim/README.md, "The independent pairs' noise").
   */
  noiseEstimator: 'neighbour-difference' | 'scatter';
  /** Separation of the pixels 'neighbour-difference' compares, px (default 2: beyond 3 x 3 correlated noise's lag 1). */
  noiseLagPx: number;
  /** At most this many blank-sky pixels enter the check (default 1e6; a regular subsample beyond). */
  maxCheckPixels: number;
  /**
   * Without a gain, estimate one for count data (BUNIT absent, adu, counts, DN, electron) from the
   * sky's Poisson noise: gain = sky level / sky variance (read noise neglected: a lower bound, so
   * the source term is conservative). Never for calibrated units (MJy/sr, nJy, ...). Default true.
   */
  estimateGain: boolean;
}

export const DEFAULT_VARIANCE_CONFIG: VarianceConfig = {
  gain: Number.NaN,
  readNoise: Number.NaN,
  rescaleDerived: true,
  rescaleGiven: false,
  noiseEstimator: 'scatter',
  noiseLagPx: 2,
  maxCheckPixels: 1_000_000,
  estimateGain: true,
};

/** Units whose pixel values count detected photons times a gain (a Poisson estimate of the gain holds). */
const COUNT_UNITS = /^(|adu|counts?|dn|electrons?|e-?|photons?)$/i;
/** A sky this many times its own variance would need a gain beyond any detector's (e-/ADU): not raw counts. */
const MAX_ESTIMATED_GAIN = 100;

export interface VarianceResult {
  /** 'file' (kept), 'ccd' (gain, read noise, sky and source), or 'measured-sky' (no gain: the measured sky noise only). */
  origin: 'file' | 'ccd' | 'measured-sky';
  /** Measured blank-sky pixel variance over predicted, before any rescaling (1 = consistent). */
  measuredToPredicted: number;
  /** Factor applied to the sky term (derived) or to the plane (given and rescaleGiven), else 1. */
  scale: number;
  /** Median sky variance after scaling, ADU^2. */
  skyVariance: number;
  /** Blank-sky pixels used in the check. */
  nCheckPixels: number;
  /** Gain used (e-/ADU; NaN for none) and whether it was estimated from the sky (estimateGain). */
  gain: number;
  gainEstimated: boolean;
}

/** True when the plane carries no information: every pixel NaN or zero ("derive it"). */
export function varianceIsEmpty(exposure: Exposure): boolean {
  const v = exposure.variance;
  if (v.contiguous) {
    // One flat loop over a contiguous plane (the usual case), without a row view per row.
    const data = v.data;
    for (let i = 0; i < data.length; i++) if (data[i] > 0) return false;
    return true;
  }
  for (let y = 0; y < v.height; y++) {
    const row = v.row(y);
    for (let x = 0; x < v.width; x++) if (row[x] > 0) return false;
  }
  return true;
}

/**
 * Fills or checks `exposure.variance` in place. `exclude[i]` (i = y * width + x) is 0 on usable blank sky;
 * source Poisson noise is added only where `sources[i]` is 1 (detected footprints), so that noise
 * fluctuations of the sky do not bias the plane upwards. With `subtractBackground`, the map is then
 * subtracted from the image too, in the derived plane's pass when there is one (it reads both anyway),
 * whose bands are shared with `helper` when it is free (variance-bands.ts).
 * @example computeVariance(exposure, background, masked, footprints).measuredToPredicted // ~1 when right
 */
export function computeVariance(
  exposure: Exposure,
  background: BackgroundResult,
  exclude: Uint8Array,
  sources: Uint8Array,
  config: Partial<VarianceConfig> = {},
  subtractBackground = false,
  helper: Helper | null = null,
): VarianceResult {
  const cfg = { ...DEFAULT_VARIANCE_CONFIG, ...config };
  const { image, variance } = exposure;
  const bg = background.map.data;
  const w = image.width;
  const h = image.height;
  let gain = Number.isFinite(cfg.gain) ? cfg.gain : exposure.info.gain;
  let gainEstimated = false;
  const derive = varianceIsEmpty(exposure);
  if (
    !(gain > 0) &&
    cfg.estimateGain &&
    COUNT_UNITS.test((exposure.info.units ?? '').trim()) &&
    derive
  ) {
    const estimate = background.level / background.sigma ** 2;
    if (estimate > 0 && estimate < MAX_ESTIMATED_GAIN) {
      gain = estimate;
      gainEstimated = true;
      exposure.info.gain = gain;
      exposure.info.gainOrigin = 'estimated';
    }
  }
  let subtracted = false;
  const rn = Number.isFinite(cfg.readNoise)
    ? cfg.readNoise
    : Number.isFinite(exposure.info.readNoise)
      ? exposure.info.readNoise
      : 0;
  const ccd = Number.isFinite(gain) && gain > 0;
  const origin = derive ? (ccd ? 'ccd' : 'measured-sky') : 'file';
  const bgVar = background.sigma ** 2;
  const readVar0 = (rn / gain) ** 2;

  const nBlank = countZeroBytes(exclude);
  const step = Math.max(1, Math.floor(nBlank / cfg.maxCheckPixels));
  const ratios = new Float32Array(Math.ceil(nBlank / step) + 1);
  let n = 0;
  // (pixel - sky) / sqrt(predicted sky variance, before scaling) at pixel i; null without a prediction.
  const ratioAt = (i: number): number | null => {
    const x = i % w;
    const y = (i - x) / w;
    const p =
      origin === 'file'
        ? variance.data[variance.index(x, y)]
        : origin === 'ccd'
          ? Math.max(bg[i], 0) / gain + readVar0
          : bgVar;
    return p > 0 ? (image.data[image.index(x, y)] - bg[i]) / Math.sqrt(p) : null;
  };
  const lag =
    origin !== 'file' && cfg.noiseEstimator === 'neighbour-difference' ? cfg.noiseLagPx : 0;
  // Every step-th blank pixel: its ratio, or its difference from the pixel `lag` to its right over sqrt(2) when that is blank too.
  forEveryNthZero(exclude, step, (i) => {
    const r = ratioAt(i);
    if (r === null) return;
    if (lag === 0) ratios[n++] = r;
    else if ((i % w) + lag < w && !exclude[i + lag]) {
      const s = ratioAt(i + lag);
      if (s !== null) ratios[n++] = (r - s) / Math.SQRT2;
    }
  });
  const measured = n > 8 ? sigmaClip(ratios, n, 3, 5).std ** 2 : Number.NaN;
  const scale =
    (origin === 'ccd' && cfg.rescaleDerived) || (origin === 'file' && cfg.rescaleGiven)
      ? Number.isFinite(measured)
        ? measured
        : 1
      : 1;

  if (origin === 'file' && scale !== 1) {
    for (let y = 0; y < h; y++) {
      const out = variance.row(y);
      for (let x = 0; x < w; x++) out[x] *= scale;
    }
  } else if (origin === 'measured-sky') {
    const skyVar = scale * background.sigma ** 2;
    for (let y = 0; y < h; y++) variance.row(y).fill(skyVar);
  } else if (origin === 'ccd') {
    const readVar = scale * (rn / gain) ** 2;
    if (image.contiguous && variance.contiguous) {
      const planes = { image: image.data, variance: variance.data, map: bg, sources };
      deriveVarianceBands(
        { ...planes, scale, gain, readVar, subtract: subtractBackground },
        helper,
      );
      subtracted = subtractBackground;
    } else {
      const derived = derivedVariance({ scale, gain, readVar });
      for (let y = 0; y < h; y++) {
        const row = image.row(y);
        const out = variance.row(y);
        for (let x = 0; x < w; x++) out[x] = derived(bg[y * w + x], row[x], sources[y * w + x]);
      }
    }
  }
  if (subtractBackground && !subtracted) subtractMap(image, bg);
  let skyVariance = 0;
  if (origin === 'ccd')
    skyVariance = scale * (Math.max(background.level, 0) / gain + (rn / gain) ** 2);
  else if (origin === 'measured-sky') skyVariance = background.sigma ** 2;
  else skyVariance = medianBlankVariance(exposure, exclude, step);
  return {
    origin,
    measuredToPredicted: measured,
    scale,
    skyVariance,
    nCheckPixels: n,
    gain: ccd ? gain : Number.NaN,
    gainEstimated,
  };
}

/** `image` minus `map` (width * height, row-major), in place. */
function subtractMap(image: ImageF, map: Float32Array): void {
  const w = image.width;
  if (image.contiguous) {
    const data = image.data;
    for (let i = 0; i < data.length; i++) data[i] -= map[i];
    return;
  }
  for (let y = 0; y < image.height; y++) {
    const row = image.row(y);
    for (let x = 0; x < w; x++) row[x] -= map[y * w + x];
  }
}

/** Median of the plane's variance over every step-th pixel that is blank sky (already scaled). */
function medianBlankVariance(exposure: Exposure, exclude: Uint8Array, step: number): number {
  const w = exposure.width;
  const values = new Float64Array(Math.ceil(exclude.length / step));
  let n = 0;
  for (let i = 0; i < exclude.length; i += step)
    if (!exclude[i]) values[n++] = exposure.variance.get(i % w, (i / w) | 0);
  return n ? selectInPlace(values, n >> 1, n) : Number.NaN;
}

/** `bytes` as whole 32-bit words (none when not 4-byte aligned); bytes past the last word are left out. */
function wordsOf(bytes: Uint8Array): Uint32Array {
  return bytes.byteOffset % 4
    ? new Uint32Array(0)
    : new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2);
}

/** The number of non-zero bytes of a 32-bit word. */
function nonzeroBytes(word: number): number {
  // Each byte's bits folded onto its lowest bit (shifts 1 to 7 stay within the byte there); the
  // multiply sums the four lowest bits into its top byte.
  let v = word | (word >>> 4);
  v |= v >>> 2;
  v |= v >>> 1;
  return Math.imul(v & 0x01010101, 0x01010101) >>> 24;
}

/** The number of zero bytes of `bytes`, four at a time where aligned (a byte loop took ~3x as long). */
function countZeroBytes(bytes: Uint8Array): number {
  const words = wordsOf(bytes);
  let nonzero = 0;
  for (let k = 0; k < words.length; k++) if (words[k]) nonzero += nonzeroBytes(words[k]);
  for (let i = 4 * words.length; i < bytes.length; i++) if (bytes[i]) nonzero++;
  return bytes.length - nonzero;
}

/**
 * Calls `visit(i)` at every step-th index i where bytes[i] is 0 (the first such index included), in
 * order; a word whose zeros all fall in a gap is passed over whole.
 */
function forEveryNthZero(bytes: Uint8Array, step: number, visit: (i: number) => void): void {
  const words = wordsOf(bytes);
  let skip = 0;
  const at = (i: number): void => {
    if (bytes[i] || skip-- > 0) return;
    skip = step - 1;
    visit(i);
  };
  for (let k = 0; k < words.length; k++) {
    const zeros = 4 - nonzeroBytes(words[k]);
    if (zeros <= skip) skip -= zeros;
    else for (let i = 4 * k; i < 4 * k + 4; i++) at(i);
  }
  for (let i = 4 * words.length; i < bytes.length; i++) at(i);
}
