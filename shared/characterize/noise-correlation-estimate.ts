/**
 * The noise correlation of an image that was resampled before it reached us (e.g. by its data provider),
 * measured on its blank sky: the autocovariance of IMAGE / sqrt(VARIANCE) at lags 0 .. L along x and y over
 * pairs of unmasked, source-free pixels (the autocorrelation estimator of Bartlett 1946, with his variance of
 * it), stored as the separable model of `Exposure.noiseCorrelation` (covariance = VARIANCE x x[|dx|] x y[|dy|]).
 * White noise has no lag. Faint sources below the mask correlate blank sky too, by a few thousandths to a few
 * hundredths, which a large image measures as significant; but their light's lags are the PSF's autocorrelation
 * (at least as wide: a(d) = exp(-d^2 / 4 sigma^2) for a Gaussian PSF), positive and slowly falling. So a
 * significant lag 1 also needs the resampling's signature before a model is set: a negative lag (Lanczos, sinc)
 * or a lag 2 below a(2) / a(1) times lag 1 (bilinear, smoothing kernels narrower than the PSF).
 * The model's lags have the light's share A psi(d) + B d + C taken out, fitted beyond the resampling's reach: psi the
 * PSF model's own autocorrelation (a low-beta Moffat's wings and halo included: a Gaussian a(d) fitted there
 * over-subtracted such light, leaving lags 2-4 at -0.1 to -0.2), B d + C what is wider than the PSF (a sky the
 * background left, bright stars' halos). Lags whose spectrum goes below zero (beyond their errors) are no noise's
 * autocovariance (light the fit could not part from the noise): the raw lags, light included, are
 * used then (more correlation: a conservative PSF-scale variance), and when those are none either no model is set
 * (white), rather than a decorrelation filter blown up where that spectrum is floored.
 */
import type { Exposure, NoiseCorrelation } from '../image/exposure.js';
import { UNUSABLE, MaskPlane } from '../image/mask.js';
import { convolveSeparable, dilateSquare, gaussianTaps } from './filters.js';
import { madSigma } from '../util/stats.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';
import { invertOrNull, matVec } from '../util/linalg.js';
import type { Psf } from '../psf/types.js';

export interface NoiseCorrelationEstimateConfig {
  /** Largest lag measured, px. */
  maxLag: number;
  /**
   * Lags, px, where a Lanczos-3 resampling leaves ~nothing (its lag 4 is -0.004 averaged over phases, lag 3 0.03)
   * and what correlates blank sky is light below the source mask: its covariance there, fitted as
   * A psi(d) + B d + C (psi the PSF's autocorrelation, `LightShape`), is taken from every lag of the model when
   * its share of some lag 0 .. maxLag is `lightSignificance` of that share's error from zero.
   * On the independent pairs' deep crowded templates the light was 1-12 times the noise's variance at lag 0 and
   * fell ~linearly over lags 2-12 (wider than the PSF); on their sciences 0.05-0.2 times. Fitted at lags 4-10, the
   * corrected lags 1-4 were within 0.017 (sciences) and 0.029 (templates) rms of the truth, Lanczos-3's within
   * 0.015; with a Gaussian psi 0.033 and 0.20, at lags 5-10 0.040 and 0.075, at lags 3-10 Lanczos-3's 0.09.
   */
  lightFitLags: [number, number];
  lightSignificance: number;
  /**
   * Sources: the image smoothed by the PSF above this many sigma of the smoothed image... High enough that noise
   * alone almost never reaches it: masking the noise's own upward fluctuations biases every lag negative
   * (at 3 sigma: lag 1 -0.004, 7 sigma on white 2048^2 noise), which would pass for resampling.
   */
  sourceThresholdSigma: number;
  /** ... grown by this many FWHM. */
  growFwhm: number;
  /** A model is set only when some lag-1 correlation is this many of its errors from zero... */
  minSignificance: number;
  /** ... and, along x or y, a lag negative by this many errors or lag 2 this many errors below the light's a(2) / a(1) x lag 1. */
  signatureSignificance: number;
  /**
   * Largest region measured, px: a larger image is measured on its central crop of this size (the lags'
   * errors, ~1/sqrt(pixels), are then ~1.4e-3 on the blank fraction of a crowded field, ample for the tests above,
   * which ask 5 and 3 errors; a whole 4096^2 image took 1.5 CPU-s, a 2^21 crop ~0.25).
   */
  maxPixels: number;
}

