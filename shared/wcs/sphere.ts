/**
 * The gnomonic (TAN) projection and its spherical rotation, as in Calabretta & Greisen 2002
 * (A&A 395, 1077: eqs. 2 and 5 for the rotation, sect. 5.1.3 for TAN), written with unit
 * vectors instead of asin/acos so that it keeps full precision next to the reference point.
 */
import { RAD_PER_DEG } from '../util/numeric.js';
const R2D = 180 / Math.PI;

/** sin and cos of an angle in degrees, exact at multiples of 90 (LONPOLE is usually 180). */
function sinCosDeg(deg: number): [number, number] {
  const quarter = deg / 90;
  if (Number.isInteger(quarter)) {
    const table: Array<[number, number]> = [
      [0, 1],
      [1, 0],
      [0, -1],
      [-1, 0],
    ];
    return table[((quarter % 4) + 4) % 4];
  }
  return [Math.sin(deg * RAD_PER_DEG), Math.cos(deg * RAD_PER_DEG)];
}

/** RA folded into [0, 360). */
export function wrapRa(ra: number): number {
  const r = ra % 360;
  const wrapped = r < 0 ? r + 360 : r;
  return wrapped >= 360 ? 0 : wrapped;
}

/**
 * The tangent plane touching the sky at (ra0, dec0): intermediate world coordinates
 * (x, y) in degrees, x toward the native phi = 90 direction (east for LONPOLE 180).
 */
export class TangentPlane {
  private readonly sinDec0: number;
  private readonly cosDec0: number;
  private readonly sinPhiP: number;
  private readonly cosPhiP: number;

  constructor(
    readonly ra0: number,
    readonly dec0: number,
    /** Native longitude of the celestial pole, LONPOLE; 180 for TAN unless the header says otherwise. */
    readonly lonpole = 180,
  ) {
    [this.sinDec0, this.cosDec0] = sinCosDeg(dec0);
    [this.sinPhiP, this.cosPhiP] = sinCosDeg(lonpole);
  }

  /** Plane (x, y) in degrees -> out[0] = ra in [0, 360), out[1] = dec, degrees. */
  toSky(x: number, y: number, out: Float64Array): void {
    const xr = x * RAD_PER_DEG;
    const yr = y * RAD_PER_DEG;
    const s = Math.sqrt(1 + xr * xr + yr * yr);
    // Native unit vector: cos(theta) sin(phi), cos(theta) cos(phi), sin(theta).
    const cSin = xr / s;
    const cCos = -yr / s;
    const sinTheta = 1 / s;
    const cSinD = cSin * this.cosPhiP - cCos * this.sinPhiP;
    const cCosD = cCos * this.cosPhiP + cSin * this.sinPhiP;
    const num = -cSinD;
    const den = sinTheta * this.cosDec0 - cCosD * this.sinDec0;
    out[0] = wrapRa(this.ra0 + Math.atan2(num, den) * R2D);
    out[1] = Math.atan2(sinTheta * this.sinDec0 + cCosD * this.cosDec0, Math.hypot(num, den)) * R2D;
  }

  /** Sky (ra, dec) in degrees -> plane out[0] = x, out[1] = y in degrees; NaN on the far hemisphere. */
  toPlane(ra: number, dec: number, out: Float64Array): void {
    const [sinD, cosD] = sinCosDeg(dec);
    const [sinDa, cosDa] = sinCosDeg(ra - this.ra0);
    const u = -cosD * sinDa;
    const v = sinD * this.cosDec0 - cosD * this.sinDec0 * cosDa;
    const w = sinD * this.sinDec0 + cosD * this.cosDec0 * cosDa;
    if (!(w > 0)) {
      out[0] = Number.NaN;
      out[1] = Number.NaN;
      return;
    }
    const cSin = u * this.cosPhiP + v * this.sinPhiP;
    const cCos = v * this.cosPhiP - u * this.sinPhiP;
    out[0] = (R2D * cSin) / w;
    out[1] = (-R2D * cCos) / w;
  }
}
