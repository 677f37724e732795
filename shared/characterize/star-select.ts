/**
 * PSF star selection by size clustering in second-moment space, after Rubin's objectSize star
 * selector: point sources form the tight locus of smallest size at every position. The trace
 * T = ixx + iyy of bright, unsaturated, isolated candidates is fitted, in log, by a
 * polynomial in position with iterative clipping, so that a PSF varying across the detector
 * still forms one cluster.
 */
import { type Moments, type PixelSource } from './moments.js';
import { adaptiveMomentsBands } from './moments-bands.js';
import type { Helper } from '../util/shared-bands.js';
import { polyTerms, polyValues } from '../psf/pixel-psf.js';
import { median } from '../util/stats.js';
import type { Peak } from './detect-peaks.js';
import { FWHM_PER_SIGMA, MAD_TO_SIGMA } from '../util/numeric.js';
import { SingularMatrixError, solveGeneral } from '../util/linalg.js';

export interface StarSelectConfig {
  /** Candidates need at least this signal-to-noise in their adaptive moments (default 30). */
  minSnr: number;
  /** At most this many peaks, the most significant, are candidates (default 3000; also the neighbours the isolation test sees). */
  maxCandidates: number;
  /**
   * At most this many candidates have their moments measured (default 0: all; off because at 1500 the real/bogus
   * held-out night's bogus detections rose 551 -> 698, README): with more above the
   * significance floor (crowded fields), an evenly spaced subsample in significance order, which keeps their
   * spread in brightness (the faint stars of the PSF's chi2 figure) and over the detector. Each measurement
   * is ~14 iterations of a Gaussian-weighted sum: on a crowded 4k field, most of the selection's CPU.
   */
  maxMeasured: number;
  /** Half-width of the first size window about the mode of log T (default 0.25, i.e. +-28%). */
  modeWindow: number;
  /** Keep candidates within this many robust sigma of the size polynomial (default 3). */
  clipSigma: number;
  /** Floor on the robust width of log T (default 0.02: size scatter below 2% is not asked for). */
  minWidth: number;
  /** Polynomial degree of log T in position (default 2, reduced with few candidates). */
  degree: number;
  /** A candidate with a brighter-than-`neighborFluxRatio` neighbour within this many FWHM is not isolated (default 2). */
  isolationFwhm: number;
  /** Neighbours fainter than this fraction of the candidate's significance are tolerated (default 0.1). */
  neighborFluxRatio: number;
}

export const DEFAULT_STAR_SELECT_CONFIG: StarSelectConfig = {
  minSnr: 30,
  maxCandidates: 3000,
  maxMeasured: 0,
  modeWindow: 0.25,
  clipSigma: 3,
  minWidth: 0.02,
  degree: 2,
  isolationFwhm: 2,
  neighborFluxRatio: 0.1,
};

export interface Candidate extends Moments {
  /** Smoothed detection significance of its peak. */
  significance: number;
}

export interface StarSelection {
  /** Candidates measured (ok moments, clean core). */
  candidates: Candidate[];
  /** Selected PSF stars. */
  stars: Candidate[];
  /** Star size T = ixx + iyy (px^2) at a position: exp of a polynomial in PixelPsf's normalised coordinates; NaN without stars. */
  sizeAt: (x: number, y: number) => number;
  /** Median distortion components (e1, e2) of the stars. */
  e1: number;
  e2: number;
}

/**
 * Measures adaptive moments of the most significant peaks and selects point sources.
 * `badCore` marks pixels that disqualify a candidate if within 2 sigma of its centre (SAT, CR, ...).
 * The moments are measured in bands shared with `helper` when it is free (moments-bands.ts).
 */
