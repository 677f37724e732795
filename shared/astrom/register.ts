/**
 * registerPair: the science image's astrometry refitted on the template's stars before the warp
 * (issue 15 item 3; Rubin's calibrateImage astrometry, with the template as the reference catalog).
 *
 * The template's stars are put on the sky by the template's WCS and into the science pixels by the
 * science header's WCS; a star-pattern match (pattern.ts, astroalign's triangles) finds what is
 * left of offset, rotation and scale, the stars are paired, and a TAN-SIP WCS is fitted to them
 * with the order (affine, then SIP 2 and 3) chosen by the Akaike criterion among the orders the
 * star count supports, with 3-sigma clipping. The header's WCS is kept when the fit does not beat
 * it by the same criterion, so a good header is left alone.
 *
 * Images without a WCS are registered the same way in a stand-in frame (the other image's WCS,
 * else a 1 arcsec/px TAN): pixel shifts, rotation and scale are found by their stars; when the
 * fitted map is the identity within identityTolerancePx, the pair is taken as aligned pixel for
 * pixel as before.
 */
import type { Exposure } from '../image/exposure.js';
import { makeTanWcs, type Wcs } from '../wcs/index.js';
import { evaluate, exponents, fitTanSip, solvePlane, type StarPair } from './fit-wcs.js';
import { IDENTITY, matchPatterns, matchPoints, type Point } from './pattern.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

export interface AstrometryConfig {
  /** Refit the science WCS and register WCS-less pairs (default true); false keeps the headers as given. */
  enabled: boolean;
  /** Brightest stars of each image used for the pattern match (default 60). */
  patternStars: number;
  /** Radius of the first pairing after the pattern match, pixels (default 3). */
  matchRadiusPx: number;
  /** Highest SIP order fitted (default 3). */
  maxOrder: number;
  /** Stars needed per free parameter of an order (default 3): fewer lower the order. */
  starsPerParameter: number;
  /** Clip pairs beyond this many robust sigma of the fit (default 3). */
  clipSigma: number;
  /** Floor on a star's position error, pixels (default 0.01): no pair dominates the fit. */
  positionErrorFloorPx: number;
  /** A WCS-less pair whose fitted map moves no pixel by more than this is aligned as it is (default 0.05 px). */
  identityTolerancePx: number;
}

export const DEFAULT_ASTROMETRY_CONFIG: AstrometryConfig = {
  enabled: true,
  patternStars: 60,
  matchRadiusPx: 3,
  maxOrder: 3,
  starsPerParameter: 3,
  clipSigma: 3,
  positionErrorFloorPx: 0.01,
  identityTolerancePx: 0.05,
};

/** A star for registration: its centroid (pixels), flux and centroid error (pixels). */
export interface AstromSource {
  x: number;
  y: number;
  flux: number;
  sigmaPx: number;
}

/**
 * What registration decided: 'header' kept the science header's WCS, 'refit' replaced it,
 * 'aligned' found a WCS-less pair aligned already, 'pattern' registered a WCS-less pair by its
 * stars, 'none' could not register (too few stars matched; the headers or the alignment are used
 * as given, and `reason` says why).
 */
export type AstrometryMode = 'header' | 'refit' | 'aligned' | 'pattern' | 'none';

export interface AstrometryResult {
  mode: AstrometryMode;
  /** Stars in the final fit. */
  nStars: number;
  /** Weighted rms of the fit's residuals, pixels (NaN without a fit). */
  rmsPx: number;
  /** Order of the fitted WCS (1 affine TAN, 2-3 TAN-SIP; 0 without a fit). */
  order: number;
  /** The science WCS to warp with (null: warp as aligned). */
  warpScienceWcs: Wcs | null;
  /** The template WCS to warp with (its own, or a stand-in for a WCS-less template). */
  warpTemplateWcs: Wcs | null;
  /** The WCS the difference carries (a celestial one, or null). */
  outputWcs: Wcs | null;
  reason?: string;
}

/** A 1 arcsec/px TAN standing in for the sky of a WCS-less pair. */
function standInWcs(width: number, height: number): Wcs {
  return makeTanWcs({
    crpix: [(width - 1) / 2, (height - 1) / 2],
    crval: [180, 0],
    cd: [
      [-1 / ARCSEC_PER_DEG, 0],
      [0, 1 / ARCSEC_PER_DEG],
    ],
  });
}