export const DEFAULT_NOISE_CORRELATION_ESTIMATE_CONFIG: NoiseCorrelationEstimateConfig = {
  maxLag: 4,
  lightFitLags: [4, 10],
  lightSignificance: 3,
  sourceThresholdSigma: 5,
  growFwhm: 2,
  minSignificance: 5,
  signatureSignificance: 3,
  maxPixels: 2 ** 20,
};

export interface NoiseCorrelationEstimate {
  /** Autocovariance of IMAGE / sqrt(VARIANCE) at lags 0 .. maxLag along x (rows) and y (columns). */
  covX: number[];
  covY: number[];
  /** One-sigma errors of the lag correlations cov[d] / cov[0], d >= 1 (Bartlett's formula). */
  errX: number[];
  errY: number[];
  /** Blank-sky pixels used, and their fraction of the image. */
  pixels: number;
  blankFraction: number;
  /** max(|rho_x[1]| / err, |rho_y[1]| / err). */
  significance: number;
  /** The lags look like resampling, not light (`signatureSignificance`). */
  resampled: boolean;
  /** The model to set (lags x[d] = covX[d] / sqrt(cov0), likewise y), or null: white within the errors. */
  model: NoiseCorrelation | null;
}

/** Pixels the smoothed image's scatter is measured on, at most (its MAD then to ~0.2 %). */
const SCATTER_SAMPLE = 2 ** 18;

/**
 * 1 where a pixel is not blank sky: masked (UNUSABLE, DETECTED), no usable variance, or within `growFwhm`
 * FWHM of where the PSF-smoothed normalised image exceeds (sources are positive) `sourceThresholdSigma` of its own scatter.
 * `z`, the exposure's normalised image when the caller has it, has its NaN pixels (excluded) set to 0.
 */
export function blankSkyExclusion(
  exposure: Exposure,
  fwhmPx: number,
  cfg: NoiseCorrelationEstimateConfig = DEFAULT_NOISE_CORRELATION_ESTIMATE_CONFIG,
  z: Float32Array = normalised(exposure),
): Uint8Array {
  const w = exposure.width,
    h = exposure.height;
  const excluded = new Uint8Array(w * h);
  for (let i = 0; i < z.length; i++) {
    if (Number.isNaN(z[i])) {
      excluded[i] = 1;
      z[i] = 0;
    }
  }
  const smooth = new Float32Array(w * h);
  convolveSeparable(z, w, h, gaussianTaps(Math.max(0.5, fwhmPx / FWHM_PER_SIGMA)), smooth);
  // The smoothed image's scatter from a regular subsample of at most ~SCATTER_SAMPLE pixels.
  const step = Math.max(1, Math.ceil(Math.sqrt((w * h) / SCATTER_SAMPLE)));
  const sample = new Float32Array(Math.ceil(w / step) * Math.ceil(h / step));
  let n = 0;
  for (let y = 0; y < h; y += step)
    for (let x = 0; x < w; x += step) if (!excluded[y * w + x]) sample[n++] = smooth[y * w + x];
  const sigma = madSigma(sample.subarray(0, n));
  const sources = new Uint8Array(w * h);
  for (let i = 0; i < smooth.length; i++)
    if (!excluded[i] && smooth[i] > cfg.sourceThresholdSigma * sigma) sources[i] = 1;
  dilateSquare(sources, w, h, Math.ceil(cfg.growFwhm * fwhmPx));
  for (let i = 0; i < sources.length; i++) excluded[i] |= sources[i];
  return excluded;
}

/**
 * The noise correlation measured on the pixels where `excluded` is 0 (row-major over the exposure);
 * `z` as blankSkyExclusion's (its pixels with no usable value are excluded or NaN); `light` the PSF's
 * autocorrelation (lightShape; default a Gaussian of `fwhmPx`'s).
 */
