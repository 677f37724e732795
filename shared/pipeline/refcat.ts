/**
 * Photometric calibration against a reference catalog of the footprint (Rubin's
 * photoCal against the refcat, reduced to its core): PSF fluxes are measured on the science image
 * at the catalog's positions (forced photometry, so no matching can go wrong), and the zero point
 * is the clipped median of mag + 2.5 log10(flux) over stars measured at SNR >= MIN_SNR.
 *
 * The catalog is a CSV with a header row: `ra`, `dec` (degrees) and a magnitude column for the
 * band: `<band>_mag`, `mag_<band>`, `<band>` or, for a one-band catalog, `mag` (AB).
 */
import { forcedPhotometryAtSky } from '../detect/forced.js';
import type { Exposure } from '../image/exposure.js';
import { median, madSigma } from '../util/stats.js';

export interface ReferenceStar {
  ra: number;
  dec: number;
  mag: number;
}

export interface RefcatZeroPoint {
  zeroPoint: number;
  /** Stars used and the robust scatter of their zero points, mag. */
  nStars: number;
  scatter: number;
}

/** Stars measured at this SNR or better calibrate. */
const MIN_SNR = 10;
/** At least this many such stars are needed. */
const MIN_STARS = 3;
/** Zero points this many robust sigma from the median (variables, blends) are dropped. */
const CLIP_SIGMA = 3;

/** The catalog's stars with a magnitude in `band`; throws Error naming the problem (the caller names the file). */
export function readRefcatCsv(text: string, band: string): ReferenceStar[] {
  const [head, ...rows] = text.trim().split(/\r?\n/);
  const cols = (head ?? '').split(',').map((c) => c.trim().toLowerCase());
  const b = band.toLowerCase();
  const index = (name: string): number => cols.indexOf(name);
  const [ira, idec] = [index('ra'), index('dec')];
  const imag = [`${b}_mag`, `mag_${b}`, b, 'mag'].map(index).find((i) => i >= 0) ?? -1;
  if (ira < 0 || idec < 0) throw new Error('reference catalog needs ra and dec columns');
  if (imag < 0)
    throw new Error(
      `reference catalog has no magnitude column for band '${band}' (${b}_mag, mag_${b}, ${b} or mag)`,
    );
  const stars: ReferenceStar[] = [];
  for (const row of rows) {
    const f = row.split(',');
    const star = { ra: Number(f[ira]), dec: Number(f[idec]), mag: Number(f[imag]) };
    if ([star.ra, star.dec, star.mag].every(Number.isFinite)) stars.push(star);
  }
  return stars;
}

/** The science image's zero point from the catalog, or null with too few stars measured (the next source is tried). */
export function refcatZeroPoint(science: Exposure, stars: ReferenceStar[]): RefcatZeroPoint | null {
  if (!science.wcs || !science.psf || stars.length === 0) return null;
  const measured = forcedPhotometryAtSky(
    science,
    science.psf,
    stars.map((s) => s.ra),
    stars.map((s) => s.dec),
  );
  const zps = measured.flatMap((m, i) =>
    m.flux > 0 && m.flux / m.fluxErr >= MIN_SNR ? [stars[i].mag + 2.5 * Math.log10(m.flux)] : [],
  );
  if (zps.length < MIN_STARS) return null;
  const centre = median(zps);
  const sigma = madSigma(zps, centre);
  const kept = sigma > 0 ? zps.filter((z) => Math.abs(z - centre) <= CLIP_SIGMA * sigma) : zps;
  return { zeroPoint: median(kept), nStars: kept.length, scatter: sigma };
}
