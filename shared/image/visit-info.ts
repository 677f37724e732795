import type { DetectorSource, VisitSource } from './identity.js';

/** What is known of the visit an image came from; all optional values may be NaN when unknown. */
export interface VisitInfo {
  /** Visit (exposure) id. */
  visit: number;
  /** Detector number. */
  detector: number;
  /** Filter band, one of u g r i z y (or the header's FILTER when unmapped). */
  band: string;
  /** Exposure midpoint, MJD (TAI). */
  mjd: number;
  /** Exposure time, seconds. */
  exposureTime: number;
  /** Gain, electrons per ADU. */
  gain: number;
  /** Read noise, electrons. */
  readNoise: number;
  /** Saturation level, ADU. */
  saturation: number;
  /** Photometric zero point: AB magnitude of 1 ADU (header PHOTZP or MAGZERO). */
  zeroPoint: number;
  /** Instrument name. */
  instrument: string;
  /** Pixel units as read (BUNIT: 'adu', 'MJy/sr', 'electron/s'); '' or absent: counts (ADU). */
  units?: string;
  /** Cards the exposure midpoint was read from ('MJD-OBS + EXPTIME/2', 'DATE-OBS', '--mjd'). */
  mjdOrigin?: string;
  /** Where the zero point came from ('PHOTZP', 'BUNIT MJy/sr, PIXAR_SR', '--zero-point', ...). */
  zeroPointOrigin?: string;
  /** How the saturation level was known: 'SATURATE' (header), 'estimated' (from the pixels), or absent. */
  saturationOrigin?: string;
  /** How the gain was known: absent (header GAIN) or 'estimated' (sky level over sky variance). */
  gainOrigin?: string;
  /** Where visit and detector came from (shared/image/identity.ts); absent when set by code. */
  visitSource?: VisitSource;
  detectorSource?: DetectorSource;
  /** Of a template (shared/template): its version id, the TMPLID card; absent for other images. */
  templateVersion?: string;
}

export function emptyVisitInfo(): VisitInfo {
  return {
    visit: 0,
    detector: 0,
    band: '',
    mjd: Number.NaN,
    exposureTime: Number.NaN,
    gain: Number.NaN,
    readNoise: Number.NaN,
    saturation: Number.NaN,
    zeroPoint: Number.NaN,
    instrument: '',
  };
}
