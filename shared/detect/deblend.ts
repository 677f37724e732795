/**
 * Blended point sources the peak finder misses, as crowded-field photometry finds them
 * (DAOPHOT's FIND on the residual after ALLSTAR; Stetson 1987, PASP 99, 191): the measured PSF
 * models of a footprint's sources are subtracted, the residual's matched-filter significance is
 * searched inside the footprint for same-sign peaks at the detection threshold, and a peak
 * becomes a child only when a joint two-PSF fit beats one PSF by a likelihood-ratio test and both
 * components pass the threshold; both fluxes are then refitted jointly.
 */
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { invertOrNull } from '../util/linalg.js';
import type { Footprint } from './footprints.js';
import {
  fitPsfModels,
  forEachUsable,
  psfSampler,
  stampsBox,
  type PixelBox,
  type Position,
} from './psf-models.js';

export interface DeblendOptions {
  /** Significance a residual peak and each component's |flux / fluxErr| must reach (the detection threshold used). */
  threshold: number;
  /** Minimum chi^2(one PSF) - chi^2(two PSFs) over the pair's stamps. */
  minDeltaChi2: number;
  /** A child must lie at least this many PSF FWHM from its parent (and from other sources). */
  minSeparationFwhm: number;
  /** A child's joint flux must reach this fraction of its parent's (in absolute value). */
  minContrast: number;
  /**
   * Footprints whose core (pixels at the threshold) has a major-axis sigma above this many times
   * max(minor-axis sigma, PSF sigma) are not searched: streaks and other linear artefacts.
   */
  maxElongation: number;
  /** Mask bits whose pixels are left out of the residual and the fits. */
  excludeBits: number;
}

/** A measured source of the footprint: position and PSF flux. */
export interface BlendParent extends Position {
  flux: number;
}

export interface BlendSplit {
  /** Index of the parent in the given list. */
  parent: number;
  /** Parent then child: jointly fitted positions (1 / V weights) and their errors, px. */
  positions: [Position, Position];
  positionErrs: [number, number];
  /** Joint forced PSF fluxes at those positions (uniform weights, as forcedPsfFlux), ADU. */
  fluxes: [number, number];
  fluxErrs: [number, number];
  /** chi^2(one PSF) - chi^2(two PSFs). */
  deltaChi2: number;
  /** Pixels of the joint flux fit. */
  ndata: number;
}

/**
 * Splits of `parents` (the footprint's measured sources) into parent and child, at most one
 * child per parent, strongest residual peak first.
 * @example
 *   const splits = findBlends(diff, psf, significance, footprint, [{ x: 838.4, y: 541.0, flux: 5200 }], options);
 */
export function findBlends(
  exposure: Exposure,
  psf: Psf,
  significance: Float32Array,
  fp: Footprint,
  parents: BlendParent[],
  options: DeblendOptions,
): BlendSplit[] {
  const usable = parents.filter((p) => Number.isFinite(p.flux) && Number.isFinite(p.x));
  if (usable.length === 0) return [];
  const cx = (fp.xMin + fp.xMax) / 2 + exposure.image.x0;
  const cy = (fp.yMin + fp.yMax) / 2 + exposure.image.y0;
  const [major, minor] = coreAxes(fp, significance, exposure.width, options.threshold);
  if (major > options.maxElongation * Math.max(minor, psf.sigmaAt(cx, cy))) return [];
  const minSep = options.minSeparationFwhm * psf.fwhmAt(cx, cy);
  const peaks = residualPeaks(exposure, psf, significance, fp, usable, minSep, options).filter(
    (c) => parents.every((p) => Math.hypot(p.x - c.x, p.y - c.y) >= minSep),
  );
  const splits: BlendSplit[] = [];
  const taken = new Set<number>();
  const children: Position[] = [];
  for (const peak of peaks) {
    if (children.some((c) => Math.hypot(c.x - peak.x, c.y - peak.y) < minSep)) continue;
    let parent = -1;
    parents.forEach((p, i) => {
      if (!Number.isFinite(p.flux) || taken.has(i)) return;
      const d = Math.hypot(p.x - peak.x, p.y - peak.y);
      if (parent < 0 || d < Math.hypot(parents[parent].x - peak.x, parents[parent].y - peak.y))
        parent = i;
    });
    if (parent < 0) break;
    const split = testPair(exposure, psf, parents[parent], peak, fp.sign, minSep, options);
    if (!split || Math.abs(split.fluxes[1]) < options.minContrast * Math.abs(split.fluxes[0]))
      continue;
    splits.push({ ...split, parent });
    taken.add(parent);
    children.push(split.positions[1]);
  }
  return splits;
}