export function selectStars(
  src: PixelSource,
  badCore: Uint8Array,
  peaks: Peak[],
  sigmaGuess: number,
  config: Partial<StarSelectConfig> = {},
  helper: Helper | null = null,
): StarSelection {
  const cfg = { ...DEFAULT_STAR_SELECT_CONFIG, ...config };
  const ordered = [...peaks]
    .sort((a, b) => b.significance - a.significance)
    .slice(0, cfg.maxCandidates);
  const candidates: Candidate[] = [];
  const measured = measuredPeaks(ordered, 0.5 * cfg.minSnr, cfg.maxMeasured);
  const moments = adaptiveMomentsBands(src, measured, sigmaGuess, helper);
  for (const [k, p] of measured.entries()) {
    const m = moments[k];
    if (
      !m.ok ||
      !(m.snr >= cfg.minSnr) ||
      !(m.flux > 0) ||
      touchesCore(badCore, src.width, src.height, m)
    )
      continue;
    candidates.push({ ...m, significance: p.significance });
  }
  const norm = (x: number, y: number): [number, number] => [
    (2 * x) / Math.max(1, src.width - 1) - 1,
    (2 * y) / Math.max(1, src.height - 1) - 1,
  ];
  const logT = candidates.map((c) => Math.log(c.ixx + c.iyy));
  const mode = smallestLocus(logT, cfg.modeWindow) ?? histogramMode(logT, 0.02);
  let keep = candidates.map((_, i) => Math.abs(logT[i] - mode) < cfg.modeWindow);
  let coeffs: Float64Array = new Float64Array([mode]);
  let terms = polyTerms(0);
  for (let it = 0; it < 5; it++) {
    const idx = keep.flatMap((k, i) => (k ? [i] : []));
    if (idx.length === 0) break;
    const degree = idx.length >= 30 ? cfg.degree : idx.length >= 10 ? Math.min(1, cfg.degree) : 0;
    terms = polyTerms(degree);
    coeffs = fitPoly(
      idx.map((i) => norm(candidates[i].x, candidates[i].y)),
      idx.map((i) => logT[i]),
      terms,
    );
    const resid = candidates.map(
      (c, i) => logT[i] - dot(coeffs, polyValues(terms, ...norm(c.x, c.y))),
    );
    const width = Math.max(cfg.minWidth, MAD_TO_SIGMA * median(idx.map((i) => Math.abs(resid[i]))));
    const next = resid.map((r) => Math.abs(r) < cfg.clipSigma * width);
    if (next.every((k, i) => k === keep[i])) break;
    keep = next;
  }
  const finalTerms = terms;
  const finalCoeffs = coeffs;
  const clustered = candidates.filter((_, i) => keep[i]);
  const sizeAt = (x: number, y: number): number =>
    clustered.length
      ? Math.exp(dot(finalCoeffs, polyValues(finalTerms, ...norm(x, y))))
      : Number.NaN;
  const near = peakGrid(ordered, ISOLATION_CELL_PX);
  const stars = clustered.filter((c) => isolated(c, near, sizeAt, cfg));
  const e1 = stars.length ? median(stars.map((s) => (s.ixx - s.iyy) / (s.ixx + s.iyy))) : 0;
  const e2 = stars.length ? median(stars.map((s) => (2 * s.ixy) / (s.ixx + s.iyy))) : 0;
  return { candidates, stars, sizeAt, e1, e2 };
}

/** The selection without the candidates and stars whose core now touches a `bad` pixel (e.g. after a new CR pass). */
export function dropTouching(
  selection: StarSelection,
  bad: Uint8Array,
  width: number,
  height: number,
): StarSelection {
  const clean = (c: Candidate): boolean => !touchesCore(bad, width, height, c);
  return {
    ...selection,
    candidates: selection.candidates.filter(clean),
    stars: selection.stars.filter(clean),
  };
}

/**
 * The peaks to measure, of `ordered` (most significant first): those at or above `floor` (the matched-filter
 * significance tracks the moments' SNR: far-too-faint peaks are not measured), at most `max` of them evenly
 * spaced in that order (0: all).
 */
function measuredPeaks(ordered: Peak[], floor: number, max: number): Peak[] {
  let n = 0;
  while (n < ordered.length && ordered[n].significance >= floor) n++;
  if (max <= 0 || n <= max) return ordered.slice(0, n);
  return Array.from({ length: max }, (_, k) => ordered[Math.floor((k * n) / max)]);
}

function touchesCore(bad: Uint8Array, w: number, h: number, m: Moments): boolean {
  return touches(bad, w, h, m.x, m.y, Math.max(2, 2 * Math.sqrt((m.ixx + m.iyy) / 2)));
}

/** Side of the cells peaks are binned in for the isolation test, px. */
const ISOLATION_CELL_PX = 32;

/** The peaks within `radius` px of a point (and maybe a few more), from cells of side `cell`. */
type PeakQuery = (x: number, y: number, radius: number) => Peak[][];

function peakGrid(peaks: Peak[], cell: number): PeakQuery {
  const cells = new Map<number, Peak[]>();
  const key = (cx: number, cy: number): number => cy * 65536 + cx;
  let maxX = 0;
  let maxY = 0;
  for (const p of peaks) {
    const [cx, cy] = [Math.floor(p.x / cell), Math.floor(p.y / cell)];
    maxX = Math.max(maxX, cx);
    maxY = Math.max(maxY, cy);
    const list = cells.get(key(cx, cy));
    if (list) list.push(p);
    else cells.set(key(cx, cy), [p]);
  }
  // Cells range over the peaks' own (pixel positions are >= 0), so that any radius stays bounded.
  const span = (v: number, radius: number, max: number): [number, number] => [
    Math.max(0, Math.floor((v - radius) / cell)),
    Math.min(max, Math.floor((v + radius) / cell)),
  ];
  return (x, y, radius) => {
    const out: Peak[][] = [];
    const [x0, x1] = span(x, radius, maxX);
    const [y0, y1] = span(y, radius, maxY);
    for (let cy = y0; cy <= y1; cy++) {
      for (let cx = x0; cx <= x1; cx++) {
        const list = cells.get(key(cx, cy));
        if (list) out.push(list);
      }
    }
    return out;
  };
}