function brightest<T extends { flux: number }>(list: readonly T[], n: number): T[] {
  return [...list].sort((a, b) => b.flux - a.flux).slice(0, n);
}

/** A matched star: measured in the science (x, y), and where the science's first-guess WCS puts its template twin (X, Y). */
interface PixelPair {
  x: number;
  y: number;
  X: number;
  Y: number;
  /** 1 / (position error, pixels)^2. */
  weight: number;
}

/** A polynomial map of science pixels (x, y) to first-guess pixels (X, Y). */
interface MapFit {
  order: number;
  cx: Float64Array;
  cy: Float64Array;
  terms: Array<[number, number]>;
  /** The pairs fitted (after clipping). */
  used: PixelPair[];
  chi2: number;
  /** Weighted rms of the residuals, pixels. */
  rmsPx: number;
  parameters: number;
}

interface Frame {
  cx: number;
  cy: number;
  scale: number;
}

function fitMap(
  pairs: readonly PixelPair[],
  order: number,
  f: Frame,
): MapFit & { residualsPx: Float64Array } {
  const terms = exponents(order);
  const u = Float64Array.from(pairs, (p) => p.x - f.cx);
  const v = Float64Array.from(pairs, (p) => p.y - f.cy);
  const w = Float64Array.from(pairs, (p) => p.weight);
  const { cx, cy } = solvePlane(
    u,
    v,
    Float64Array.from(pairs, (p) => p.X),
    Float64Array.from(pairs, (p) => p.Y),
    w,
    terms,
    f.scale,
  );
  const residualsPx = new Float64Array(pairs.length);
  let chi2 = 0;
  let wsum = 0;
  pairs.forEach((p, i) => {
    const un = u[i] / f.scale;
    const vn = v[i] / f.scale;
    const r = Math.hypot(p.X - evaluate(cx, terms, un, vn), p.Y - evaluate(cy, terms, un, vn));
    residualsPx[i] = r;
    chi2 += w[i] * r * r;
    wsum += w[i];
  });
  return {
    order,
    cx,
    cy,
    terms,
    used: [...pairs],
    chi2,
    rmsPx: Math.sqrt(chi2 / wsum),
    parameters: 2 * terms.length,
    residualsPx,
  };
}

/**
 * Clips outliers with the highest order the star count allows (the most flexible map: what it
 * cannot follow is not a distortion), then fits every order on the same stars and keeps the lowest
 * Akaike criterion.
 */
function bestMap(pairs: PixelPair[], f: Frame, cfg: AstrometryConfig): MapFit | null {
  let top = 0;
  while (top < cfg.maxOrder && pairs.length >= cfg.starsPerParameter * (top + 2) * (top + 3)) top++;
  if (top === 0) return null;
  let fit = fitMap(pairs, top, f);
  for (let it = 0; it < 5; it++) {
    // Normalised residuals |r| sqrt(w), clipped on their robust scale (the 68th percentile).
    const z = Array.from(fit.residualsPx, (r, i) => r * Math.sqrt(fit.used[i].weight));
    const sigma = [...z].sort((a, b) => a - b)[Math.floor(0.68 * (z.length - 1))];
    const keep = fit.used.filter((_, i) => z[i] <= cfg.clipSigma * sigma);
    if (
      keep.length === fit.used.length ||
      keep.length < cfg.starsPerParameter * (top + 1) * (top + 2)
    )
      break;
    fit = fitMap(keep, top, f);
  }
  const used = fit.used;
  let best: { fit: MapFit; aic: number } | null = null;
  for (let order = 1; order <= top; order++) {
    const candidate = order === top ? fit : fitMap(used, order, f);
    const aic = used.length * Math.log(candidate.chi2 / used.length) + 2 * candidate.parameters;
    if (!best || aic < best.aic) best = { fit: candidate, aic };
  }
  return best?.fit ?? null;
}

/** Grid nodes per side on which the corrected WCS is sampled to be written as TAN-SIP. */
const REPRESENT_NODES = 24;
/** Largest error allowed of the TAN-SIP form of the corrected WCS, pixels; its order grows to 5 until met. */
const REPRESENT_TOLERANCE_PX = 0.002;

