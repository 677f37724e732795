import type { LocalJacobian, PixelCoords, SkyCoords, Wcs } from './types.js';
import { invert2, type Matrix2 } from './matrix.js';
import { TangentPlane } from './sphere.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

/** What every TAN-based WCS is built from. Pixel positions are 0-based (FITS CRPIX minus 1). */
export interface TanWcsParams {
  /** Reference pixel, 0-based [x, y] (FITS CRPIX1 - 1, CRPIX2 - 1). */
  crpix: readonly [number, number];
  /** Sky at the tangent point [ra, dec], degrees. */
  crval: readonly [number, number];
  /** CD matrix, degrees per pixel: [[CD1_1, CD1_2], [CD2_1, CD2_2]]. */
  cd: Matrix2;
  /** LONPOLE, degrees (default 180, the TAN default). */
  lonpole?: number;
}

/** Central-difference step for the local Jacobian, pixels: wide enough to beat the rounding of RA near 360 deg, small enough that curvature terms (~(step * scale)^2) vanish. */
const JACOBIAN_STEP = 4;

/**
 * Shared machinery of TAN, TAN-SIP and TPV: pixel -> (distortion, CD) -> intermediate world
 * coordinates (degrees) -> gnomonic deprojection -> sky. Subclasses supply the pixel <-> plane map.
 */
export abstract class TangentWcs implements Wcs {
  abstract readonly kind: Wcs['kind'];
  readonly crpix: readonly [number, number];
  readonly crval: readonly [number, number];
  readonly cd: Matrix2;
  readonly lonpole: number;
  protected readonly cdInverse: Matrix2;
  protected readonly plane: TangentPlane;

  constructor(params: TanWcsParams) {
    const { crpix, crval, cd } = params;
    for (const v of [...crpix, ...crval, ...cd[0], ...cd[1]]) {
      if (!Number.isFinite(v))
        throw new Error(`WCS parameters must be finite: ${JSON.stringify(params)}`);
    }
    if (Math.abs(crval[1]) > 90) throw new Error(`CRVAL2 (dec) ${crval[1]} out of [-90, 90]`);
    this.crpix = [crpix[0], crpix[1]];
    this.crval = [crval[0], crval[1]];
    this.cd = [
      [cd[0][0], cd[0][1]],
      [cd[1][0], cd[1][1]],
    ];
    this.lonpole = params.lonpole ?? 180;
    this.cdInverse = invert2(this.cd, 'CD matrix');
    this.plane = new TangentPlane(crval[0], crval[1], this.lonpole);
  }

  /** The TAN parameters, e.g. to derive a dithered or rotated copy: makeTanWcs({ ...wcs.tanParams, crval }). */
  get tanParams(): TanWcsParams {
    return { crpix: this.crpix, crval: this.crval, cd: this.cd, lonpole: this.lonpole };
  }

  /** Pixel offset from CRPIX (u, v) -> intermediate world coordinates out = [x, y], degrees. */
  protected abstract toIntermediate(u: number, v: number, out: Float64Array): void;
  /** Intermediate world coordinates (degrees) -> pixel offset from CRPIX, out = [u, v]. */
  protected abstract fromIntermediate(x: number, y: number, out: Float64Array): void;
  /** Header cards beyond the linear TAN ones (SIP or PV terms). */
  protected abstract distortionCards(): Array<[string, string | number]>;
  /** The CTYPE suffix after 'RA---' / 'DEC--'. */
  protected abstract readonly ctypeSuffix: string;

