/**
 * What selection needs to know of each input: seeing, PSF shape and model quality, depth, sky,
 * astrometric rms and zero point, measured on the input characterized as the pipeline does
 * (shared/characterize: background subtracted, variance, masks, PSF model).
 */
import type { CharacterizeResult } from '../characterize/characterize.js';
import type { Exposure } from '../image/exposure.js';
import { UNUSABLE } from '../image/mask.js';
import { median } from '../util/stats.js';

/** Header cards holding an astrometric fit rms, arcsec, in order of preference. */
export const WCS_RMS_CARDS = ['WCSRMS', 'ASTRRMS'] as const;

export interface InputQuality {
  /** PSF FWHM at the centre, px and arcsec. */
  fwhmPx: number;
  fwhmArcsec: number;
  ellipticity: number;
  /** Stars against the PSF model: chi^2 per degree of freedom, and how many stars. */
  psfChi2: number;
  psfStars: number;
  /** Pixel scale at the centre, arcsec per pixel. */
  pixelScaleArcsec: number;
  /** Median sky level before subtraction, ADU per pixel. */
  skyAdu: number;
  /** Median variance of the usable pixels, ADU^2. */
  medianVariance: number;
  /** 5-sigma point-source depth in ADU (flux of a PSF at 5 sigma on sky); with a zero point, depthMag = ZP - 2.5 log10 of it. */
  depthAdu: number;
  /** Astrometric fit rms from the header (WCS_RMS_CARDS), arcsec; NaN when not given. */
  wcsRmsArcsec: number;
}

/** The quality of an input just characterized; `wcsRmsArcsec` from its header (NaN when absent). */
export function measureQuality(
  exposure: Exposure,
  ch: CharacterizeResult,
  wcsRmsArcsec: number,
): InputQuality {
  const cx = (exposure.width - 1) / 2;
  const cy = (exposure.height - 1) / 2;
  const pixelScaleArcsec = exposure.wcs
    ? exposure.wcs.jacobian(cx, cy).pixelScaleArcsec
    : Number.NaN;
  const { variance, mask } = exposure;
  const sample: number[] = [];
  const step = Math.max(1, Math.floor(Math.sqrt((exposure.width * exposure.height) / 40000)));
  for (let y = 0; y < exposure.height; y += step) {
    for (let x = 0; x < exposure.width; x += step) {
      const v = variance.get(x, y);
      if (!(mask.get(x, y) & UNUSABLE) && Number.isFinite(v) && v > 0) sample.push(v);
    }
  }
  const medianVariance = sample.length > 0 ? median(sample) : Number.NaN;
  let sumSq = 0;
  if (exposure.psf) for (const p of exposure.psf.stampAt(cx, cy, true).data) sumSq += p * p;
  return {
    fwhmPx: ch.psf.fwhmPx,
    fwhmArcsec: ch.psf.fwhmPx * pixelScaleArcsec,
    ellipticity: ch.psf.ellipticity,
    psfChi2: ch.psf.chi2PerDof,
    psfStars: ch.psf.nStars,
    pixelScaleArcsec,
    skyAdu: ch.background.level,
    medianVariance,
    depthAdu: sumSq > 0 ? 5 * Math.sqrt(medianVariance / sumSq) : Number.NaN,
    wcsRmsArcsec,
  };
}

/** AB magnitude of `adu` ADU at zero point `zp`. */
export function magnitude(adu: number, zp: number): number {
  return zp - 2.5 * Math.log10(adu);
}

/**
 * Variance of a PSF-weighted flux (the optimal point-source estimate sum(p x) / sum(p^2)) on noise of
 * per-pixel variance `variance` whose correlation is `lags` (covariance(dx, dy) = variance x[|dx|] y[|dy|];
 * null: white): variance * sum_{d} A(d) x[|dx|] y[|dy|] / (sum p^2)^2, A the PSF's autocorrelation.
 */
export function psfFluxVariance(
  variance: number,
  stamp: { size: number; data: ArrayLike<number> },
  lags: { x: readonly number[]; y: readonly number[] } | null,
): number {
  const { size, data } = stamp;
  let sumSq = 0;
  for (let k = 0; k < data.length; k++) sumSq += data[k] * data[k];
  if (!lags) return variance / sumSq;
  let total = 0;
  for (let dy = -(lags.y.length - 1); dy < lags.y.length; dy++) {
    for (let dx = -(lags.x.length - 1); dx < lags.x.length; dx++) {
      const rho = lags.x[Math.abs(dx)] * lags.y[Math.abs(dy)];
      if (rho === 0) continue;
      let a = 0;
      for (let y = Math.max(0, -dy); y < Math.min(size, size - dy); y++) {
        for (let x = Math.max(0, -dx); x < Math.min(size, size - dx); x++)
          a += data[y * size + x] * data[(y + dy) * size + x + dx];
      }
      total += a * rho;
    }
  }
  return (variance * total) / (sumSq * sumSq);
}