/** The first-guess WCS composed with the fitted map, as a TAN-SIP WCS (sampled on a grid and fitted). */
function correctedWcs(guess: Wcs, map: MapFit, f: Frame, width: number, height: number): Wcs {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let j = 0; j < REPRESENT_NODES; j++)
    for (let i = 0; i < REPRESENT_NODES; i++) {
      xs.push((i * (width - 1)) / (REPRESENT_NODES - 1));
      ys.push((j * (height - 1)) / (REPRESENT_NODES - 1));
    }
  const mapped = { x: new Float64Array(xs.length), y: new Float64Array(xs.length) };
  xs.forEach((x, k) => {
    const un = (x - f.cx) / f.scale;
    const vn = (ys[k] - f.cy) / f.scale;
    mapped.x[k] = evaluate(map.cx, map.terms, un, vn);
    mapped.y[k] = evaluate(map.cy, map.terms, un, vn);
  });
  const sky = guess.pixelToSky(mapped);
  const grid: StarPair[] = xs.map((x, k) => ({
    x,
    y: ys[k],
    ra: sky.ra[k],
    dec: sky.dec[k],
    weight: 1,
  }));
  const crpix: [number, number] = [f.cx, f.cy];
  const centre = guess.pixelToSky({ x: Float64Array.of(f.cx), y: Float64Array.of(f.cy) });
  let fit = fitTanSip(grid, crpix, [centre.ra[0], centre.dec[0]], 1, f.scale);
  for (let order = 2; order <= 5 && Math.max(...fit.residualsPx) > REPRESENT_TOLERANCE_PX; order++)
    fit = fitTanSip(grid, crpix, [centre.ra[0], centre.dec[0]], order, f.scale);
  return fit.wcs;
}

/** Largest pixel displacement science -> template over a grid of the science image. */
function largestShift(science: Wcs, template: Wcs, width: number, height: number): number {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let j = 0; j <= 8; j++)
    for (let i = 0; i <= 8; i++) {
      xs.push((i * (width - 1)) / 8);
      ys.push((j * (height - 1)) / 8);
    }
  const sky = science.pixelToSky({ x: Float64Array.from(xs), y: Float64Array.from(ys) });
  const t = template.skyToPixel(sky);
  let worst = 0;
  for (let k = 0; k < xs.length; k++)
    worst = Math.max(worst, Math.hypot(t.x[k] - xs[k], t.y[k] - ys[k]));
  return worst;
}

/**
 * Registers `science` on `template` from their stars (see the module comment); changes neither
 * exposure: the caller warps with warpScienceWcs / warpTemplateWcs and gives the difference outputWcs.
 */
