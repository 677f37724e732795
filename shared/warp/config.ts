import type { KernelName } from './lanczos.js';

/** How a template is warped onto a science image's pixel grid. */
export interface WarpConfig {
  /** Interpolation kernel. Default 'lanczos3' (Rubin's default warping kernel). */
  kernel: KernelName;
  /**
   * Spacing in output pixels of the grid on which the exact WCS-to-WCS mapping is computed and
   * between which it is interpolated bilinearly (Rubin's interpLength). Default 32. Halved
   * automatically until the interpolation error is below `maxInterpErrorPx`.
   */
  interpLength: number;
  /** Largest allowed error of the interpolated mapping, template pixels. Default 0.001. */
  maxInterpErrorPx: number;
  /** Below this fraction of output pixels covered by the template, throw InsufficientCoverageError. Default 0.1. */
  minCoverageFraction: number;
  /**
   * Mask bits of the template pixels within this many pixels of the interpolation point (taps
   * floor(x)-(r-1) .. floor(x)+r per axis) are ORed into the output pixel. Default 3: the whole
   * Lanczos-3 footprint, i.e. every pixel that contributes; 1 is the 2x2 bilinear footprint.
   */
  growMaskRadius: number;
  /** Image and variance value of NO_DATA output pixels. Default NaN (as Rubin's warper); 0 zero-fills. */
  noDataValue: number;
  /** Worker threads including the main one; 0 = automatic (all cores for images above 1 Mpix). Default 0. */
  threads: number;
}

export const DEFAULT_WARP_CONFIG: Readonly<WarpConfig> = Object.freeze({
  kernel: 'lanczos3',
  interpLength: 32,
  maxInterpErrorPx: 0.001,
  minCoverageFraction: 0.1,
  growMaskRadius: 3,
  noDataValue: Number.NaN,
  threads: 0,
});
