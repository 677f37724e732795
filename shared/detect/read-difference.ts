/**
 * Reads a difference image as `ap diff` writes it (docs/contracts.md): IMAGE, MASK, VARIANCE
 * extensions with the science WCS, cards DIFFMETH / KERNSUM / PSFFWHM, and the difference PSF
 * in extension `PSF` (shared/diffim `readDiffPsf`); without that extension a circular
 * Gaussian of FWHM PSFFWHM stands in.
 */
import { readDiffPsf } from '../diffim/psf-grid.js';
import { FitsError, readFits } from '../fits/index.js';
import { readExposureWithHeader } from '../fits/exposure.js';
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { GaussianPsf } from './analytic-psf.js';

export interface DifferenceFile {
  exposure: Exposure;
  psf: Psf;
  /** Where the PSF came from: the PSF extension, or the PSFFWHM card. */
  psfSource: 'PSF extension' | 'PSFFWHM';
  /** DIFFMETH card ('AL', 'AL-CONVSCI', 'ZOGY'), '' when absent. */
  method: string;
  /** KERNSUM card (NaN when absent). */
  kernelSum: number;
}

/** Parses a difference FITS file; throws Error('<source>: <problem>') on anything unusable. */
export function readDifference(bytes: Uint8Array, source: string): DifferenceFile {
  const { exposure, header, varianceFromFile } = readExposureWithHeader(bytes, source);
  if (!varianceFromFile)
    throw new FitsError(
      `${source}: no VARIANCE extension (not a difference image written by 'ap diff')`,
    );
  const psfHdu = readFits(bytes).find((h) => h.name.toUpperCase() === 'PSF' && h.data !== null);
  let psf: Psf;
  let psfSource: DifferenceFile['psfSource'];
  if (psfHdu && psfHdu.data) {
    const pixels =
      psfHdu.data instanceof BigInt64Array ? Float64Array.from(psfHdu.data, Number) : psfHdu.data;
    try {
      psf = readDiffPsf(
        (k) => psfHdu.header.get(k) ?? undefined,
        pixels,
        psfHdu.width,
        psfHdu.height,
      );
    } catch (e) {
      throw new FitsError(`${source}: ${(e as Error).message}`);
    }
    psfSource = 'PSF extension';
  } else {
    const fwhm = header.getNumber('PSFFWHM');
    if (fwhm === undefined || !(fwhm > 0))
      throw new FitsError(`${source}: neither a PSF extension nor a positive PSFFWHM card`);
    psf = GaussianPsf.fromFwhm(fwhm);
    psfSource = 'PSFFWHM';
  }
  exposure.psf = psf;
  return {
    exposure,
    psf,
    psfSource,
    method: header.getString('DIFFMETH') ?? '',
    kernelSum: header.getNumber('KERNSUM') ?? Number.NaN,
  };
}
