/**
 * Mask bit planes, as Rubin's afw Mask names them.
 *
 * A mask pixel is an Int32 whose bits say why the pixel is special; 0 means clean.
 * @example
 *   if (mask.data[i] & MaskPlane.SAT) { ... } // saturated
 */
export const MaskPlane = {
  /** Bad pixel from the camera's defect map (hot pixel, bad column). */
  BAD: 1 << 0,
  /** At or above the saturation level, including bleed trails. */
  SAT: 1 << 1,
  /** Value interpolated over (never done silently; the bit says so). */
  INTRP: 1 << 2,
  /** Cosmic ray. */
  CR: 1 << 3,
  /** Too close to the image edge for a full kernel or PSF footprint. */
  EDGE: 1 << 4,
  /** Part of a positive detection footprint. */
  DETECTED: 1 << 5,
  /** Part of a negative detection footprint. */
  DETECTED_NEGATIVE: 1 << 6,
  /** No data: outside the template's coverage, or a non-finite input pixel. */
  NO_DATA: 1 << 7,
  /** Value is suspect (near saturation, in a bright-star halo, ...). */
  SUSPECT: 1 << 8,
  /** A coadd's PSF differs from its model here (inputs missing under a bright source; shared/template/inexact-psf.ts). */
  INEXACT_PSF: 1 << 9,
} as const;

export type MaskPlaneName = keyof typeof MaskPlane;

/** All plane names in bit order, for FITS headers (MP_<NAME> = bit index). */
export const MASK_PLANE_NAMES = Object.keys(MaskPlane) as MaskPlaneName[];

/** Bits that make a pixel unusable for fitting (PSF matching, photometry). */
export const UNUSABLE =
  MaskPlane.BAD | MaskPlane.SAT | MaskPlane.CR | MaskPlane.NO_DATA | MaskPlane.EDGE;

/** Union of the named planes' bits. */
export function maskBits(...names: MaskPlaneName[]): number {
  let bits = 0;
  for (const name of names) bits |= MaskPlane[name];
  return bits;
}