export function estimateNoiseCorrelation(
  exposure: Exposure,
  excluded: Uint8Array,
  fwhmPx: number,
  cfg: NoiseCorrelationEstimateConfig = DEFAULT_NOISE_CORRELATION_ESTIMATE_CONFIG,
  z: Float32Array = normalised(exposure),
  light: LightShape = gaussianLightShape(fwhmPx, cfg.lightFitLags[1]),
): NoiseCorrelationEstimate {
  const w = exposure.width,
    h = exposure.height,
    L = cfg.maxLag;
  // Masked pixels and pixels without a usable variance are never blank sky, whatever `excluded` says.
  const skip = new Uint8Array(excluded.length);
  let sum = 0,
    n = 0;
  for (let i = 0; i < z.length; i++) {
    if (excluded[i] || Number.isNaN(z[i])) {
      skip[i] = 1;
      continue;
    }
    sum += z[i];
    n++;
  }
  const mean = n ? sum / n : 0;
  const covAlong = (dx: number, dy: number): number => {
    let s = 0,
      pairs = 0;
    for (let y = 0; y + dy < h; y++) {
      for (let x = 0; x + dx < w; x++) {
        const i = y * w + x,
          j = i + dy * w + dx;
        if (skip[i] || skip[j]) continue;
        s += (z[i] - mean) * (z[j] - mean);
        pairs++;
      }
    }
    return pairs ? s / pairs : 0;
  };
  const { covX, covY } = lagCovariances(z, skip, mean, w, h, L);
  // Bartlett: var(rho_d) = (1 + 2 sum_{k<d} rho_k^2) / N for a series correlated up to lag d - 1.
  const errors = (cov: number[]) => {
    const rho = cov.map((c) => c / cov[0]);
    return rho.map((_, d) =>
      Math.sqrt((1 + 2 * rho.slice(1, d).reduce((s, r) => s + r * r, 0)) / Math.max(1, n)),
    );
  };
  const errX = errors(covX),
    errY = errors(covY);
  const significance =
    n > 0
      ? Math.max(Math.abs(covX[1] / covX[0]) / errX[1], Math.abs(covY[1] / covY[0]) / errY[1])
      : 0;
  // Light's lag 2 over lag 1: at least a(2) / a(1) of a Gaussian PSF of this FWHM.
  const s = fwhmPx / FWHM_PER_SIGMA,
    lightFall = Math.exp(-3 / (4 * s * s)),
    k = cfg.signatureSignificance;
  const notLight = (cov: number[], err: number[]) =>
    cov.some((c, d) => d > 0 && c / cov[0] < -k * err[d]) ||
    (L >= 2 &&
      (cov[2] - lightFall * cov[1]) / cov[0] < -k * Math.hypot(err[2], lightFall * err[1]));
  const resampled = n > 0 && (notLight(covX, errX) || notLight(covY, errY));
  // The model's lags: each minus the light's share A psi(d) + B d + C (fitLight), fitted where resampling
  // leaves no lag (lightFitLags). In count data with a gain (a CCD's pixel noise, white but for resampling, whose
  // reach is a few px) what is wider than the PSF is light; in a calibrated product without one it may be noise
  // (the NIRCam mosaics, MJy/sr: a plateau of ~0.15 of lag 0 over lags 2-10; taken out, their difference had 75
  // DIASources at |SNR| >= 6 where the raw lags give 1), taken out only with the PSF-shaped light.
  const wideIsLight = exposure.info.gain > 0;
  const noiseLags = (cov: number[], err: number[], dx: number, dy: number): number[] | null => {
    const fit = Array.from({ length: cfg.lightFitLags[1] - cfg.lightFitLags[0] + 1 }, (_, k) => {
      const d = cfg.lightFitLags[0] + k;
      return { d, c: covAlong(d * dx, d * dy) };
    });
    const shape = dx ? light.x : light.y;
    const light_ = fitLight(fit, shape, err[L] * cov[0], cfg.lightSignificance, wideIsLight, L);
    const c = cov.map((v, d) => v - (light_ ? light_(d) : 0));
    // Lags that are no noise spectrum (light the fit could not part from the noise): the raw lags,
    // light included (more correlation, a conservative PSF-scale variance), else null.
    const tolerance = cfg.signatureSignificance * err[L] * cov[0] * Math.sqrt(1 + 4 * L);
    if (c[0] > 0 && isAutocovariance(c, tolerance)) return c.map((v) => v / Math.sqrt(c[0]));
    return isAutocovariance(cov, tolerance) ? cov.map((v) => v / Math.sqrt(cov[0])) : null;
  };
  // The light fit's 2 x 4 lags only where a model can be set.
  const modelled = significance >= cfg.minSignificance && resampled && covX[0] > 0;
  const lagsX = modelled && noiseLags(covX, errX, 1, 0),
    lagsY = modelled && noiseLags(covY, errY, 0, 1);
  const model: NoiseCorrelation | null =
    lagsX && lagsY
      ? {
          x0: exposure.image.x0,
          y0: exposure.image.y0,
          cellSize: Math.max(w, h),
          nx: 1,
          ny: 1,
          cells: [
            {
              x: lagsX,
              y: lagsY,
            },
          ],
        }
      : null;
  return {
    covX,
    covY,
    errX,
    errY,
    pixels: n,
    blankFraction: n / (w * h),
    significance,
    resampled,
    model,
  };
}

