/**
 * Bright-source detection for characterisation: threshold the image smoothed by a Gaussian
 * (the matched filter for a Gaussian PSF, Irwin 1985, MNRAS 214, 575) and keep local maxima.
 * The image is first summed in bin x bin blocks: the matched filter for a PSF of several pixels
 * loses almost nothing, and every later pass is bin^2 times cheaper.
 */
import { convolveSeparable, convolveSeparableRows, dilateSquare, gaussianTaps } from './filters.js';

export interface PeakConfig {
  /** Smoothing Gaussian sigma, px of the image (default 2, near a PSF of ~4.7 px FWHM; a matched filter is forgiving). */
  smoothingSigmaPx: number;
  /** Detection threshold on the smoothed image, in units of its own noise (default 5). */
  thresholdSigma: number;
  /** Footprint threshold for the source mask, smoothed-noise units (default 2.5). */
  maskThresholdSigma: number;
  /** Source mask grows by this many px (default 4). */
  maskGrowPx: number;
  /** Block size summed before smoothing (default 2; 1 = full resolution). */
  bin: number;
}

export const DEFAULT_PEAK_CONFIG: PeakConfig = {
  smoothingSigmaPx: 2,
  thresholdSigma: 5,
  maskThresholdSigma: 2.5,
  maskGrowPx: 4,
  bin: 2,
};

export interface Peak {
  /** Pixel of the peak (the block centre, rounded down, when binned). */
  x: number;
  y: number;
  /** Smoothed value at the peak, in units of the smoothed noise. */
  significance: number;
}

export interface PeakResult {
  peaks: Peak[];
  /** 1 where a source footprint (grown) lies, row-major, full resolution. */
  sourceMask: Uint8Array;
}

/**
 * Finds peaks in `residual` (image minus background, unusable pixels set to 0, contiguous w*h)
 * whose pixel noise is `sigma` ADU.
 */
export function detectPeaks(
  residual: Float32Array,
  w: number,
  h: number,
  sigma: number,
  config: Partial<PeakConfig> = {},
): PeakResult {
  return detectPeaksInRows(
    (y) => residual.subarray(y * w, (y + 1) * w),
    w,
    h,
    sigma,
    config,
    residual,
  );
}

/**
 * detectPeaks on a residual given row by row (`rowOf(y)`, valid until the next call), so that a
 * caller need not hold the whole residual: the binned image is summed as the rows come.
 */
export function detectPeaksInRows(
  rowOf: (y: number) => Float32Array,
  w: number,
  h: number,
  sigma: number,
  config: Partial<PeakConfig> = {},
  whole?: Float32Array,
): PeakResult {
  const cfg = { ...DEFAULT_PEAK_CONFIG, ...config };
  const { smooth, ...g } = smoothed(rowOf, w, h, sigma, cfg, whole);
  return peaksOfSmoothed(smooth, g, w, h, cfg);
}

/** detectPeaksInRows' peaks and source mask of the smoothed, binned residual (smoothRows' `smooth`). */
export function peaksOfSmoothed(
  smooth: Float32Array,
  g: Pick<SmoothingGeometry, 'bin' | 'bw' | 'bh' | 'smoothNoise'>,
  w: number,
  h: number,
  cfg: PeakConfig,
): PeakResult {
  const { bin, bw, bh } = g;
  const coarseMask = new Uint8Array(bw * bh);
  const peaks = scanPeaks({ smooth, ...g }, w, h, cfg, coarseMask);
  return { peaks, sourceMask: grownMask(coarseMask, w, h, bin, bw, bh, cfg.maskGrowPx) };
}

/**
 * detectPeaks' peaks alone, the source mask not drawn (its dilation and full-resolution bytes cost
 * as much as the peaks' scan): for a caller that only wants the sources' positions.
 */
export function findPeaks(
  residual: Float32Array,
  w: number,
  h: number,
  sigma: number,
  config: Partial<PeakConfig> = {},
): Peak[] {
  const cfg = { ...DEFAULT_PEAK_CONFIG, ...config };
  const rowOf = (y: number): Float32Array => residual.subarray(y * w, (y + 1) * w);
  return scanPeaks(smoothed(rowOf, w, h, sigma, cfg, residual), w, h, cfg, null);
}

