/**
 * Input selection: quality cuts (PSF FWHM and shape, PSF-model quality, astrometric rms, depth,
 * sky), PSF homogeneity (FWHM within maxFwhmRatio of the sharpest), then Rubin's DP1 rule (Rubin Observatory 2025, DP1 paper sect. on template generation): the
 * best-seeing third of what passes, or the best `minBest` (12) when that third is smaller.
 */
import type { TemplateConfig } from './config.js';
import { magnitude, type InputQuality } from './measure.js';

export interface SelectionCandidate {
  quality: InputQuality;
  /** AB mag of 1 ADU (from the header or matched stars). */
  zeroPoint: number;
}

/**
 * Calibrated sky surface brightness, relative units (flux per arcsec^2 at zero point 0); NaN for a
 * sky-subtracted input (a level below its own pixel noise), whose sky is not known.
 */
function skyFlux(c: SelectionCandidate): number {
  const q = c.quality;
  if (!(q.skyAdu > Math.sqrt(q.medianVariance))) return Number.NaN;
  return (q.skyAdu * 10 ** (-0.4 * c.zeroPoint)) / q.pixelScaleArcsec ** 2;
}

export function depthMag(c: SelectionCandidate): number {
  return magnitude(c.quality.depthAdu, c.zeroPoint);
}

const f2 = (v: number) => v.toFixed(2);

/** The reason a candidate fails a quality cut, or null when it passes all. */
function cutReason(
  c: SelectionCandidate,
  cfg: TemplateConfig,
  bestDepth: number,
  medianSky: number,
): string | null {
  const q = c.quality;
  if (q.psfStars < cfg.minPsfStars)
    return `${q.psfStars} PSF stars < minPsfStars ${cfg.minPsfStars}`;
  if (!(q.fwhmArcsec <= cfg.maxFwhmArcsec))
    return `PSF FWHM ${f2(q.fwhmArcsec)}" > maxFwhmArcsec ${cfg.maxFwhmArcsec}"`;
  if (!(q.ellipticity <= cfg.maxEllipticity))
    return `PSF ellipticity ${f2(q.ellipticity)} > maxEllipticity ${cfg.maxEllipticity}`;
  if (q.psfChi2 > cfg.maxPsfChi2)
    return `PSF model chi2/dof ${f2(q.psfChi2)} > maxPsfChi2 ${cfg.maxPsfChi2}`;
  if (q.wcsRmsArcsec > cfg.maxWcsRmsArcsec)
    return `astrometric rms ${f2(q.wcsRmsArcsec)}" > maxWcsRmsArcsec ${cfg.maxWcsRmsArcsec}"`;
  const depth = depthMag(c);
  if (!(depth >= bestDepth - cfg.maxDepthDeficitMag))
    return `depth ${f2(depth)} mag is more than maxDepthDeficitMag ${cfg.maxDepthDeficitMag} above the deepest ${f2(bestDepth)}`;
  // Sky-subtracted inputs (NaN) are judged by their depth only.
  if (skyFlux(c) > cfg.maxSkyRatio * medianSky)
    return `sky ${f2(skyFlux(c) / medianSky)}x the median > maxSkyRatio ${cfg.maxSkyRatio}`;
  return null;
}

/**
 * Per candidate, null when selected or the reason it is not: the quality cuts, then the DP1 rule
 * (best seeing first). How many were selected is the number of nulls; the caller checks minInputs.
 */
export function selectInputs(
  candidates: readonly SelectionCandidate[],
  cfg: TemplateConfig,
): Array<string | null> {
  if (candidates.length === 0) return [];
  const depths = candidates.map(depthMag).filter(Number.isFinite);
  const bestDepth = depths.length > 0 ? Math.max(...depths) : Number.NaN;
  const skies = candidates
    .map(skyFlux)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const medianSky = skies[Math.floor(skies.length / 2)];
  const reasons = candidates.map((c) => cutReason(c, cfg, bestDepth, medianSky));
  let passing = candidates.map((c, i) => ({ c, i })).filter(({ i }) => reasons[i] === null);
  passing.sort((a, b) => a.c.quality.fwhmArcsec - b.c.quality.fwhmArcsec);
  const sharpest = passing[0]?.c.quality.fwhmArcsec ?? Number.NaN;
  for (const { c, i } of passing) {
    if (c.quality.fwhmArcsec > cfg.maxFwhmRatio * sharpest)
      reasons[i] =
        `seeing ${f2(c.quality.fwhmArcsec)}" > maxFwhmRatio ${cfg.maxFwhmRatio} x the best ${f2(sharpest)}"`;
  }
  passing = passing.filter(({ i }) => reasons[i] === null);
  const keep = Math.max(
    Math.ceil(cfg.bestFraction * passing.length),
    Math.min(cfg.minBest, passing.length),
  );
  for (const { c, i } of passing.slice(keep)) {
    reasons[i] =
      `seeing ${f2(c.quality.fwhmArcsec)}" not among the best ${keep} (DP1 rule: best ${f2(cfg.bestFraction)}, at least ${cfg.minBest})`;
  }
  return reasons;
}
