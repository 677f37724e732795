/**
 * Bright-source detection for characterisation: threshold the image smoothed by a Gaussian
 * (the matched filter for a Gaussian PSF, Irwin 1985, MNRAS 214, 575) and keep local maxima.
 */
import { convolveSeparable, dilateSquare, gaussianTaps } from './filters.js';

export interface PeakConfig {
  /** Smoothing Gaussian sigma, px (default 2, near the PSF of ~4.7 px FWHM; a matched filter is forgiving). */
  smoothingSigmaPx: number;
  /** Detection threshold on the smoothed image, in units of its own noise (default 5). */
  thresholdSigma: number;
  /** Footprint threshold for the source mask, smoothed-noise units (default 2.5). */
  maskThresholdSigma: number;
  /** Source mask grows by this many px (default 4). */
  maskGrowPx: number;
}

export const DEFAULT_PEAK_CONFIG: PeakConfig = { smoothingSigmaPx: 2, thresholdSigma: 5, maskThresholdSigma: 2.5, maskGrowPx: 4 };

export interface Peak {
  x: number;
  y: number;
  /** Smoothed value at the peak, in units of the smoothed noise. */
  significance: number;
}

export interface PeakResult {
  peaks: Peak[];
  /** 1 where a source footprint (grown) lies, row-major. */
  sourceMask: Uint8Array;
}

/**
 * Finds peaks in `residual` (image minus background, unusable pixels set to 0, contiguous w*h)
 * whose pixel noise is `sigma` ADU.
 */
export function detectPeaks(residual: Float32Array, w: number, h: number, sigma: number, config: Partial<PeakConfig> = {}): PeakResult {
  const cfg = { ...DEFAULT_PEAK_CONFIG, ...config };
  const taps = gaussianTaps(cfg.smoothingSigmaPx);
  let s2 = 0;
  for (const t of taps) s2 += t * t;
  const smoothNoise = sigma * s2; // 2-D kernel is the outer product: sqrt(sum^2) = sum of squares of the 1-D taps
  const smooth = new Float32Array(w * h);
  convolveSeparable(residual, w, h, taps, smooth);
  const detect = cfg.thresholdSigma * smoothNoise;
  const footprint = cfg.maskThresholdSigma * smoothNoise;
  const sourceMask = new Uint8Array(w * h);
  const peaks: Peak[] = [];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const v = smooth[i];
      if (v <= footprint) continue;
      sourceMask[i] = 1;
      if (v <= detect || x === 0 || y === 0 || x === w - 1 || y === h - 1) continue;
      if (
        v >= smooth[i - 1] && v > smooth[i + 1] && v >= smooth[i - w] && v > smooth[i + w] &&
        v >= smooth[i - w - 1] && v >= smooth[i - w + 1] && v > smooth[i + w - 1] && v > smooth[i + w + 1]
      ) {
        peaks.push({ x, y, significance: v / smoothNoise });
      }
    }
  }
  dilateSquare(sourceMask, w, h, cfg.maskGrowPx);
  return { peaks, sourceMask };
}