/**
 * Local maxima of sign * (matched-filter significance of the residual D - sum F_i P_i) at
 * footprint pixels where the detection significance itself reaches the threshold (a same-sign
 * child adds to its neighbour's wing, so it cannot lie elsewhere) and at least about `minSep`
 * from every parent, strongest first. The
 * significance is num / sqrt(den), num = sum(P R / V), den = sum(P^2 / V), as in likelihood.ts.
 */
function residualPeaks(
  exposure: Exposure,
  psf: Psf,
  significance: Float32Array,
  fp: Footprint,
  parents: BlendParent[],
  minSep: number,
  options: DeblendOptions,
): Position[] {
  const { width } = exposure;
  const { x0, y0 } = exposure.image;
  const stamp = psf.stampAt((fp.xMin + fp.xMax) / 2 + x0, (fp.yMin + fp.yMax) / 2 + y0, true);
  const s = stamp.size;
  const r = (s - 1) / 2;
  // Peaks nearer than minSep to a parent are not children; pixels up to 1.5 px nearer still decide whether a pixel is a peak.
  const reach = Math.max(0, minSep - 1.5);
  const candidates = Array.from(fp.pixels).filter((p) => {
    const x = (p % width) + x0;
    const y = Math.floor(p / width) + y0;
    return (
      fp.sign * significance[p] >= options.threshold &&
      parents.every((q) => Math.hypot(q.x - x, q.y - y) >= reach)
    );
  });
  if (candidates.length === 0) return [];
  const xs = candidates.map((p) => (p % width) + x0);
  const ys = candidates.map((p) => Math.floor(p / width) + y0);
  const box: PixelBox = [
    Math.max(x0, Math.min(...xs) - r),
    Math.min(x0 + width - 1, Math.max(...xs) + r),
    Math.max(y0, Math.min(...ys) - r),
    Math.min(y0 + exposure.height - 1, Math.max(...ys) + r),
  ];
  const bw = box[1] - box[0] + 1;
  const bh = box[3] - box[2] + 1;
  // Residual / V and 1 / V over the box; 0 where unusable.
  const rv = new Float64Array(bw * bh);
  const iv = new Float64Array(bw * bh);
  const samplers = parents.map((p) => psfSampler(psf, p.x, p.y));
  forEachUsable(exposure, box, options.excludeBits, (_k, px, py, d, v) => {
    let model = 0;
    samplers.forEach((sample, i) => (model += parents[i].flux * sample(px, py)[0]));
    const j = (py - box[2]) * bw + (px - box[0]);
    rv[j] = (d - model) / v;
    iv[j] = 1 / v;
  });
  const residual = new Map<number, number>();
  candidates.forEach((p, c) => {
    let num = 0;
    let den = 0;
    for (let j = 0; j < s; j++) {
      const by = ys[c] + j - r - box[2];
      if (by < 0 || by >= bh) continue;
      for (let i = 0; i < s; i++) {
        const bx = xs[c] + i - r - box[0];
        if (bx < 0 || bx >= bw) continue;
        const w = stamp.data[j * s + i];
        num += w * rv[by * bw + bx];
        den += w * w * iv[by * bw + bx];
      }
    }
    if (den > 0) residual.set(p, (fp.sign * num) / Math.sqrt(den));
  });
  const peaks: (Position & { s: number })[] = [];
  for (const [p, value] of residual) {
    if (value < options.threshold) continue;
    let isMax = true;
    for (let dy = -1; dy <= 1 && isMax; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const n = residual.get(p + dy * width + dx);
        if ((dx !== 0 || dy !== 0) && n !== undefined && n > value) isMax = false;
      }
    }
    if (isMax) peaks.push({ x: (p % width) + x0, y: Math.floor(p / width) + y0, s: value });
  }
  return peaks.sort((a, b) => b.s - a.s).map(({ x, y }) => ({ x, y }));
}

