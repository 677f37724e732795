/**
 * Template warping (Rubin's warpExposure): resample one Exposure onto another's pixel grid
 * through both WCSs.
 * @example
 *   import { warpExposure } from '../warp/index.js';
 *   const { exposure, coverageFraction, covarianceFactor } = await warpExposure(template, science, { interpLength: 32 });
 */
export { DEFAULT_WARP_CONFIG, type WarpConfig } from './config.js';
export { InsufficientCoverageError, WarpGeometryError } from './errors.js';
export { LanczosTable, lanczos, type KernelName } from './lanczos.js';
export { buildMapping, exactMapping, type GridFrame, type PixelMapping } from './mapping.js';
export { WarpedPsf } from './psf.js';
export {
  warpExposure,
  warpSource,
  type WarpResult,
  type WarpSource,
  type WarpTarget,
} from './warp.js';
export { rescaleVarianceToPsfScales, rescaleVarianceToPsfScalesAsync } from './variance.js';
