/**
 * Photometric calibration against a reference catalog of the footprint (Rubin's
 * photoCal against the refcat, reduced to its core): PSF fluxes are measured on the science image
 * at the catalog's positions (forced photometry, so no matching can go wrong), and the zero point
 * is the clipped median of mag + 2.5 log10(flux) over stars measured at SNR >= MIN_SNR.
 *
 * The catalog is a CSV with a header row, or a FITS binary table, with columns `ra`, `dec`
 * (degrees) and a magnitude column for the band: `<band>_mag`, `mag_<band>`, `<band>` or, for a
 * one-band catalog, `mag` (AB). Names are case-insensitive.
 */
import { forcedPhotometryAtSky } from '../detect/forced.js';
import { readTableColumns, writeTableColumns } from '../fits/table.js';
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

/** Indices of the ra, dec and band magnitude columns among `names` (lower case); throws naming what is missing. */
function refcatColumns(names: string[], band: string): [number, number, number] {
  const b = band.toLowerCase();
  const index = (name: string): number => names.indexOf(name);
  const [ira, idec] = [index('ra'), index('dec')];
  const imag = [`${b}_mag`, `mag_${b}`, b, 'mag'].map(index).find((i) => i >= 0) ?? -1;
  if (ira < 0 || idec < 0) throw new Error('reference catalog needs ra and dec columns');
  if (imag < 0)
    throw new Error(
      `reference catalog has no magnitude column for band '${band}' (${b}_mag, mag_${b}, ${b} or mag)`,
    );
  return [ira, idec, imag];
}

/** The catalog's stars with a magnitude in `band`; throws Error naming the problem (the caller names the file). */
export function readRefcatCsv(text: string, band: string): ReferenceStar[] {
  const [head, ...rows] = text.trim().split(/\r?\n/);
  const cols = (head ?? '').split(',').map((c) => c.trim().toLowerCase());
  const [ira, idec, imag] = refcatColumns(cols, band);
  const stars: ReferenceStar[] = [];
  for (const row of rows) {
    const f = row.split(',');
    const star = { ra: Number(f[ira]), dec: Number(f[idec]), mag: Number(f[imag]) };
    if ([star.ra, star.dec, star.mag].every(Number.isFinite)) stars.push(star);
  }
  return stars;
}

/** The stars of a FITS binary-table catalog with a magnitude in `band`; throws naming the problem. */
export function readRefcatFits(bytes: Uint8Array, band: string): ReferenceStar[] {
  const table = readTableColumns(bytes);
  const names = table.names.map((n) => n.toLowerCase());
  const [ra, dec, mag] = refcatColumns(names, band).map((i) => table.column(table.names[i]));
  if (!ra || !dec || !mag)
    throw new Error('reference catalog: ra, dec and mag must be numeric scalar columns');
  const stars: ReferenceStar[] = [];
  for (let i = 0; i < table.rows; i++)
    if ([ra[i], dec[i], mag[i]].every(Number.isFinite))
      stars.push({ ra: ra[i], dec: dec[i], mag: mag[i] });
  return stars;
}

/** A catalog file's stars in `band`: a FITS binary table (by its SIMPLE card) or CSV. */
export function readRefcat(bytes: Uint8Array, band: string): ReferenceStar[] {
  const fits =
    Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(9, bytes.length)).toString('latin1') ===
    'SIMPLE  =';
  return fits
    ? readRefcatFits(bytes, band)
    : readRefcatCsv(Buffer.from(bytes).toString('utf8'), band);
}

/** Stars as a FITS binary table (ra, dec, `<band>_mag`), the form of a `<prefix>-refcats` tile. */
export function writeRefcatFits(stars: readonly ReferenceStar[], band: string): Uint8Array {
  return writeTableColumns(
    [
      { name: 'ra', values: stars.map((s) => s.ra), unit: 'deg' },
      { name: 'dec', values: stars.map((s) => s.dec), unit: 'deg' },
      { name: `${band}_mag`, values: stars.map((s) => s.mag), unit: 'mag(AB)' },
    ],
    'REFCAT',
  );
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