/** The local maxima of the smoothed image above the detection threshold; `coarseMask`, when given, gains its footprint pixels. */
function scanPeaks(
  { smooth, bin, bw, bh, smoothNoise }: ReturnType<typeof smoothed>,
  w: number,
  h: number,
  cfg: PeakConfig,
  coarseMask: Uint8Array | null,
): Peak[] {
  const detect = cfg.thresholdSigma * smoothNoise;
  const footprint = cfg.maskThresholdSigma * smoothNoise;
  const peaks: Peak[] = [];
  const offset = (bin - 1) >> 1;
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const i = y * bw + x;
      const v = smooth[i];
      if (v <= footprint) continue;
      if (coarseMask) coarseMask[i] = 1;
      if (v <= detect || x === 0 || y === 0 || x === bw - 1 || y === bh - 1) continue;
      if (
        v >= smooth[i - 1] &&
        v > smooth[i + 1] &&
        v >= smooth[i - bw] &&
        v > smooth[i + bw] &&
        v >= smooth[i - bw - 1] &&
        v >= smooth[i - bw + 1] &&
        v > smooth[i + bw - 1] &&
        v > smooth[i + bw + 1]
      ) {
        peaks.push({
          x: Math.min(w - 1, x * bin + offset),
          y: Math.min(h - 1, y * bin + offset),
          significance: v / smoothNoise,
        });
      }
    }
  }
  return peaks;
}

/**
 * The source mask of the sources of either sign in a residual given row by row (as
 * detectPeaksInRows): detectPeaks(residual).sourceMask | detectPeaks(-residual).sourceMask, smoothed once. Negation is exact (rounding is symmetric), so
 * the negated residual smooths to the negated smoothing, and growing a union grows each part.
 */
export function eitherSignSourceMask(
  rowOf: (y: number) => Float32Array,
  w: number,
  h: number,
  sigma: number,
  config: Partial<PeakConfig> = {},
): Uint8Array {
  const cfg = { ...DEFAULT_PEAK_CONFIG, ...config };
  const { smooth, bin, bw, bh, smoothNoise } = smoothed(rowOf, w, h, sigma, cfg);
  return eitherSignMaskOf(smooth, smoothNoise, w, h, bin, bw, bh, cfg);
}

/** eitherSignSourceMask's mask of the smoothed, binned residual. */
export function eitherSignMaskOf(
  smooth: Float32Array,
  smoothNoise: number,
  w: number,
  h: number,
  bin: number,
  bw: number,
  bh: number,
  cfg: PeakConfig,
): Uint8Array {
  const footprint = cfg.maskThresholdSigma * smoothNoise;
  const coarseMask = new Uint8Array(bw * bh);
  for (let i = 0; i < smooth.length; i++)
    coarseMask[i] = smooth[i] <= footprint && -smooth[i] <= footprint ? 0 : 1;
  return grownMask(coarseMask, w, h, bin, bw, bh, cfg.maskGrowPx);
}

/** The detection's binning and smoothing for an image of w x h under `cfg`. */
export interface SmoothingGeometry {
  bin: number;
  /** Binned size. */
  bw: number;
  bh: number;
  taps: Float32Array;
  /** Noise of the smoothed, binned image for a pixel noise `sigma`. */
  smoothNoise: number;
}

export function smoothingGeometry(
  w: number,
  h: number,
  sigma: number,
  cfg: PeakConfig,
): SmoothingGeometry {
  const bin = Math.max(1, Math.round(cfg.bin));
  const taps = gaussianTaps(cfg.smoothingSigmaPx / bin);
  let s2 = 0;
  for (const t of taps) s2 += t * t;
  // A block sum has noise bin * sigma; the 2-D kernel is an outer product, so sqrt(sum k^2) = sum of the 1-D taps squared.
  const smoothNoise = sigma * bin * s2;
  return { bin, bw: Math.ceil(w / bin), bh: Math.ceil(h / bin), taps, smoothNoise };
}

/**
 * Binned rows [by0, by1) of the smoothed residual, written into `smooth` (the whole bw x bh
 * image): the same values as the whole image's smoothing, from the residual rows they reach
 * (`rowOf`, as detectPeaksInRows), so that bands can be smoothed apart (by threads).
 */
