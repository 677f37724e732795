/**
 * DiaObject summary features per band, as Rubin's ap_association DiaObject calculation plugins
 * compute them (lsst.meas.base.diaCalculationPlugins): inverse-variance weighted means, sample
 * sigma, chi2 about the weighted mean, median absolute deviation, bias-corrected skewness,
 * min/max, largest time-ordered slope, mean error, weighted linear fit of flux against time,
 * Stetson J (Stetson 1996, PASP 108, 851) and linearly interpolated percentiles 5..95.
 * Values that cannot be computed (too few points) are null.
 */
import type { BandFeature } from '../apdb/types.js';

/** One flux measurement of a light curve. */
export interface FluxPoint {
  flux: number | null;
  fluxErr: number | null;
  mjd: number;
}

export type PsfFeatures = Record<BandFeature, number | null> & { psfFluxNdata: number };

const isNum = (v: number | null): v is number => v !== null && Number.isFinite(v);
const orNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

/** Inverse-variance weighted mean, its standard error and the number of points used. */
export function weightedMean(points: readonly FluxPoint[]): {
  mean: number | null;
  meanErr: number | null;
  ndata: number;
} {
  let sumW = 0;
  let sumWF = 0;
  let ndata = 0;
  for (const p of points) {
    if (!isNum(p.flux) || !isNum(p.fluxErr)) continue;
    const w = 1 / (p.fluxErr * p.fluxErr);
    sumW += w;
    sumWF += w * p.flux;
    ndata++;
  }
  if (!(sumW > 0) || !Number.isFinite(sumW)) return { mean: null, meanErr: null, ndata };
  return { mean: sumWF / sumW, meanErr: Math.sqrt(1 / sumW), ndata };
}

/** Sample standard deviation (N - 1), null for fewer than 2 values. */
export function sampleSigma(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}

/** Percentile q (0..100) with linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: readonly number[], q: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  const pos = (q / 100) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Median absolute deviation about the median (unscaled, as astropy's median_absolute_deviation). */
export function medianAbsoluteDeviation(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const median = percentile(
    [...values].sort((a, b) => a - b),
    50,
  ) as number;
  return percentile(
    values.map((v) => Math.abs(v - median)).sort((a, b) => a - b),
    50,
  );
}

/** Adjusted Fisher-Pearson skewness G1 (pandas' Series.skew): null for n < 3, 0 for constant data. */
export function skewness(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 3) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  let m2 = 0;
  let m3 = 0;
  for (const v of values) {
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  if (m2 === 0) return 0;
  return ((Math.sqrt(n * (n - 1)) / (n - 2)) * m3) / m2 ** 1.5;
}

/** Largest (f[k+1] - f[k]) / (t[k+1] - t[k]) over the time-ordered points; null for fewer than 2. */
export function maxSlope(points: readonly FluxPoint[]): number | null {
  const pts = points
    .filter((p) => isNum(p.flux) && Number.isFinite(p.mjd))
    .sort((a, b) => a.mjd - b.mjd);
  if (pts.length < 2) return null;
  let best = -Infinity;
  for (let k = 1; k < pts.length; k++) {
    best = Math.max(
      best,
      ((pts[k].flux as number) - (pts[k - 1].flux as number)) / (pts[k].mjd - pts[k - 1].mjd),
    );
  }
  return orNull(best);
}

/**
 * Weighted least-squares line flux = slope * mjd + intercept (weights 1/err^2), solved about the
 * weighted mean time for accuracy; null for fewer than 2 points.
 */
export function linearFit(points: readonly FluxPoint[]): {
  slope: number | null;
  intercept: number | null;
} {
  const pts = points.filter((p) => isNum(p.flux) && isNum(p.fluxErr) && Number.isFinite(p.mjd));
  if (pts.length < 2) return { slope: null, intercept: null };
  let sumW = 0;
  let sumWT = 0;
  let sumWF = 0;
  for (const p of pts) {
    const w = 1 / (p.fluxErr as number) ** 2;
    sumW += w;
    sumWT += w * p.mjd;
    sumWF += w * (p.flux as number);
  }
  const tMean = sumWT / sumW;
  const fMean = sumWF / sumW;
  let stt = 0;
  let stf = 0;
  for (const p of pts) {
    const w = 1 / (p.fluxErr as number) ** 2;
    const dt = p.mjd - tMean;
    stt += w * dt * dt;
    stf += w * dt * ((p.flux as number) - fMean);
  }
  if (!(stt > 0)) return { slope: null, intercept: null };
  const slope = stf / stt;
  return { slope, intercept: fMean - slope * tMean };
}