/** The light's lag shape along x and y: psi[d], d = 0 .. the last light-fit lag, psi[0] = 1. */
export interface LightShape {
  x: number[];
  y: number[];
}

/** A Gaussian PSF's autocorrelation, exp(-d^2 / 4 sigma^2), along both axes. */
export function gaussianLightShape(fwhmPx: number, maxLag: number): LightShape {
  const s = fwhmPx / FWHM_PER_SIGMA;
  const psi = Array.from({ length: maxLag + 1 }, (_, d) => Math.exp(-(d * d) / (4 * s * s)));
  return { x: psi, y: psi.slice() };
}

/**
 * The autocorrelation of `psf`'s stamp at (x, y) along each axis, normalised at lag 0: the lag shape of
 * unresolved faint sources' light, wings included (a Moffat of low beta with a halo has lags 4-10 far above
 * a Gaussian's of its FWHM).
 */
export function psfLightShape(psf: Psf, x: number, y: number, maxLag: number): LightShape {
  const { size: n, data: p } = psf.stampAt(x, y, true);
  const along = (sx: number, sy: number): number[] => {
    const lags = Array.from({ length: maxLag + 1 }, (_, d) => {
      let s = 0;
      for (let v = 0; v + d * sy < n; v++)
        for (let u = 0; u + d * sx < n; u++) s += p[v * n + u] * p[(v + d * sy) * n + u + d * sx];
      return s;
    });
    return lags.map((c) => (lags[0] > 0 ? c / lags[0] : 0));
  };
  return { x: along(1, 0), y: along(0, 1) };
}

/**
 * The light's share of lags 0 .. maxLag, fitted as A psi(d) + B d + C to the covariances `fit` (lags beyond
 * resampling's reach, each with error `sigma`): psi the PSF's autocorrelation (faint sources below the mask),
 * B d + C what is wider than the PSF (a sky the background left, bright stars' halos: its structure function
 * grows about linearly over these lags). Null when the fit is degenerate, or when A is not `k` of its error above
 * zero and either `wideIsLight` is false or no lag 0 .. maxLag has a share `k` of its error from zero.
 */
function fitLight(
  fit: { d: number; c: number }[],
  psi: readonly number[],
  sigma: number,
  k: number,
  wideIsLight: boolean,
  maxLag: number,
): ((d: number) => number) | null {
  const basis = (d: number): number[] => [psi[d] ?? 0, d, 1];
  const normal = new Float64Array(9),
    rhs = new Float64Array(3);
  for (const { d, c } of fit) {
    const b = basis(d);
    for (let i = 0; i < 3; i++) {
      rhs[i] += b[i] * c;
      for (let j = 0; j < 3; j++) normal[i * 3 + j] += b[i] * b[j];
    }
  }
  const inverse = invertOrNull(normal);
  if (!inverse) return null;
  const p = matVec(inverse, rhs);
  const share = (d: number): number => basis(d).reduce((s, v, i) => s + v * p[i], 0);
  const error = (d: number): number => {
    const b = basis(d),
      ib = matVec(inverse, b);
    return (
      sigma *
      Math.sqrt(
        Math.max(
          0,
          b.reduce((s, v, i) => s + v * ib[i], 0),
        ),
      )
    );
  };
  if (p[0] > k * sigma * Math.sqrt(inverse[0])) return share;
  if (!wideIsLight) return null;
  for (let d = 0; d <= maxLag; d++) if (Math.abs(share(d)) > k * error(d)) return share;
  return null;
}

/**
 * covAlong(d, 0) and covAlong(0, d) for d = 0 .. L in one pass over the pixels: each lag's sum takes its
 * pairs in the same order as its own pass would, so the sums are the same to the bit.
 */