/** Another detected peak beyond 2.5 px (the star's own binned peak lies closer) and brighter than the ratio, within the radius, spoils isolation. */
function isolated(
  c: Candidate,
  near: PeakQuery,
  sizeAt: (x: number, y: number) => number,
  cfg: StarSelectConfig,
): boolean {
  const fwhm = FWHM_PER_SIGMA * Math.sqrt(sizeAt(c.x, c.y) / 2);
  const r = cfg.isolationFwhm * fwhm;
  const r2 = r * r;
  // A NaN radius isolates every star, as the comparison d2 < NaN does.
  if (!(r2 > 6.25)) return true;
  for (const list of near(c.x, c.y, r)) {
    for (const p of list) {
      const d2 = (p.x - c.x) ** 2 + (p.y - c.y) ** 2;
      if (d2 > 6.25 && d2 < r2 && p.significance > cfg.neighborFluxRatio * c.significance)
        return false;
    }
  }
  return true;
}

function touches(bad: Uint8Array, w: number, h: number, x: number, y: number, r: number): boolean {
  const r2 = r * r;
  for (let yy = Math.max(0, Math.floor(y - r)); yy <= Math.min(h - 1, Math.ceil(y + r)); yy++) {
    const dy = yy - y;
    for (let xx = Math.max(0, Math.floor(x - r)); xx <= Math.min(w - 1, Math.ceil(x + r)); xx++) {
      // dx * dx, not `** 2` (a pow call in V8; the same value).
      const dx = xx - x;
      if (dx * dx + dy * dy <= r2 && bad[yy * w + xx]) return true;
    }
  }
  return false;
}

/** Mode of values from a histogram of bin `bin` smoothed by a 5-bin triangle. */
/** A size cluster needs this many members, and this fraction of the most populated one's, to be the stellar locus. */
const MIN_LOCUS_MEMBERS = 5;
const MIN_LOCUS_FRACTION = 0.2;

/**
 * Centre of the smallest well-populated size cluster (Rubin's objectSize selector: point sources
 * are the smallest objects): windows of +-window in log T about each value; the smallest window
 * holding a local maximum of members, at least MIN_LOCUS_MEMBERS and MIN_LOCUS_FRACTION of the
 * fullest window. In a star field that is the mode; in a galaxy cluster (JWST's Abell 2744, where
 * galaxies outnumber stars ten to one) it is the stars, not the galaxies' mode. Null when too few.
 */
function smallestLocus(values: number[], window: number): number | null {
  const v = [...values].sort((a, b) => a - b);
  const n = v.length;
  if (n < MIN_LOCUS_MEMBERS) return null;
  // counts[i]: members within [v[i], v[i] + 2 window] (two pointers over the sorted values).
  const counts = new Int32Array(n);
  for (let i = 0, j = 0; i < n; i++) {
    while (j < n && v[j] <= v[i] + 2 * window) j++;
    counts[i] = j - i;
  }
  const need = Math.max(MIN_LOCUS_MEMBERS, MIN_LOCUS_FRACTION * Math.max(...counts));
  for (let i = 0; i < n; i++) {
    if (counts[i] < need) continue;
    // Slide on while the window keeps gaining members: its fullest position in this cluster.
    let best = i;
    while (best + 1 < n && counts[best + 1] >= counts[best] && v[best + 1] <= v[i] + window) best++;
    let s = 0,
      m = 0;
    for (let k = best; k < n && v[k] <= v[best] + 2 * window; k++, m++) s += v[k];
    return s / m;
  }
  return null;
}

function histogramMode(values: number[], bin: number): number {
  if (values.length === 0) return 0;
  const lo = Math.min(...values);
  const nb = Math.floor((Math.max(...values) - lo) / bin) + 1;
  const hist = new Float64Array(nb);
  for (const v of values) hist[Math.floor((v - lo) / bin)]++;
  let best = 0;
  let bestValue = -1;
  for (let i = 0; i < nb; i++) {
    let s = 0;
    for (let k = -2; k <= 2; k++)
      if (i + k >= 0 && i + k < nb) s += (3 - Math.abs(k)) * hist[i + k];
    if (s > bestValue) {
      bestValue = s;
      best = i;
    }
  }
  return lo + (best + 0.5) * bin;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Least-squares polynomial fit by normal equations (few terms). */
function fitPoly(
  points: Array<[number, number]>,
  values: number[],
  terms: Array<[number, number]>,
): Float64Array {
  const n = terms.length;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n);
  points.forEach(([u, v], k) => {
    const p = polyValues(terms, u, v);
    for (let i = 0; i < n; i++) {
      b[i] += p[i] * values[k];
      for (let j = 0; j < n; j++) a[i * n + j] += p[i] * p[j];
    }
  });
  try {
    return solveGeneral(a, b);
  } catch (err) {
    if (!(err instanceof SingularMatrixError)) throw err;
    // Points on a line fix no plane: the constant term alone (terms[0] is the constant).
    const constant = new Float64Array(n);
    constant[0] = values.reduce((s, v) => s + v, 0) / values.length;
    return constant;
  }
}
