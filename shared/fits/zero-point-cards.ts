/**
 * The photometric zero point a header states (AB magnitude of 1 image unit), from, in order:
 * - PHOTZP, MAGZERO or MAGZP: given as such;
 * - a surface-brightness image (BUNIT MJy/sr, as JWST's calibrated and resampled products) with
 *   PIXAR_SR, the solid angle of one pixel: 1 MJy/sr holds 1e6 PIXAR_SR Jy per pixel, so
 *   ZP = -2.5 log10(1e6 PIXAR_SR / 3631) (JWST's own recipe: -6.10 - 2.5 log10 PIXAR_SR);
 * - a count-rate image (BUNIT DN/s) with PHOTMJSR (MJy/sr per DN/s) and PIXAR_SR: the same
 *   times PHOTMJSR;
 * - flux-density units per pixel (BUNIT Jy, mJy, uJy, nJy): ZP = 8.90 + 2.5 log10 of the unit in Jy.
 * AB magnitude: m = -2.5 log10(f / 3631 Jy) (Oke & Gunn 1983, ApJ 266, 713).
 */
import type { FitsHeader } from './header.js';

const AB_ZERO_JY = 3631;
const JY_PER_UNIT: Record<string, number> = { jy: 1, mjy: 1e-3, ujy: 1e-6, njy: 1e-9 };

export interface HeaderZeroPoint {
  zeroPoint: number;
  /** The cards it came from, e.g. 'PHOTZP', 'BUNIT MJy/sr, PIXAR_SR'. */
  origin: string;
}

/** AB magnitude of a flux density in Jy. */
function abMag(jy: number): number {
  return -2.5 * Math.log10(jy / AB_ZERO_JY);
}

/** The header's zero point, or null when it states none. */
export function zeroPointFromHeader(header: FitsHeader): HeaderZeroPoint | null {
  for (const key of ['PHOTZP', 'MAGZERO', 'MAGZP']) {
    const v = header.getNumber(key);
    if (v !== undefined && Number.isFinite(v)) return { zeroPoint: v, origin: key };
  }
  const unit = (header.getString('BUNIT') ?? '').trim().toLowerCase().replace(/\s+/g, '');
  const pixar = header.getNumber('PIXAR_SR');
  const photmjsr = header.getNumber('PHOTMJSR');
  if (pixar !== undefined && pixar > 0) {
    if (unit === 'mjy/sr' || unit === 'mjy.sr-1' || unit === 'mjy/steradian')
      return { zeroPoint: abMag(1e6 * pixar), origin: 'BUNIT MJy/sr, PIXAR_SR' };
    if ((unit === 'dn/s' || unit === 'dn.s-1') && photmjsr !== undefined && photmjsr > 0)
      return { zeroPoint: abMag(1e6 * pixar * photmjsr), origin: 'BUNIT DN/s, PHOTMJSR, PIXAR_SR' };
  }
  // BUNIT 'MJy' is mega; per-pixel flux densities are lower-case jy after stripping: match the original case.
  const raw = (header.getString('BUNIT') ?? '').trim();
  const perPixel = /^(Jy|mJy|uJy|µJy|nJy)$/.exec(raw);
  if (perPixel) {
    const key = perPixel[1].replace('µ', 'u').toLowerCase();
    return { zeroPoint: abMag(JY_PER_UNIT[key]), origin: `BUNIT ${raw}` };
  }
  return null;
}
