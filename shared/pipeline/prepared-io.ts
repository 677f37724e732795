/**
 * A prepared (characterized) image as a FITS file and back: IMAGE, MASK and VARIANCE as
 * writeExposure writes them (background already subtracted), then a PSF extension with the
 * characterized PSF model (shared/psf/persist.ts) and, when its noise is correlated, a NOISECOR
 * extension with the noise model (shared/image/exposure.ts NoiseCorrelation: one row per cell,
 * the x lags then the y lags, NCLAGS each, zero-padded; cards NCX0, NCY0, NCCELL, NCNX, NCNY);
 * and a STARS extension with the image's stars for the registration (shared/astrom findSources:
 * one row per star, the columns of STAR_COLUMNS, float64; absent when it has none), found when the
 * file is written so that each science image does not find them again (the same stars: the
 * planes are written as they are in memory);
 * the primary header carries APPREP = T and PSFFWHM. A preload step prepares a template once and stores it; each science image then
 * starts from it without characterizing the template again.
 * @example
 *   await bucket.put('preload/g1/5/template.fits', writePreparedImage(prepareTemplate(cut)));
 *   const template = readPreparedImage(bytes, 'preload/g1/5/template.fits');
 */
import {
  FitsError,
  FitsHeader,
  readExposureFromHdus,
  readFitsNamed,
  writeExposure,
  type FitsHdu,
  type FitsHduInput,
  type ReadExposureResult,
} from '../fits/index.js';
import type { AstromSource } from '../astrom/register.js';
import { findSources } from '../astrom/sources.js';
import type { Exposure, NoiseCorrelation } from '../image/exposure.js';
import { psfFromHdu, psfToHdu } from '../psf/persist.js';
import { isPrepared, type PreparedImage } from './preprocess.js';

/** The file of a prepared image; its exposure must carry its PSF model. */
export function writePreparedImage(prepared: PreparedImage): Uint8Array {
  const { exposure } = prepared;
  if (!exposure.psf) throw new TypeError('writePreparedImage: the exposure has no PSF model');
  const psf = psfToHdu(exposure.psf);
  const header = new FitsHeader();
  for (const [k, v] of psf.cards) header.set(k, v);
  const noise = exposure.noiseCorrelation ? [noiseCorrelationHdu(exposure.noiseCorrelation)] : [];
  const stars = prepared.stars ?? findSources(exposure);
  return writeExposure(exposure, {
    extraHeader: [
      ['APPREP', true],
      ['PSFFWHM', prepared.psfFwhmPx],
    ],
    extraHdus: [
      { name: 'PSF', data: psf.data, width: psf.width, height: psf.height, header },
      ...noise,
      ...(stars.length > 0 ? [starsHdu(stars)] : []),
    ],
  });
}

/** The STARS extension's columns, in order. */
const STAR_COLUMNS = ['x', 'y', 'flux', 'sigmaPx'] as const;

/** The STARS extension of a star list (layout in this file's header). */
function starsHdu(stars: readonly AstromSource[]): FitsHduInput {
  const n = STAR_COLUMNS.length;
  const data = new Float64Array(stars.length * n);
  stars.forEach((s, i) => STAR_COLUMNS.forEach((c, k) => (data[i * n + k] = s[c])));
  const header = new FitsHeader();
  header.set('STARCOLS', STAR_COLUMNS.join(','), 'columns of each row');
  return { name: 'STARS', data, width: n, height: stars.length, header };
}

function starsOf(hdu: FitsHdu, source: string): AstromSource[] {
  const n = STAR_COLUMNS.length;
  const data = hdu.data;
  if (
    !(data instanceof Float64Array) ||
    hdu.width !== n ||
    hdu.header.get('STARCOLS') !== STAR_COLUMNS.join(',')
  )
    throw new FitsError(
      `${source}: STARS extension is not ${n} float64 columns ${STAR_COLUMNS.join(',')}`,
    );
  return Array.from({ length: hdu.height }, (_v, i) => ({
    x: data[i * n],
    y: data[i * n + 1],
    flux: data[i * n + 2],
    sigmaPx: data[i * n + 3],
  }));
}

