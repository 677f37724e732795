/**
 * Analytic, position-independent PSFs (circular Gaussian and Moffat) implementing `Psf`:
 * for synthetic images in tests, fake injection without a measured model, and a fallback
 * when a difference image carries only its FWHM (header PSFFWHM).
 */
import type { Psf, PsfStamp } from '../psf/types.js';
import { erf, FWHM_PER_SIGMA } from '../util/numeric.js';

/** Odd stamp side covering +-`radius` pixels. */
function oddSize(radius: number): number {
  return 2 * Math.ceil(radius) + 1;
}

abstract class RadialPsf implements Psf {
  constructor(readonly stampSize: number) {
    if (stampSize % 2 !== 1 || stampSize < 3)
      throw new RangeError(`PSF stamp size must be odd and >= 3, got ${stampSize}`);
  }

  /** Unnormalised stamp of side `size` whose centre pixel sits at offset (dx, dy) from the profile centre. */
  protected abstract draw(size: number, dx: number, dy: number): Float32Array;

  abstract fwhmAt(x: number, y: number): number;
  abstract sigmaAt(x: number, y: number): number;

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const dx = centered ? 0 : x - Math.round(x);
    const dy = centered ? 0 : y - Math.round(y);
    const data = this.draw(this.stampSize, dx, dy);
    let sum = 0;
    for (const v of data) sum += v;
    for (let i = 0; i < data.length; i++) data[i] /= sum;
    return { size: this.stampSize, data };
  }
}

/** Circular Gaussian of standard deviation `sigma` px, integrated over each pixel. */
export class GaussianPsf extends RadialPsf {
  constructor(
    readonly sigma: number,
    stampSize: number = oddSize(5 * sigma),
  ) {
    super(stampSize);
  }

  static fromFwhm(fwhm: number, stampSize?: number): GaussianPsf {
    return new GaussianPsf(fwhm / FWHM_PER_SIGMA, stampSize);
  }

  protected draw(size: number, dx: number, dy: number): Float32Array {
    const r = (size - 1) / 2;
    const s = this.sigma * Math.SQRT2;
    const gx = new Float64Array(size);
    const gy = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const u = i - r;
      gx[i] = erf((u - dx + 0.5) / s) - erf((u - dx - 0.5) / s);
      gy[i] = erf((u - dy + 0.5) / s) - erf((u - dy - 0.5) / s);
    }
    const data = new Float32Array(size * size);
    for (let j = 0; j < size; j++)
      for (let i = 0; i < size; i++) data[j * size + i] = gy[j] * gx[i];
    return data;
  }

  fwhmAt(): number {
    return this.sigma * FWHM_PER_SIGMA;
  }

  sigmaAt(): number {
    return this.sigma;
  }
}

/** Circular Moffat (1969, A&A 3, 455) profile (1 + r^2/alpha^2)^-beta, sampled 4x4 per pixel. */
export class MoffatPsf extends RadialPsf {
  readonly alpha: number;

  constructor(
    readonly fwhm: number,
    readonly beta: number = 3.5,
    stampSize: number = oddSize(3 * fwhm),
  ) {
    super(stampSize);
    if (!(beta > 1)) throw new RangeError(`Moffat beta must exceed 1, got ${beta}`);
    this.alpha = fwhm / (2 * Math.sqrt(2 ** (1 / beta) - 1));
  }

  protected draw(size: number, dx: number, dy: number): Float32Array {
    const r = (size - 1) / 2;
    const sub = 4;
    const a2 = this.alpha * this.alpha;
    const data = new Float32Array(size * size);
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++) {
        let acc = 0;
        for (let sj = 0; sj < sub; sj++) {
          const v = j - r - dy + (sj + 0.5) / sub - 0.5;
          for (let si = 0; si < sub; si++) {
            const u = i - r - dx + (si + 0.5) / sub - 0.5;
            acc += (1 + (u * u + v * v) / a2) ** -this.beta;
          }
        }
        data[j * size + i] = acc;
      }
    }
    return data;
  }

  fwhmAt(): number {
    return this.fwhm;
  }

  /** sqrt(<r^2>/2) of the profile truncated to its stamp. */
  sigmaAt(): number {
    const { data, size } = this.stampAt(0, 0, true);
    const r = (size - 1) / 2;
    let m2 = 0;
    for (let j = 0; j < size; j++)
      for (let i = 0; i < size; i++) m2 += data[j * size + i] * ((i - r) ** 2 + (j - r) ** 2);
    return Math.sqrt(m2 / 2);
  }
}