/** Stetson's outlier-resistant mean: iteratively reweighted by 1 / (1 + (|chi| / alpha)^beta). */
export function stetsonMean(
  values: readonly number[],
  errors: readonly number[],
  start: number,
  alpha = 2,
  beta = 2,
  nIter = 20,
  tol = 1e-6,
): number {
  const n = values.length;
  const nFactor = Math.sqrt(n / (n - 1));
  let mean = start;
  for (let iter = 0; iter < nIter; iter++) {
    let sw = 0;
    let swv = 0;
    for (let k = 0; k < n; k++) {
      const chi = Math.abs((nFactor * (values[k] - mean)) / errors[k]);
      const w = 1 / (errors[k] * errors[k]) / (1 + (chi / alpha) ** beta);
      sw += w;
      swv += w * values[k];
    }
    const next = swv / sw;
    const diff = Math.abs(next - mean);
    mean = next;
    if (diff / mean < tol && diff < tol) break;
  }
  return mean;
}

/** Stetson's J variability index about the Stetson mean started at `start`; null for fewer than 2 points. */
export function stetsonJ(
  values: readonly number[],
  errors: readonly number[],
  start: number,
): number | null {
  const n = values.length;
  if (n < 2) return null;
  const mean = stetsonMean(values, errors, start);
  const nFactor = Math.sqrt(n / (n - 1));
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const delta = (nFactor * (values[k] - mean)) / errors[k];
    const p = delta * delta - 1;
    sum += Math.sign(p) * Math.sqrt(Math.abs(p));
  }
  return orNull(sum / n);
}

/**
 * All per-band features of one band's light curve.
 * @param psf     difference-image PSF fluxes of the DiaSources in this band, nJy
 * @param science science-image fluxes at the DiaSources, nJy
 * @param forced  forced difference-image fluxes of the DiaForcedSources in this band, nJy
 */
export function bandFeatures(
  psf: readonly FluxPoint[],
  science: readonly FluxPoint[],
  forced: readonly FluxPoint[],
): PsfFeatures {
  const mean = weightedMean(psf);
  const fluxes = psf.map((p) => p.flux).filter(isNum);
  const sorted = [...fluxes].sort((a, b) => a - b);
  const errors = psf.map((p) => p.fluxErr).filter(isNum);
  const both = psf.filter((p) => isNum(p.flux) && isNum(p.fluxErr));
  let chi2: number | null = null;
  if (mean.mean !== null) {
    chi2 = 0;
    for (const p of both) chi2 += (((p.flux as number) - mean.mean) / (p.fluxErr as number)) ** 2;
  }
  const fit = linearFit(psf);
  const sci = weightedMean(science);
  const fp = weightedMean(forced);
  return {
    psfFluxMean: mean.mean,
    psfFluxMeanErr: mean.meanErr,
    psfFluxNdata: mean.ndata,
    psfFluxSigma: sampleSigma(fluxes),
    fpFluxMean: fp.mean,
    fpFluxMeanErr: fp.meanErr,
    scienceFluxMean: sci.mean,
    scienceFluxMeanErr: sci.meanErr,
    scienceFluxSigma: sampleSigma(science.map((p) => p.flux).filter(isNum)),
    psfFluxMin: sorted.length ? sorted[0] : null,
    psfFluxMax: sorted.length ? sorted[sorted.length - 1] : null,
    psfFluxMaxSlope: maxSlope(psf),
    psfFluxErrMean: errors.length ? errors.reduce((a, b) => a + b, 0) / errors.length : null,
    psfFluxChi2: chi2,
    psfFluxMAD: medianAbsoluteDeviation(fluxes),
    psfFluxSkew: skewness(fluxes),
    psfFluxPercentile05: percentile(sorted, 5),
    psfFluxPercentile25: percentile(sorted, 25),
    psfFluxPercentile50: percentile(sorted, 50),
    psfFluxPercentile75: percentile(sorted, 75),
    psfFluxPercentile95: percentile(sorted, 95),
    psfFluxStetsonJ:
      mean.mean === null
        ? null
        : stetsonJ(
            both.map((p) => p.flux as number),
            both.map((p) => p.fluxErr as number),
            mean.mean,
          ),
    psfFluxLinearSlope: fit.slope,
    psfFluxLinearIntercept: fit.intercept,
  };
}
