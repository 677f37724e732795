/**
 * An analytic elliptical Gaussian PSF, constant over the image: the fallback model when too few
 * stars are found for an empirical one.
 */
import type { Psf, PsfStamp } from './types.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';

export class GaussianPsf implements Psf {
  readonly stampSize: number;

  /**
   * @param ixx, iyy, ixy second moments (covariance), px^2
   * @param stampSize odd stamp side, px (default: 2 * ceil(4 sigma) + 1, at least 11)
   * @example new GaussianPsf(4, 4, 0).fwhmAt(0, 0) // 2.3548 * 2 = 4.71
   */
  constructor(
    readonly ixx: number,
    readonly iyy: number,
    readonly ixy: number,
    stampSize?: number,
  ) {
    if (!(ixx > 0 && iyy > 0 && ixx * iyy > ixy * ixy))
      throw new RangeError(`GaussianPsf: moments (${ixx}, ${iyy}, ${ixy}) not positive definite`);
    this.stampSize =
      stampSize ?? Math.max(11, 2 * Math.ceil(4 * Math.sqrt(Math.max(ixx, iyy))) + 1);
  }

  static fromFwhm(fwhm: number, stampSize?: number): GaussianPsf {
    const s = fwhm / FWHM_PER_SIGMA;
    return new GaussianPsf(s * s, s * s, 0, stampSize);
  }

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const size = this.stampSize;
    const c = (size - 1) / 2;
    const dx = centered ? 0 : x - Math.round(x);
    const dy = centered ? 0 : y - Math.round(y);
    const det = this.ixx * this.iyy - this.ixy * this.ixy;
    const data = new Float32Array(size * size);
    let sum = 0;
    for (let j = 0; j < size; j++) {
      const v = j - c - dy;
      for (let i = 0; i < size; i++) {
        const u = i - c - dx;
        const q = (this.iyy * u * u - 2 * this.ixy * u * v + this.ixx * v * v) / det;
        sum += data[j * size + i] = Math.exp(-0.5 * q);
      }
    }
    for (let k = 0; k < data.length; k++) data[k] /= sum;
    return { size, data };
  }

  /** FWHM of the Gaussian's mean radius: 2.3548 sqrt of the geometric mean of the principal variances. */
  fwhmAt(): number {
    return FWHM_PER_SIGMA * Math.pow(this.ixx * this.iyy - this.ixy * this.ixy, 0.25);
  }

  sigmaAt(): number {
    return Math.sqrt((this.ixx + this.iyy) / 2);
  }
}
