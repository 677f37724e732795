/**
 * A prepared (characterized) image as a FITS file and back: IMAGE, MASK and VARIANCE as
 * writeExposure writes them (background already subtracted), then a PSF extension with the
 * characterized PSF model (shared/psf/persist.ts); the primary header carries APPREP = T and
 * PSFFWHM. A preload step prepares a template once and stores it; each science image then
 * starts from it without characterizing the template again.
 * @example
 *   await bucket.put('preload/g1/5/template.fits', writePreparedImage(prepareTemplate(cut)));
 *   const template = readPreparedImage(bytes, 'preload/g1/5/template.fits');
 */
import { FitsError, FitsHeader, readExposureFromHdus, readFitsNamed, writeExposure, type FitsHdu, type ReadExposureResult } from '../fits/index.js';
import type { Exposure } from '../image/exposure.js';
import { psfFromHdu, psfToHdu } from '../psf/persist.js';
import { isPrepared, type PreparedImage } from './preprocess.js';

/** The file of a prepared image; its exposure must carry its PSF model. */
export function writePreparedImage(prepared: PreparedImage): Uint8Array {
  const { exposure } = prepared;
  if (!exposure.psf) throw new TypeError('writePreparedImage: the exposure has no PSF model');
  const psf = psfToHdu(exposure.psf);
  const header = new FitsHeader();
  for (const [k, v] of psf.cards) header.set(k, v);
  return writeExposure(exposure, {
    extraHeader: [
      ['APPREP', true],
      ['PSFFWHM', prepared.psfFwhmPx],
    ],
    extraHdus: [{ name: 'PSF', data: psf.data, width: psf.width, height: psf.height, header }],
  });
}

function preparedFrom(hdus: FitsHdu[], read: ReadExposureResult, source: string): PreparedImage {
  const { exposure, header } = read;
  const psfHdu = hdus.find((h) => h.name === 'PSF');
  const fwhm = header.getNumber('PSFFWHM');
  if (!psfHdu || psfHdu.data instanceof BigInt64Array || fwhm === undefined) throw new FitsError(`${source}: a prepared image needs PSFFWHM and a PSF extension`);
  const psfPixels = psfHdu.data;
  try {
    exposure.psf = psfFromHdu((k) => psfHdu.header.get(k) ?? undefined, psfPixels, psfHdu.width, psfHdu.height);
  } catch (e) {
    throw new FitsError(`${source}: ${(e as Error).message}`);
  }
  return { kind: 'prepared', exposure, psfFwhmPx: fwhm, timingMs: 0 };
}

/** Reads a file written by writePreparedImage; throws FitsError('<source>: ...') for anything else. */
export function readPreparedImage(bytes: Uint8Array, source = 'prepared image'): PreparedImage {
  const image = readExposureOrPrepared(bytes, source);
  if (!isPrepared(image)) throw new FitsError(`${source}: not a prepared image (no APPREP = T)`);
  return image;
}

/** A prepared image when the file says so (APPREP = T), else the exposure as read, to be characterized. */
export function readExposureOrPrepared(bytes: Uint8Array, source = 'FITS file'): Exposure | PreparedImage {
  const hdus = readFitsNamed(bytes, source);
  const read = readExposureFromHdus(hdus, source);
  return read.header.get('APPREP') === true ? preparedFrom(hdus, read, source) : read.exposure;
}
