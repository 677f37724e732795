/**
 * Simulated images as camera-like FITS files: one primary HDU of float32 pixels (ADU) whose header
 * carries the visit cards (GAIN, RDNOISE, SATURATE, MJD-OBS, EXPTIME, FILTER, PHOTZP, VISIT,
 * DETECTOR, INSTRUME, OBSGEO-B/L/H) and the TAN-SIP WCS. No mask or variance: the pipeline derives them.
 * With the real-world effects (real-world.ts) some cards are left out (WCS, GAIN, RDNOISE, SATURATE)
 * and a header WCS off the truth comes with the truth's CRVAL, CRPIX, CD as SIMVALn, SIMPIXn, SIMCDi_j.
 */
import { FitsHeader, visitInfoCards, writeFits } from '../fits/index.js';
import { SIM_SITE } from './asteroids.js';
import type { SimulatedImage } from './night.js';

/** Header cards describing the simulation itself (informational; readers need none of them). */
export interface SimulationCards {
  seed: number;
  /** True PSF FWHM at the image centre, pixels. */
  fwhmPx: number;
  /** Mean sky level, ADU. */
  skyAdu: number;
  /** BUNIT of the pixels (default 'adu'). */
  unit?: string;
}

/** ISO 8601 date-time of an MJD, to the millisecond (MJD 40587 is 1970-01-01). */
export function isoDate(mjd: number): string {
  return new Date(Math.round((mjd - 40587) * 86400000)).toISOString().replace('Z', '');
}

/** The FITS bytes of one simulated image. */
export function simulatedImageFits(image: SimulatedImage, sim: SimulationCards): Uint8Array {
  const { exposure } = image;
  const header = new FitsHeader();
  for (const [key, value, comment] of visitInfoCards(exposure.info))
    header.set(key, value, comment);
  header.set('TIMESYS', 'TAI', 'time scale of MJD-OBS and DATE-OBS');
  header.set(
    'DATE-OBS',
    isoDate(exposure.info.mjd - exposure.info.exposureTime / 2 / 86400),
    'exposure start',
  );
  header.set('BUNIT', sim.unit ?? 'adu', 'pixel unit');
  header.set('OBSGEO-B', SIM_SITE.latitudeDeg, '[deg] observatory geodetic latitude');
  header.set('OBSGEO-L', SIM_SITE.longitudeDeg, '[deg] observatory east longitude');
  header.set('OBSGEO-H', SIM_SITE.heightM, '[m] observatory height (WGS84)');
  for (const [key, value] of exposure.wcs?.toHeaderCards() ?? []) header.set(key, value);
  // A header WCS off the truth (or none): the truth's linear part is recorded (its SIP terms are the header's).
  if (exposure.wcs !== image.trueWcs) {
    for (const [key, value] of image.trueWcs.toHeaderCards()) {
      const m = /^(CRVAL|CRPIX)([12])$|^CD([12])_([12])$/.exec(key);
      if (m && typeof value === 'number')
        header.set(m[1] ? `SIM${m[1].slice(2)}${m[2]}` : `SIMCD${m[3]}_${m[4]}`, value, 'true WCS');
    }
  }
  header.set('SIMSEED', sim.seed, 'ap simulate seed');
  header.set('SIMFWHM', Number(sim.fwhmPx.toFixed(4)), '[pixel] true PSF FWHM at the image centre');
  header.set('SIMSKY', Number(sim.skyAdu.toFixed(3)), '[adu] true mean sky level');
  const { width, height } = exposure;
  const pixels = exposure.image.contiguous ? exposure.image.data : exposure.image.clone().data;
  return writeFits([{ data: pixels, width, height, header }]);
}