export function registerPair(
  science: Pick<Exposure, 'wcs' | 'width' | 'height'>,
  template: Pick<Exposure, 'wcs' | 'width' | 'height'>,
  scienceStars: readonly AstromSource[],
  templateStars: readonly AstromSource[],
  config: Partial<AstrometryConfig> = {},
): AstrometryResult {
  const cfg = { ...DEFAULT_ASTROMETRY_CONFIG, ...config };
  const { width, height } = science;
  const bothWcs = science.wcs !== null && template.wcs !== null;
  const asGiven = (reason: string): AstrometryResult => ({
    mode: 'none',
    nStars: 0,
    rmsPx: Number.NaN,
    order: 0,
    warpScienceWcs: bothWcs ? science.wcs : null,
    warpTemplateWcs: bothWcs ? template.wcs : null,
    outputWcs: science.wcs ?? template.wcs,
    reason,
  });
  if (!cfg.enabled) return asGiven('astrometry disabled');
  // The frame the template's stars are placed on the sky with, and the science's first guess.
  const templateWcs = template.wcs ?? science.wcs ?? standInWcs(template.width, template.height);
  const guess = science.wcs ?? templateWcs;

  const sky = templateWcs.pixelToSky({
    x: Float64Array.from(templateStars, (s) => s.x),
    y: Float64Array.from(templateStars, (s) => s.y),
  });
  const predicted = guess.skyToPixel(sky);
  const margin = 2 * cfg.matchRadiusPx;
  const inside = templateStars
    .map((s, k) => ({
      ...s,
      px: predicted.x[k],
      py: predicted.y[k],
      ra: sky.ra[k],
      dec: sky.dec[k],
    }))
    .filter(
      (s) =>
        s.px > -margin && s.py > -margin && s.px < width - 1 + margin && s.py < height - 1 + margin,
    );
  const fromPattern = brightest(inside, cfg.patternStars).map((s) => ({
    x: s.px,
    y: s.py,
    flux: s.flux,
  }));
  const toPattern = brightest(scienceStars, cfg.patternStars);
  const pattern = matchPatterns(fromPattern, toPattern);
  const first = pattern?.transform ?? IDENTITY;

  // Pairs: every template star near a science star once the pattern's correction is applied.
  const from: Point[] = inside.map((s) => ({ x: s.px, y: s.py }));
  let matches = matchPoints(from, scienceStars, first, cfg.matchRadiusPx);
  if (matches.length < cfg.starsPerParameter * 6)
    return asGiven(`only ${matches.length} stars matched between the images`);
  const toPairs = (m: Array<[number, number]>): PixelPair[] =>
    m.map(([i, j]) => {
      const sc = scienceStars[j];
      const t = inside[i];
      return {
        x: sc.x,
        y: sc.y,
        X: t.px,
        Y: t.py,
        weight: 1 / (sc.sigmaPx ** 2 + t.sigmaPx ** 2 + cfg.positionErrorFloorPx ** 2),
      };
    });
  const frame: Frame = {
    cx: (width - 1) / 2,
    cy: (height - 1) / 2,
    scale: Math.max(width, height) / 2,
  };
  const firstMap = bestMap(toPairs(matches), frame, cfg);
  if (!firstMap) return asGiven('too few stars for an affine fit');
  // Pair again through the fitted map's inverse direction (template twins moved onto the science), within 1 px.
  const inverse = bestMap(
    firstMap.used.map((p) => ({ x: p.X, y: p.Y, X: p.x, Y: p.y, weight: p.weight })),
    frame,
    cfg,
  );
  if (inverse) {
    const moved = inside.map((t) => {
      const un = (t.px - frame.cx) / frame.scale;
      const vn = (t.py - frame.cy) / frame.scale;
      return {
        x: evaluate(inverse.cx, inverse.terms, un, vn),
        y: evaluate(inverse.cy, inverse.terms, un, vn),
      };
    });
    matches = matchPoints(moved, scienceStars, IDENTITY, 1);
  }
  const map = (inverse ? bestMap(toPairs(matches), frame, cfg) : null) ?? firstMap;
  const stats = { nStars: map.used.length, rmsPx: map.rmsPx, order: map.order };

  if (bothWcs && science.wcs) {
    // The header (the identity map) against the fit: the Akaike criterion with the fit's scatter as the unit.
    const unit = map.chi2 / Math.max(1, 2 * stats.nStars - map.parameters);
    let identity = 0;
    for (const p of map.used) identity += p.weight * ((p.X - p.x) ** 2 + (p.Y - p.y) ** 2);
    if (identity / unit <= map.chi2 / unit + 2 * map.parameters)
      return {
        mode: 'header',
        ...stats,
        warpScienceWcs: science.wcs,
        warpTemplateWcs: template.wcs,
        outputWcs: science.wcs,
      };
    const wcs = correctedWcs(science.wcs, map, frame, width, height);
    return {
      mode: 'refit',
      ...stats,
      warpScienceWcs: wcs,
      warpTemplateWcs: template.wcs,
      outputWcs: wcs,
    };
  }
  const fit = { wcs: correctedWcs(guess, map, frame, width, height) };
  if (largestShift(fit.wcs, templateWcs, width, height) <= cfg.identityTolerancePx)
    return {
      mode: 'aligned',
      ...stats,
      warpScienceWcs: null,
      warpTemplateWcs: null,
      outputWcs: science.wcs ?? template.wcs,
    };
  return {
    mode: 'pattern',
    ...stats,
    warpScienceWcs: fit.wcs,
    warpTemplateWcs: templateWcs,
    // A science header is kept as it came; else the fit is celestial when the template's WCS was real.
    outputWcs: science.wcs ?? (template.wcs ? fit.wcs : null),
  };
}
