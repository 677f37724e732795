/** Worker-thread side of buildAlertsParallel: encodes cutouts as FITS files. */
import { cutoutFits, type CutoutParts } from './cutouts.js';

export function encodeCutouts(parts: CutoutParts[]): Uint8Array[] {
  return parts.map(cutoutFits);
}
