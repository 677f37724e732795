/**
 * A template as a FITS file that `ap diff --template` and nextVisit read as they read any image:
 * IMAGE, MASK (NO_DATA where nothing covers), VARIANCE (per pixel), then PSF (the CoaddPsf fit, as
 * shared/psf/persist.ts stores models), NOISECOR (the coadd's noise correlation, as prepared images
 * store it) and the INPUTS table. Primary cards: MAGZERO and PHOTZP (AB mag of 1 ADU), NINPUTS,
 * TMPLID, TMPLVER, TMPLGRID, TMPLCFG, PSFFWHM, DEPTH (5-sigma point source, AB mag), FILTER, MJD-AVG.
 */
import { FitsHeader, writeExposure, type FitsHduInput } from '../fits/index.js';
import { noiseCorrelationHdu } from '../pipeline/prepared-io.js';
import { psfToHdu } from '../psf/persist.js';
import type { TemplateBuild } from './build.js';
import { inputsTableHdu } from './inputs-table.js';

export function templateToFits(build: TemplateBuild): Uint8Array {
  const { exposure } = build;
  const extra: FitsHduInput[] = [];
  if (exposure.psf) {
    const psf = psfToHdu(exposure.psf);
    const header = new FitsHeader();
    for (const [k, v] of psf.cards) header.set(k, v);
    extra.push({ name: 'PSF', data: psf.data, width: psf.width, height: psf.height, header });
  }
  if (exposure.noiseCorrelation) extra.push(noiseCorrelationHdu(exposure.noiseCorrelation));
  const cx = exposure.width / 2;
  const cy = exposure.height / 2;
  const images = writeExposure(exposure, {
    extraHeader: [
      ['MAGZERO', build.zeroPoint],
      ['NINPUTS', build.nUsed],
      ['TMPLID', build.tmplId],
      ['TMPLVER', build.version],
      ['TMPLGRID', build.grid.name],
      ['TMPLCFG', build.configHash],
      ['PSFFWHM', exposure.psf ? exposure.psf.fwhmAt(cx, cy) : Number.NaN],
      ['DEPTH', build.depthMag],
      ['COVERAGE', build.coverage],
    ],
    extraHdus: extra,
  });
  const table = inputsTableHdu(build.inputs);
  const out = new Uint8Array(images.length + table.length);
  out.set(images);
  out.set(table, images.length);
  return out;
}