function lagCovariances(
  z: Float32Array,
  skip: Uint8Array,
  mean: number,
  w: number,
  h: number,
  L: number,
): { covX: number[]; covY: number[] } {
  const sx = new Float64Array(L + 1),
    sy = new Float64Array(L + 1),
    px = new Float64Array(L + 1),
    py = new Float64Array(L + 1);
  for (let y = 0; y < h; y++) {
    const below = Math.min(L, h - 1 - y);
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (skip[i]) continue;
      const a = z[i] - mean;
      sx[0] += a * a;
      px[0]++;
      const right = Math.min(L, w - 1 - x);
      for (let d = 1; d <= right; d++) {
        if (skip[i + d]) continue;
        sx[d] += a * (z[i + d] - mean);
        px[d]++;
      }
      for (let d = 1; d <= below; d++) {
        const j = i + d * w;
        if (skip[j]) continue;
        sy[d] += a * (z[j] - mean);
        py[d]++;
      }
    }
  }
  const covX = Array.from(sx, (s, d) => (px[d] ? s / px[d] : 0));
  const covY = Array.from(sy, (s, d) => (py[d] ? s / py[d] : 0));
  covY[0] = covX[0];
  return { covX, covY };
}

/**
 * Measures an input's noise correlation on its blank sky and sets `exposure.noiseCorrelation` when it is
 * significant; a model already set (by our own warp) is kept. Needs the background subtracted. `light`: the
 * lag shape of its faint light (default the exposure's PSF's at its centre, else a Gaussian of `fwhmPx`).
 */
export function characterizeNoiseCorrelation(
  exposure: Exposure,
  fwhmPx: number,
  cfg: NoiseCorrelationEstimateConfig = DEFAULT_NOISE_CORRELATION_ESTIMATE_CONFIG,
  light: LightShape = exposure.psf
    ? psfLightShape(exposure.psf, exposure.width / 2, exposure.height / 2, cfg.lightFitLags[1])
    : gaussianLightShape(fwhmPx, cfg.lightFitLags[1]),
): NoiseCorrelationEstimate {
  const { width: w, height: h } = exposure;
  const scale = Math.min(1, Math.sqrt(cfg.maxPixels / (w * h)));
  const cw = Math.round(w * scale),
    ch = Math.round(h * scale);
  const region =
    scale < 1
      ? exposure.view({ x: (w - cw) >> 1, y: (h - ch) >> 1, width: cw, height: ch })
      : exposure;
  const z = normalised(region);
  const estimate = estimateNoiseCorrelation(
    region,
    blankSkyExclusion(region, fwhmPx, cfg, z),
    fwhmPx,
    cfg,
    z,
    light,
  );
  // One model for the whole image, whatever region it was measured on.
  const model = estimate.model && {
    ...estimate.model,
    x0: exposure.image.x0,
    y0: exposure.image.y0,
    cellSize: Math.max(w, h),
  };
  if (!exposure.noiseCorrelation && model) exposure.noiseCorrelation = model;
  return { ...estimate, model };
}

/** Frequencies per axis at which a model's spectrum is checked (lags up to maxLag vary slower than this). */
const SPECTRUM_CHECKS = 64;

/**
 * Whether symmetric lags c[0..L] are an autocovariance (Bochner) within their errors: c[0] + 2 sum_d c[d] cos(2 pi f d)
 * >= -tolerance at every frequency f (a bilinear half-pixel shift's is 0 at f = 1/2). Light over-subtracted with a too-narrow shape (a Moffat-winged deep template: 0.22, -0.07, -0.13 of
 * lag 0) is not, and a decorrelation filter sqrt(1 / N(k)) then multiplied the difference's noise by ~30.
 */
function isAutocovariance(c: readonly number[], tolerance: number): boolean {
  for (let i = 0; i <= SPECTRUM_CHECKS; i++) {
    let s = c[0];
    for (let d = 1; d < c.length; d++)
      s += 2 * c[d] * Math.cos((Math.PI * i * d) / SPECTRUM_CHECKS);
    if (!(s >= -tolerance)) return false;
  }
  return true;
}

/** IMAGE / sqrt(VARIANCE), NaN where the pixel is masked or has no usable variance. */
function normalised(exposure: Exposure): Float32Array {
  const w = exposure.width,
    h = exposure.height,
    out = new Float32Array(w * h);
  const skip = UNUSABLE | MaskPlane.DETECTED | MaskPlane.DETECTED_NEGATIVE;
  for (let y = 0; y < h; y++) {
    const im = exposure.image.row(y),
      m = exposure.mask.row(y),
      v = exposure.variance.row(y);
    for (let x = 0; x < w; x++)
      out[y * w + x] =
        m[x] & skip || !(v[x] > 0) || !Number.isFinite(im[x])
          ? Number.NaN
          : im[x] / Math.sqrt(v[x]);
  }
  return out;
}
