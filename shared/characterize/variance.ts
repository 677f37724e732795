/**
 * The variance plane: derived from gain, read noise, background and source Poisson noise
 * (CCD equation, Mortara & Fowler 1981; Howell 1989, PASP 101, 616) when the exposure has none,
 * and checked against the measured pixel scatter in blank sky, whose ratio rescales the sky term
 * (as Rubin's ScaleVarianceTask scales the variance to the measured noise).
 */
import type { Exposure } from '../image/exposure.js';
import { sigmaClip } from './stats.js';
import { selectInPlace } from '../util/stats.js';
import type { BackgroundResult } from './background.js';

export interface VarianceConfig {
  /** Gain, e-/ADU; NaN (default) takes info.gain. */
  gain: number;
  /** Read noise, e-; NaN (default) takes info.readNoise (0 if unknown). */
  readNoise: number;
  /** Rescale a derived plane's sky term to the measured blank-sky scatter (default true). */
  rescaleDerived: boolean;
  /** Multiply a variance plane read from the file by the measured/predicted ratio (default false: only report it). */
  rescaleGiven: boolean;
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
  for (let y = 0; y < v.height; y++) {
    const row = v.row(y);
    for (let x = 0; x < v.width; x++) if (row[x] > 0) return false;
  }
  return true;
}

/**
 * Fills or checks `exposure.variance` in place. `exclude[i]` (i = y * width + x) is 0 on usable blank sky;
 * source Poisson noise is added only where `sources[i]` is 1 (detected footprints), so that noise
 * fluctuations of the sky do not bias the plane upwards.
 * @example computeVariance(exposure, background, masked, footprints).measuredToPredicted // ~1 when right
 */
export function computeVariance(
  exposure: Exposure,
  background: BackgroundResult,
  exclude: Uint8Array,
  sources: Uint8Array,
  config: Partial<VarianceConfig> = {},
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
  const rn = Number.isFinite(cfg.readNoise)
    ? cfg.readNoise
    : Number.isFinite(exposure.info.readNoise)
      ? exposure.info.readNoise
      : 0;
  const ccd = Number.isFinite(gain) && gain > 0;
  const origin = derive ? (ccd ? 'ccd' : 'measured-sky') : 'file';
  const bgVar = background.sigma ** 2;
  const readVar0 = (rn / gain) ** 2;

  let nBlank = 0;
  for (let i = 0; i < exclude.length; i++) nBlank += exclude[i] ? 0 : 1;
  const step = Math.max(1, Math.floor(nBlank / cfg.maxCheckPixels));
  const ratios = new Float32Array(Math.ceil(nBlank / step) + 1);
  let n = 0;
  // Every step-th blank pixel: (pixel - sky) / sqrt(predicted sky variance, before scaling).
  let skip = 0;
  for (let y = 0; y < h; y++) {
    const row = image.row(y);
    const given = variance.row(y);
    const r = y * w;
    for (let x = 0; x < w; x++) {
      const i = r + x;
      if (exclude[i] || skip-- > 0) continue;
      skip = step - 1;
      const p =
        origin === 'file'
          ? given[x]
          : origin === 'ccd'
            ? Math.max(bg[i], 0) / gain + readVar0
            : bgVar;
      if (p > 0) ratios[n++] = (row[x] - bg[i]) / Math.sqrt(p);
    }
  }
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
    // Sky (scaled) and, on detected footprints, the source above it (0 where that is not finite).
    const derived = (sky: number, value: number, source: number): number => {
      const d = source ? value - sky : 0;
      return (scale * Math.max(sky, 0) + (d > 0 && d < Infinity ? d : 0)) / gain + readVar;
    };
    if (image.contiguous && variance.contiguous) {
      // One flat loop over the contiguous planes (the usual case) runs ~1.5x faster than row by row.
      const im = image.data;
      const out = variance.data;
      for (let i = 0; i < out.length; i++) out[i] = derived(bg[i], im[i], sources[i]);
    } else {
      for (let y = 0; y < h; y++) {
        const row = image.row(y);
        const out = variance.row(y);
        for (let x = 0; x < w; x++) out[x] = derived(bg[y * w + x], row[x], sources[y * w + x]);
      }
    }
  }
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

/** Median of the plane's variance over every step-th pixel that is blank sky (already scaled). */
function medianBlankVariance(exposure: Exposure, exclude: Uint8Array, step: number): number {
  const w = exposure.width;
  const values = new Float64Array(Math.ceil(exclude.length / step));
  let n = 0;
  for (let i = 0; i < exclude.length; i += step)
    if (!exclude[i]) values[n++] = exposure.variance.get(i % w, (i / w) | 0);
  return n ? selectInPlace(values, n >> 1, n) : Number.NaN;
}
