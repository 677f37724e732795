/**
 * Sky sources: forced PSF fluxes at random blank positions calibrate the difference image's
 * noise at the PSF scale (Rubin's SkyObjectsTask; Bosch et al. 2018, PASJ 70, S5, sec. 4.9).
 * If the variance plane and PSF describe the noise, flux / fluxErr has unit scatter; correlated
 * noise the variance plane ignores (e.g. an undecorrelated Alard-Lupton difference) raises it.
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import type { Psf } from '../psf/types.js';
import { forcedPsfFlux } from './psf-fit.js';
import { mulberry32 } from '../util/random.js';

export interface SkySourceResult {
  /** Positions measured. */
  count: number;
  /** Robust scatter of flux/fluxErr (interquartile range / 1.349): measured over predicted noise. */
  noiseRatio: number;
  /** Median predicted PSF-flux error, ADU. */
  medianFluxErr: number;
  /** Mean of flux/fluxErr (0 for an unbiased background). */
  meanSnr: number;
}

/** A sky source's forced PSF flux and its error (NaN when it could not be measured). */
export interface SkyFlux {
  flux: number;
  fluxErr: number;
}

/**
 * Measures `count` sky sources on `exposure`: positions whose PSF stamp holds no pixel with
 * DETECTED, DETECTED_NEGATIVE or `excludeBits` set (so run after detection).
 */
export function measureSkySources(
  exposure: Exposure,
  psf: Psf,
  count: number,
  excludeBits: number,
  seed = 1,
): SkySourceResult {
  const candidates = skySourceCandidates(exposure, psf, count, excludeBits, seed);
  const at = (c: SkyCandidate) => skyFlux(exposure, psf, c, excludeBits);
  return skySourceResult(candidates, count, [], at);
}

/** Where a sky source may go: a blank position, in parent pixel coordinates. */
export interface SkyCandidate {
  x: number;
  y: number;
}

/**
 * The blank positions of measureSkySources's random draws, in order: each draw takes two numbers of
 * the seeded generator, at most `count` x 20 draws (its attempt budget, measured or not).
 */
export function* skySourceCandidates(
  exposure: Exposure,
  psf: Psf,
  count: number,
  excludeBits: number,
  seed: number,
): Generator<SkyCandidate> {
  const r = (psf.stampSize - 1) / 2;
  const avoid = excludeBits | MaskPlane.DETECTED | MaskPlane.DETECTED_NEGATIVE;
  const random = mulberry32(seed);
  const { width, height } = exposure;
  if (width <= 2 * r || height <= 2 * r) return;
  for (let attempt = 0; attempt < count * 20; attempt++) {
    const x = r + Math.floor(random() * (width - 2 * r));
    const y = r + Math.floor(random() * (height - 2 * r));
    if (isBlank(exposure, x, y, r, avoid))
      yield { x: x + exposure.image.x0, y: y + exposure.image.y0 };
  }
}

/** The forced PSF flux at a candidate. */
export function skyFlux(
  exposure: Exposure,
  psf: Psf,
  c: SkyCandidate,
  excludeBits: number,
): SkyFlux {
  return forcedPsfFlux(exposure, psf, c.x, c.y, excludeBits);
}

/**
 * The figures of the first `count` candidates that measure (finite flux, positive error), in
 * order: `known` holds the fluxes of the first candidates, measured beforehand (on another thread),
 * `at` measures the ones beyond them as they are needed, as the sequential loop would.
 */
export function skySourceResult(
  candidates: Iterator<SkyCandidate>,
  count: number,
  known: SkyFlux[],
  at: (c: SkyCandidate) => SkyFlux,
): SkySourceResult {
  const snrs: number[] = [];
  const errs: number[] = [];
  for (let k = 0; snrs.length < count; k++) {
    let m = known[k];
    if (!m) {
      const next = candidates.next();
      if (next.done) break;
      m = at(next.value);
    }
    if (!Number.isFinite(m.flux) || !(m.fluxErr > 0)) continue;
    snrs.push(m.flux / m.fluxErr);
    errs.push(m.fluxErr);
  }
  return {
    count: snrs.length,
    noiseRatio: (quantile(snrs, 0.75) - quantile(snrs, 0.25)) / 1.3489795,
    medianFluxErr: quantile(errs, 0.5),
    meanSnr: snrs.reduce((s, v) => s + v, 0) / snrs.length,
  };
}

function isBlank(exposure: Exposure, x: number, y: number, r: number, avoid: number): boolean {
  for (let py = y - r; py <= y + r; py++) {
    const row = exposure.mask.row(py);
    for (let px = x - r; px <= x + r; px++) if ((row[px] & avoid) !== 0) return false;
  }
  return true;
}

/** Linear-interpolated quantile of `values` (NaN when empty). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}
