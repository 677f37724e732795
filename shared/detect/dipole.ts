/**
 * Dipole fitting on a difference image, after Rubin's ip_diffim DipoleFitTask (Reiss &
 * Lupton 2016, LSST DMTN-007): the model is two PSFs of free positions and fluxes of opposite
 * sign, F+ P(x - x+) + F- P(x - x-), fitted by weighted least squares (psf-models.ts) over
 * the pixels of both lobes.
 * Positions are 0-based pixels in the exposure's parent frame.
 */
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { fitPsfModels, stampsBox, type Position } from './psf-models.js';

export interface DipoleFit {
  /** Lobe fluxes (positive >= 0 expected, negative <= 0), ADU, and 1-sigma errors. */
  posFlux: number;
  posFluxErr: number;
  negFlux: number;
  negFluxErr: number;
  xPos: number;
  yPos: number;
  xNeg: number;
  yNeg: number;
  /** 1-sigma errors of the lobe positions, px. */
  posPositionErr: number;
  negPositionErr: number;
  /** Reduced chi^2 of the fit. */
  chi2Reduced: number;
  ndata: number;
  converged: boolean;
}

/**
 * Fits a dipole starting from the two lobe positions (e.g. the positive and negative
 * peaks). Pixels with any of `excludeBits` are skipped. Each iteration moves a lobe by at
 * most 1 px; a lobe that drifts more than `maxShift` px from its start or a fit that turns
 * singular is reported unconverged.
 */
export function fitDipole(
  exposure: Exposure,
  psf: Psf,
  pos: Position,
  neg: Position,
  excludeBits: number,
  maxShift = 3,
  iterations = 12,
): DipoleFit {
  const box = stampsBox(exposure, psf, [pos, neg]);
  const fit = fitPsfModels(exposure, psf, [pos, neg], box, excludeBits, maxShift, iterations);
  const [posFlux, negFlux] = fit.fluxes;
  return {
    posFlux,
    posFluxErr: fit.fluxErrs[0],
    negFlux,
    negFluxErr: fit.fluxErrs[1],
    xPos: fit.positions[0].x,
    yPos: fit.positions[0].y,
    xNeg: fit.positions[1].x,
    yNeg: fit.positions[1].y,
    posPositionErr: fit.positionErrs[0],
    negPositionErr: fit.positionErrs[1],
    chi2Reduced: fit.ndata > 6 ? fit.chi2 / (fit.ndata - 6) : Number.NaN,
    ndata: fit.ndata,
    converged: fit.converged && posFlux > 0 && negFlux < 0,
  };
}