/** The NOISECOR extension of a noise model (layout in this file's header). */
export function noiseCorrelationHdu(model: NoiseCorrelation): FitsHduInput {
  const lags = Math.max(...model.cells.flatMap((c) => [c.x.length, c.y.length]));
  const data = new Float64Array(model.cells.length * 2 * lags);
  model.cells.forEach((c, i) => {
    data.set(c.x, i * 2 * lags);
    data.set(c.y, i * 2 * lags + lags);
  });
  const header = new FitsHeader();
  for (const [k, v] of [
    ['NCX0', model.x0],
    ['NCY0', model.y0],
    ['NCCELL', model.cellSize],
    ['NCNX', model.nx],
    ['NCNY', model.ny],
    ['NCLAGS', lags],
  ] as const)
    header.set(k, v);
  return { name: 'NOISECOR', data, width: 2 * lags, height: model.cells.length, header };
}

function noiseCorrelationOf(hdu: FitsHdu, source: string): NoiseCorrelation {
  const num = (k: string): number => {
    const v = hdu.header.getNumber(k);
    if (v === undefined) throw new FitsError(`${source}: NOISECOR extension lacks ${k}`);
    return v;
  };
  const lags = num('NCLAGS');
  const nx = num('NCNX');
  const ny = num('NCNY');
  const data = hdu.data;
  if (!data || data instanceof BigInt64Array || hdu.width !== 2 * lags || hdu.height !== nx * ny) {
    throw new FitsError(
      `${source}: NOISECOR extension is ${hdu.width}x${hdu.height}, expected ${2 * lags}x${nx * ny}`,
    );
  }
  const row = (i: number, from: number) =>
    Array.from(data.subarray(i * 2 * lags + from, i * 2 * lags + from + lags) as ArrayLike<number>);
  const cells = Array.from({ length: nx * ny }, (_v, i) => ({ x: row(i, 0), y: row(i, lags) }));
  return { x0: num('NCX0'), y0: num('NCY0'), cellSize: num('NCCELL'), nx, ny, cells };
}

/** The prepared image of a file already read (its HDUs and exposure) that says APPREP = T. */
export function preparedFrom(
  hdus: FitsHdu[],
  read: ReadExposureResult,
  source: string,
): PreparedImage {
  const { exposure, header } = read;
  const psfHdu = hdus.find((h) => h.name === 'PSF');
  const fwhm = header.getNumber('PSFFWHM');
  if (!psfHdu || psfHdu.data instanceof BigInt64Array || fwhm === undefined)
    throw new FitsError(`${source}: a prepared image needs PSFFWHM and a PSF extension`);
  const psfPixels = psfHdu.data;
  try {
    exposure.psf = psfFromHdu(
      (k) => psfHdu.header.get(k) ?? undefined,
      psfPixels,
      psfHdu.width,
      psfHdu.height,
    );
  } catch (e) {
    throw new FitsError(`${source}: ${(e as Error).message}`);
  }
  const noise = hdus.find((h) => h.name === 'NOISECOR');
  if (noise) exposure.noiseCorrelation = noiseCorrelationOf(noise, source);
  const stars = hdus.find((h) => h.name === 'STARS');
  // Without the extension (no star, or a file of older code) the registration finds them.
  return {
    kind: 'prepared',
    exposure,
    psfFwhmPx: fwhm,
    timingMs: 0,
    ...(stars ? { stars: starsOf(stars, source) } : {}),
  };
}

/** Reads a file written by writePreparedImage; throws FitsError('<source>: ...') for anything else. */
export function readPreparedImage(bytes: Uint8Array, source = 'prepared image'): PreparedImage {
  const image = readExposureOrPrepared(bytes, source);
  if (!isPrepared(image)) throw new FitsError(`${source}: not a prepared image (no APPREP = T)`);
  return image;
}

/** A prepared image when the file says so (APPREP = T), else the exposure as read, to be characterized. */
export function readExposureOrPrepared(
  bytes: Uint8Array,
  source = 'FITS file',
): Exposure | PreparedImage {
  const hdus = readFitsNamed(bytes, source);
  const read = readExposureFromHdus(hdus, source);
  return read.header.get('APPREP') === true ? preparedFrom(hdus, read, source) : read.exposure;
}