  pixelToSky(pixels: PixelCoords): SkyCoords {
    const n = pixels.x.length;
    const ra = new Float64Array(n);
    const dec = new Float64Array(n);
    const tmp = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      this.toIntermediate(pixels.x[i] - this.crpix[0], pixels.y[i] - this.crpix[1], tmp);
      this.plane.toSky(tmp[0], tmp[1], tmp);
      ra[i] = tmp[0];
      dec[i] = tmp[1];
    }
    return { ra, dec };
  }

  skyToPixel(sky: SkyCoords): PixelCoords {
    const n = sky.ra.length;
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    const tmp = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      this.plane.toPlane(sky.ra[i], sky.dec[i], tmp);
      this.fromIntermediate(tmp[0], tmp[1], tmp);
      x[i] = tmp[0] + this.crpix[0];
      y[i] = tmp[1] + this.crpix[1];
    }
    return { x, y };
  }

  /** Central differences of pixelToSky, measured in the tangent plane at (x, y) itself (east, north). */
  jacobian(x: number, y: number): LocalJacobian {
    const h = JACOBIAN_STEP;
    const sky = this.pixelToSky({
      x: Float64Array.of(x, x + h, x - h, x, x),
      y: Float64Array.of(y, y, y, y + h, y - h),
    });
    const local = new TangentPlane(sky.ra[0], sky.dec[0]);
    const p = Array.from({ length: 4 }, (_, k) => {
      const out = new Float64Array(2);
      local.toPlane(sky.ra[k + 1], sky.dec[k + 1], out);
      return out;
    });
    // Tangent plane x points east for LONPOLE 180, y north.
    const matrix: [[number, number], [number, number]] = [
      [(p[0][0] - p[1][0]) / (2 * h), (p[2][0] - p[3][0]) / (2 * h)],
      [(p[0][1] - p[1][1]) / (2 * h), (p[2][1] - p[3][1]) / (2 * h)],
    ];
    const det = matrix[0][0] * matrix[1][1] - matrix[0][1] * matrix[1][0];
    return {
      matrix,
      pixelScaleArcsec: Math.sqrt(Math.abs(det)) * ARCSEC_PER_DEG,
      rotationDeg: (Math.atan2(matrix[0][1], matrix[1][1]) * 180) / Math.PI,
    };
  }

  toHeaderCards(): Array<[keyword: string, value: string | number]> {
    const cards: Array<[string, string | number]> = [
      ['WCSAXES', 2],
      ['CTYPE1', `RA---${this.ctypeSuffix}`],
      ['CTYPE2', `DEC--${this.ctypeSuffix}`],
      ['CUNIT1', 'deg'],
      ['CUNIT2', 'deg'],
      ['RADESYS', 'ICRS'],
      ['CRPIX1', this.crpix[0] + 1],
      ['CRPIX2', this.crpix[1] + 1],
      ['CRVAL1', this.crval[0]],
      ['CRVAL2', this.crval[1]],
      ['CD1_1', this.cd[0][0]],
      ['CD1_2', this.cd[0][1]],
      ['CD2_1', this.cd[1][0]],
      ['CD2_2', this.cd[1][1]],
    ];
    if (this.lonpole !== 180) cards.push(['LONPOLE', this.lonpole]);
    return [...cards, ...this.distortionCards()];
  }

  /** (u, v) = CD^-1 (x, y): the linear part of the inverse, pixels from CRPIX. */
  protected linearInverse(x: number, y: number, out: Float64Array): void {
    const m = this.cdInverse;
    const u = m[0][0] * x + m[0][1] * y;
    out[1] = m[1][0] * x + m[1][1] * y;
    out[0] = u;
  }
}

/** Plain gnomonic WCS, Calabretta & Greisen 2002 (A&A 395, 1077), sect. 5.1.3. */
export class TanWcs extends TangentWcs {
  readonly kind = 'TAN' as const;
  protected readonly ctypeSuffix = 'TAN';

  protected toIntermediate(u: number, v: number, out: Float64Array): void {
    const cd = this.cd;
    out[0] = cd[0][0] * u + cd[0][1] * v;
    out[1] = cd[1][0] * u + cd[1][1] * v;
  }

  protected fromIntermediate(x: number, y: number, out: Float64Array): void {
    this.linearInverse(x, y, out);
  }

  protected distortionCards(): Array<[string, string | number]> {
    return [];
  }
}
