/**
 * Forced PSF photometry at given positions: on the difference image for DIAObjects' forced
 * sources, and on the science and (warped, PSF-matched) template images for a DIASource's
 * scienceFlux / templateFlux (Rubin's ForcedPhotCcdTask / DiaForcedSource).
 */
import type { Exposure } from '../image/exposure.js';
import { UNUSABLE } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { forcedPsfFlux, type PsfFlux } from './psf-fit.js';
import type { DiaSourceRecord } from './types.js';

export interface ForcedSource extends PsfFlux {
  /** Pixel position measured at, 0-based. */
  x: number;
  y: number;
}

/** PSF fluxes (ADU) at 0-based pixel positions; positions off the image give NaN flux and ndata 0. */
export function forcedPhotometryAtPixels(
  exposure: Exposure,
  psf: Psf,
  positions: ReadonlyArray<{ x: number; y: number }>,
  excludeBits = UNUSABLE,
): ForcedSource[] {
  return positions.map(({ x, y }) => ({
    x,
    y,
    ...forcedPsfFlux(exposure, psf, x, y, excludeBits),
  }));
}

/**
 * PSF fluxes (ADU) at sky positions (degrees) through the exposure's WCS.
 * @example
 *   const [m] = forcedPhotometryAtSky(difference, differencePsf, [150.1], [2.2]);
 */
export function forcedPhotometryAtSky(
  exposure: Exposure,
  psf: Psf,
  ra: ArrayLike<number>,
  dec: ArrayLike<number>,
  excludeBits = UNUSABLE,
): ForcedSource[] {
  if (!exposure.wcs)
    throw new Error('forced photometry at sky positions needs an exposure with a WCS');
  const pix = exposure.wcs.skyToPixel({ ra: Float64Array.from(ra), dec: Float64Array.from(dec) });
  return forcedPhotometryAtPixels(
    exposure,
    psf,
    Array.from(pix.x, (x, i) => ({ x, y: pix.y[i] })),
    excludeBits,
  );
}

export interface ScienceTemplateImages {
  /** The science exposure (its PSF is used unless `sciencePsf` is given). */
  science?: Exposure;
  sciencePsf?: Psf;
  /** The template warped to the science pixel grid (its PSF is used unless `templatePsf` is given). */
  template?: Exposure;
  templatePsf?: Psf;
}

/**
 * Fills scienceFlux / templateFlux (and errors) of each source by forced PSF photometry at its
 * centroid on the science and warped template exposures, where given and with a PSF.
 */
export function measureScienceTemplateFluxes(
  sources: DiaSourceRecord[],
  images: ScienceTemplateImages,
  excludeBits = UNUSABLE,
): void {
  const science = images.science;
  const sciencePsf = images.sciencePsf ?? science?.psf;
  const template = images.template;
  const templatePsf = images.templatePsf ?? template?.psf;
  for (const s of sources) {
    if (science && sciencePsf) {
      const m = forcedPsfFlux(science, sciencePsf, s.x, s.y, excludeBits);
      [s.scienceFlux, s.scienceFluxErr] = [m.flux, m.fluxErr];
    }
    if (template && templatePsf) {
      const m = forcedPsfFlux(template, templatePsf, s.x, s.y, excludeBits);
      [s.templateFlux, s.templateFluxErr] = [m.flux, m.fluxErr];
    }
  }
}
