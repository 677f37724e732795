/**
 * HEALPix nested pixel indices and cone queries as index ranges (Gorski et al. 2005, ApJ 622, 759).
 *
 * Rows carry their pixel at STORED_ORDER (16: ~3.2 arcsec pixels, indices < 2^36, exact in a
 * double). A cone becomes a few [lo, hi) ranges of order-16 indices: the cone is covered by
 * pixels of a coarser order from @hscmap/healpix (which supports orders <= 15), each of which
 * is a contiguous run of order-16 indices in the nested scheme.
 */
import { order2nside, query_disc_inclusive_nest, tu2fxy, za2tu, type V3 } from '@hscmap/healpix';
import { RAD_PER_DEG } from '../util/numeric.js';

export const STORED_ORDER = 16;
const MAX_LIBRARY_ORDER = 15;

/** A half-open range [lo, hi) of nested pixel indices. */
export type PixelRange = [lo: number, hi: number];

/** Interleaves the bits of x and y (each < 2^26): x in the even bits, y in the odd. */
function interleave(x: number, y: number): number {
  let result = 0;
  let scale = 1;
  while (x > 0 || y > 0) {
    result += ((x & 1) + 2 * (y & 1)) * scale;
    x = Math.floor(x / 2);
    y = Math.floor(y / 2);
    scale *= 4;
  }
  return result;
}

/** Nested pixel index of (ra, dec) in degrees at `order` (0..26). */
export function healpixNest(raDeg: number, decDeg: number, order = STORED_ORDER): number {
  const nside = 2 ** order;
  const phi = (((raDeg % 360) + 360) % 360) * RAD_PER_DEG;
  const z = Math.sin(decDeg * RAD_PER_DEG);
  const { t, u } = za2tu(z, phi);
  const { f, x, y } = tu2fxy(nside, t, u);
  return f * nside * nside + interleave(x, y);
}

/** The order-`to` index range covered by pixel `pixel` of the coarser order `from`. */
export function pixelToRange(pixel: number, from: number, to = STORED_ORDER): PixelRange {
  const scale = 4 ** (to - from);
  return [pixel * scale, (pixel + 1) * scale];
}

/** Sorts and merges touching or overlapping ranges. */
export function mergeRanges(ranges: PixelRange[]): PixelRange[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: PixelRange[] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1]) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** Unit vector of (ra, dec) in degrees. */
export function unitVector(raDeg: number, decDeg: number): V3 {
  const ra = raDeg * RAD_PER_DEG;
  const dec = decDeg * RAD_PER_DEG;
  const c = Math.cos(dec);
  return [c * Math.cos(ra), c * Math.sin(ra), Math.sin(dec)];
}

/**
 * Order whose pixels are about as large as the radius, so a cone is covered by a handful of them.
 * Pixel side ~ 58.6 deg / 2^order.
 */
export function coverOrder(radiusDeg: number): number {
  const order = Math.floor(Math.log2(58.6 / Math.max(radiusDeg, 1e-9)));
  return Math.max(0, Math.min(MAX_LIBRARY_ORDER, order));
}

/** Pixels of `order` that may intersect the cone (never misses one; may include a few extra). */
export function conePixels(
  raDeg: number,
  decDeg: number,
  radiusDeg: number,
  order: number,
): number[] {
  if (order > MAX_LIBRARY_ORDER)
    throw new RangeError(`cone queries support orders <= ${MAX_LIBRARY_ORDER}`);
  const pixels: number[] = [];
  query_disc_inclusive_nest(
    order2nside(order),
    unitVector(raDeg, decDeg),
    radiusDeg * RAD_PER_DEG,
    (p) => pixels.push(p),
  );
  return pixels;
}

/** Order-`to` index ranges covering a cone, merged and sorted. */
export function coneRanges(
  raDeg: number,
  decDeg: number,
  radiusDeg: number,
  to = STORED_ORDER,
): PixelRange[] {
  const order = Math.min(coverOrder(radiusDeg), to);
  return mergeRanges(
    conePixels(raDeg, decDeg, radiusDeg, order).map((p) => pixelToRange(p, order, to)),
  );
}

/** Angular separation of two positions, degrees (haversine, accurate at all separations). */
export function separationDeg(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const sdd = Math.sin(((dec2 - dec1) * RAD_PER_DEG) / 2);
  const sdr = Math.sin(((ra2 - ra1) * RAD_PER_DEG) / 2);
  const h = sdd * sdd + Math.cos(dec1 * RAD_PER_DEG) * Math.cos(dec2 * RAD_PER_DEG) * sdr * sdr;
  return (2 * Math.asin(Math.min(1, Math.sqrt(h)))) / RAD_PER_DEG;
}
