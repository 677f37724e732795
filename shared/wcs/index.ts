/**
 * World coordinate systems: TAN, TAN-SIP and TPV, from FITS headers or from parameters.
 *
 * Pixels are 0-based everywhere in this API (FITS CRPIX is 1-based: `crpix` here is CRPIX - 1);
 * sky in degrees.
 * @example
 *   import { makeTanWcs, makeSipWcs, cdMatrix } from '../wcs/index.js';
 *   const tan = makeTanWcs({ crpix: [2047.5, 2047.5], crval: [150.1, 2.2], cd: cdMatrix(0.2, 0.05) });
 *   const sip = makeSipWcs({ ...tan.tanParams, a: { '2_0': 1e-7 }, b: { '0_2': -1e-7 } });
 *   const { x, y } = sip.skyToPixel({ ra: Float64Array.of(150.1), dec: Float64Array.of(2.2) });
 */
import { SipWcs, type SipWcsParams } from './sip.js';
import { TanWcs, type TanWcsParams } from './tangent-wcs.js';
import { TpvWcs, type TpvWcsParams } from './tpv.js';

export type { LocalJacobian, PixelCoords, SkyCoords, Wcs } from './types.js';
export { wcsFromHeader, type HeaderLike } from './header.js';
export { cdMatrix, det2, invert2, type Matrix2 } from './matrix.js';
export type { SipPolynomial } from './polynomial.js';
export { TangentPlane, wrapRa } from './sphere.js';
export { TangentWcs, TanWcs, type TanWcsParams } from './tangent-wcs.js';
export { SipWcs, type SipWcsParams } from './sip.js';
export { TpvWcs, TPV_EXPONENTS, TPV_TERMS, type TpvWcsParams } from './tpv.js';

/** A plain TAN WCS. */
export function makeTanWcs(params: TanWcsParams): TanWcs {
  return new TanWcs(params);
}

/** A TAN-SIP WCS; `a`, `b` (and optional `ap`, `bp`) as a matrix m[p][q] or a { 'p_q': c } record. */
export function makeSipWcs(params: SipWcsParams): SipWcs {
  return new SipWcs(params);
}

/** A TPV WCS from PV1_k / PV2_k arrays indexed by k. */
export function makeTpvWcs(params: TpvWcsParams): TpvWcs {
  return new TpvWcs(params);
}