/** The likelihood-ratio test of parent + child against the parent alone over the pair's stamps; null when it fails. */
function testPair(
  exposure: Exposure,
  psf: Psf,
  parent: BlendParent,
  child: Position,
  sign: number,
  minSep: number,
  options: DeblendOptions,
): Omit<BlendSplit, 'parent'> | null {
  const box = stampsBox(exposure, psf, [parent, child]);
  const maxShift = 3;
  const one = fitPsfModels(exposure, psf, [parent], box, options.excludeBits, maxShift, 8);
  const two = fitPsfModels(exposure, psf, [parent, child], box, options.excludeBits, maxShift, 12);
  if (!one.converged || !two.converged) return null;
  const deltaChi2 = one.chi2 - two.chi2;
  const [a, b] = two.positions;
  if (deltaChi2 < options.minDeltaChi2 || Math.hypot(a.x - b.x, a.y - b.y) < minSep) return null;
  const joint = jointForcedFluxes(exposure, psf, [a, b], box, options.excludeBits);
  if (!joint) return null;
  const passes = (l: number): boolean =>
    (sign * joint.fluxes[l]) / joint.fluxErrs[l] >= options.threshold;
  if (!passes(0) || !passes(1)) return null;
  return {
    positions: [a, b],
    positionErrs: [two.positionErrs[0], two.positionErrs[1]],
    fluxes: joint.fluxes,
    fluxErrs: joint.fluxErrs,
    deltaChi2,
    ndata: joint.ndata,
  };
}

/**
 * Forced PSF fluxes of two sources at fixed positions, fitted jointly with uniform weights
 * (the forcedPsfFlux estimator, psf-fit.ts): F = A^-1 b with A_ij = sum P_i P_j, b_i = sum P_i D;
 * covariance A^-1 (sum P_i P_j V) A^-1.
 */
function jointForcedFluxes(
  exposure: Exposure,
  psf: Psf,
  positions: [Position, Position],
  box: PixelBox,
  excludeBits: number,
): { fluxes: [number, number]; fluxErrs: [number, number]; ndata: number } | null {
  const samplers = positions.map((p) => psfSampler(psf, p.x, p.y));
  const a = [0, 0, 0, 0];
  const c = [0, 0, 0, 0];
  const b = [0, 0];
  let ndata = 0;
  forEachUsable(exposure, box, excludeBits, (_k, px, py, d, v) => {
    const p = [samplers[0](px, py)[0], samplers[1](px, py)[0]];
    if (p[0] === 0 && p[1] === 0) return;
    ndata++;
    for (let i = 0; i < 2; i++) {
      b[i] += p[i] * d;
      for (let j = 0; j < 2; j++) {
        a[2 * i + j] += p[i] * p[j];
        c[2 * i + j] += p[i] * p[j] * v;
      }
    }
  });
  const inv = invertOrNull(a);
  if (!inv) return null;
  const f = [inv[0] * b[0] + inv[1] * b[1], inv[2] * b[0] + inv[3] * b[1]];
  // (A^-1 C A^-1)_ll for l = 0, 1.
  const variance = (l: number): number => {
    let sum = 0;
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 2; j++) sum += inv[2 * l + i] * c[2 * i + j] * inv[2 * j + l];
    return sum;
  };
  return {
    fluxes: [f[0], f[1]],
    fluxErrs: [Math.sqrt(variance(0)), Math.sqrt(variance(1))],
    ndata,
  };
}

/** Major and minor axis sigmas (px) of the footprint's pixels at or above the threshold. */
function coreAxes(
  fp: Footprint,
  significance: Float32Array,
  width: number,
  threshold: number,
): [number, number] {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (const p of fp.pixels) {
    if (fp.sign * significance[p] < threshold) continue;
    const x = p % width;
    const y = (p - x) / width;
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
    sxy += x * y;
  }
  const mx = sx / n;
  const my = sy / n;
  const a = sxx / n - mx * mx;
  const c = syy / n - my * my;
  const b = sxy / n - mx * my;
  const root = Math.sqrt(((a - c) / 2) ** 2 + b * b);
  return [Math.sqrt((a + c) / 2 + root), Math.sqrt(Math.max(0, (a + c) / 2 - root))];
}
