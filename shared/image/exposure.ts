import { Plane, type Box, type ImageF, type MaskI } from './plane.js';
import type { Wcs } from '../wcs/types.js';
import type { Psf } from '../psf/types.js';
import { emptyVisitInfo, type VisitInfo } from './visit-info.js';

/**
 * Correlated pixel noise, separable: the noise covariance of two pixels (dx, dy) apart is
 * variance * x[|dx|] * y[|dy|], variance being the VARIANCE plane's value (zero beyond the arrays),
 * so its power spectrum is variance * X(u) * Y(v) with X(u) = x[0] + 2 sum_d x[d] cos(2 pi u d)
 * (u in cycles per pixel), likewise Y.
 */
export interface NoiseLags {
  readonly x: readonly number[];
  readonly y: readonly number[];
}

/**
 * NoiseLags that vary over the image (e.g. left by resampling, whose sub-pixel phases drift): an
 * nx x ny grid of square cells, row-major; pixel (x, y) of the parent frame (see image.x0/y0) is in cell
 * (floor((x - x0) / cellSize), floor((y - y0) / cellSize)), clamped to the grid.
 */
export interface NoiseCorrelation {
  readonly x0: number;
  readonly y0: number;
  readonly cellSize: number;
  readonly nx: number;
  readonly ny: number;
  readonly cells: readonly NoiseLags[];
}

/**
 * An Exposure, as in Rubin's afw: image (ADU), mask bits, variance (ADU^2),
 * WCS, PSF and visit metadata, all on one pixel grid.
 */
export class Exposure {
  constructor(
    readonly image: ImageF,
    readonly mask: MaskI,
    readonly variance: ImageF,
    public wcs: Wcs | null = null,
    public psf: Psf | null = null,
    public info: VisitInfo = emptyVisitInfo(),
    /** Null: white noise, the VARIANCE plane is each pixel's variance. */
    public noiseCorrelation: NoiseCorrelation | null = null,
  ) {
    for (const [name, plane] of [
      ['mask', mask],
      ['variance', variance],
    ] as const) {
      if (plane.width !== image.width || plane.height !== image.height) {
        throw new RangeError(
          `${name} plane ${plane.width}x${plane.height} does not match image ${image.width}x${image.height}`,
        );
      }
    }
  }

  static blank(width: number, height: number): Exposure {
    return new Exposure(
      Plane.zeros(Float32Array, width, height),
      Plane.zeros(Int32Array, width, height),
      Plane.zeros(Float32Array, width, height),
    );
  }

  get width(): number {
    return this.image.width;
  }

  get height(): number {
    return this.image.height;
  }

  /** A view on a sub-box (shared pixels; WCS and PSF stay in the parent's frame, see image.x0/y0). */
  view(box: Box): Exposure {
    return new Exposure(
      this.image.view(box),
      this.mask.view(box),
      this.variance.view(box),
      this.wcs,
      this.psf,
      this.info,
      this.noiseCorrelation,
    );
  }
}