export function smoothRows(
  rowOf: (y: number) => Float32Array,
  w: number,
  h: number,
  g: SmoothingGeometry,
  smooth: Float32Array,
  by0: number,
  by1: number,
): void {
  const half = (g.taps.length - 1) >> 1;
  const b0 = Math.max(0, by0 - half);
  const b1 = Math.min(g.bh, by1 + half);
  const binned = blockSum(rowOf, w, h, g.bin, g.bw, b0, b1);
  convolveSeparableRows(binned, b0, g.bw, g.bh, g.taps, smooth, by0, by1);
}

/** The rows summed in bin x bin blocks and smoothed by the Gaussian, with the smoothed noise. */
function smoothed(
  rowOf: (y: number) => Float32Array,
  w: number,
  h: number,
  sigma: number,
  cfg: PeakConfig,
  whole?: Float32Array,
): { smooth: Float32Array; bin: number; bw: number; bh: number; smoothNoise: number } {
  const g = smoothingGeometry(w, h, sigma, cfg);
  const { bin, bw, bh, taps, smoothNoise } = g;
  if (bin === 1 && whole) {
    const smooth = new Float32Array(bw * bh);
    convolveSeparable(whole, bw, bh, taps, smooth);
    return { smooth, bin, bw, bh, smoothNoise };
  }
  // The block sums are smoothed in place (one plane fewer): the row pass reads them all before any is written.
  const smooth = blockSum(rowOf, w, h, bin, bw, 0, bh);
  convolveSeparableRows(smooth, 0, bw, bh, taps, smooth, 0, bh);
  return { smooth, bin, bw, bh, smoothNoise };
}

/** The binned mask grown by growPx (in image pixels) and drawn at full resolution. */
function grownMask(
  coarseMask: Uint8Array,
  w: number,
  h: number,
  bin: number,
  bw: number,
  bh: number,
  growPx: number,
): Uint8Array {
  dilateSquare(coarseMask, bw, bh, Math.ceil(growPx / bin));
  // On shared memory: later passes may share it with a helper thread (variance-bands.ts).
  const sourceMask = new Uint8Array(new SharedArrayBuffer(w * h));
  for (let y = 0; y < h; y++) {
    const row = y * w;
    // Rows of one block are copies of its first.
    if (y % bin) {
      sourceMask.copyWithin(row, row - w, row);
      continue;
    }
    const crow = (y / bin) * bw;
    // Set byte by byte: a fill() call per masked block cost more than its few bytes.
    for (let bx = 0; bx < bw; bx++) {
      if (!coarseMask[crow + bx]) continue;
      for (let x = bx * bin, end = Math.min(w, x + bin); x < end; x++) sourceMask[row + x] = 1;
    }
  }
  return sourceMask;
}

/** Sums of bin x bin blocks of the rows, block rows [by0, by1) (row 0 of the result is by0); partial blocks at the far edges are scaled to a full block. */
function blockSum(
  rowOf: (y: number) => Float32Array,
  w: number,
  h: number,
  bin: number,
  bw: number,
  by0: number,
  by1: number,
): Float32Array {
  const out = new Float32Array(bw * (by1 - by0));
  // Pairs of pixels for the default bin of 2 (the same sums, without the inner loop).
  const pairs = bin === 2 ? w >> 1 : 0;
  for (let y = by0 * bin, end = Math.min(h, by1 * bin); y < end; y++) {
    const orow = (Math.floor(y / bin) - by0) * bw;
    const src = rowOf(y);
    for (let bx = 0; bx < pairs; bx++) out[orow + bx] += src[2 * bx] + src[2 * bx + 1];
    for (let bx = pairs, x = bin * pairs; bx < bw; bx++) {
      let s = 0;
      for (const end = Math.min(w, x + bin); x < end; x++) s += src[x];
      out[orow + bx] += s;
    }
  }
  // Partial blocks lie in the last column and the last row only.
  const full = bin * bin;
  for (let by = by0; by < by1; by++) {
    const rows = Math.min(h, (by + 1) * bin) - by * bin;
    for (let bx = 0; bx < bw; bx++) {
      const count = rows * (Math.min(w, (bx + 1) * bin) - bx * bin);
      if (count < full) out[(by - by0) * bw + bx] *= full / count;
    }
  }
  return out;
}
