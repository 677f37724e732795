/**
 * Alard & Lupton (1998) least-squares fit of a spatially varying PSF-matching kernel and
 * differential background on kernel candidates, with ip_diffim's iterative rejection of
 * candidates whose residuals or kernel sums are outliers.
 *
 * Each candidate's template stamp is convolved with every basis function (two 1-D passes
 * each, the basis being separable) once; its normal equations are then reused for the
 * single-candidate fits and, weighted by the spatial polynomials at its centre, for the
 * spatial fit.
 */
import { horizontalOwners, type KernelBasis } from './basis.js';
import type { CandidateStamp } from './candidates.js';
import { KernelSolution } from './kernel-solution.js';
import { polyCount, SpatialFrame } from './spatial.js';
import { solveSymmetric } from '../util/linalg.js';
import { median, madSigma } from '../util/stats.js';
import { NoKernelCandidatesError } from './errors.js';
import { poolTask } from '../util/pool-task.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { stampPreparer, type KernelEngine } from './kernel-engine.js';

export interface KernelFitOptions {
  spatialOrder: number;
  backgroundOrder: number;
  /** Reject a candidate whose mean normalised residual exceeds this (sigma units). */
  residualMeanMax: number;
  /** Reject a candidate whose normalised residual scatter exceeds this. */
  residualStdMax: number;
  /** Reject candidates whose single-fit kernel sum is this many sigma from the median. */
  kernelSumSigmaMax: number;
  /** Rounds of spatial fit and rejection. */
  maxIterations: number;
  /**
   * Reject a border candidate (a stamp smaller than the largest) whose residual scatter exceeds this times the median
   * of the full stamps' (a star at the border is often cut or odd; default: no such test).
   */
  borderResidualStdMax?: number;
  /**
   * 'fixed': spatialOrder as given (when the candidates support it); 'cv': the order 0..spatialOrder
   * whose fit best predicts held-out candidates (CV_FOLDS-fold cross-validation). Default 'fixed'.
   */
  spatialOrderSelection?: SpatialOrderSelection;
}

export type SpatialOrderSelection = 'fixed' | 'cv';

/** Folds of the spatial order's cross-validation: candidate i is held out in fold i mod CV_FOLDS. */
export const CV_FOLDS = 5;

/** A stamp's own fit needs at least this many unmasked pixels per unknown (fewer: an exact, meaningless fit). */
export const MIN_PIXELS_PER_UNKNOWN = 4;

export interface CandidateReport {
  x: number;
  y: number;
  /** Kernel sum of the candidate's own fit. */
  kernelSum: number;
  residualMean: number;
  residualStd: number;
  /**
   * Why it was rejected, or '' when used in the final solution; 'degenerate': too few unmasked
   * pixels to constrain its own fit (e.g. a stamp on the template's NO_DATA), never used.
   */
  rejected: '' | 'degenerate' | 'singleResidual' | 'kernelSum' | 'spatialResidual';
}

export interface KernelFitResult {
  solution: KernelSolution;
  candidates: CandidateReport[];
  /** Candidates used in the final fit. */
  used: number;
}

/** A candidate ready to fit: its source convolved by each basis function and its normal equations. */
export interface PreparedStamp {
  stamp: CandidateStamp;
  /** Basis-convolved source stamps, one per basis function, then a column of ones (background). */
  columns: Float64Array[];
  /** Local normal matrix (nb+1)^2 and right-hand side. */
  normal: Float64Array;
  rhs: Float64Array;
}

/** Outputs of a 1-D convolution computed together, each tap's factor loaded once for all of them. */
const BLOCK = 4;

/**
 * `count` rows of the "valid" 1-D convolution of `input` by `taps` along a stride: out[r * width + x] =
 * sum_k taps[k] * input[r * rowStep + x + (size - 1 - k) * step], added in the order of k (the same sum at
 * every blocking). Horizontal: rowStep = the input's row length, step 1; vertical: rowStep = step = width.
 */
function convolveValid(
  input: Float64Array,
  taps: Float64Array,
  out: Float64Array,
  width: number,
  count: number,
  rowStep: number,
  step: number,
): void {
  const size = taps.length;
  for (let r = 0; r < count; r++) {
    const first = r * rowStep + (size - 1) * step;
    const row = r * width;
    let x = 0;
    for (; x + BLOCK <= width; x += BLOCK) {
      let a0 = 0,
        a1 = 0,
        a2 = 0,
        a3 = 0;
      for (let k = 0, o = first + x; k < size; k++, o -= step) {
        const f = taps[k];
        a0 += f * input[o];
        a1 += f * input[o + 1];
        a2 += f * input[o + 2];
        a3 += f * input[o + 3];
      }
      out[row + x] = a0;
      out[row + x + 1] = a1;
      out[row + x + 2] = a2;
      out[row + x + 3] = a3;
    }
    for (; x < width; x++) {
      let acc = 0;
      for (let k = 0, o = first + x; k < size; k++, o -= step) acc += taps[k] * input[o];
      out[row + x] = acc;
    }
  }
}

/**
 * Every basis function's "valid" convolution of a square source stamp. Terms whose horizontal
 * factors are equal (same Gaussian and power of u) share one horizontal pass.
 */
function convolveBasis(source: Float64Array, side: number, basis: KernelBasis): Float64Array[] {
  const size = basis.size,
    w = side - size + 1;
  const owners = horizontalOwners(basis);
  const passes: Float64Array[] = [];
  basis.terms.forEach((t, j) => {
    if (owners[j] !== j) return;
    passes[j] = new Float64Array(w * side);
    convolveValid(source, t.fx, passes[j], w, side, side, 1);
  });
  return basis.terms.map((t, j) => {
    const out = new Float64Array(w * w);
    convolveValid(passes[owners[j]], t.fy, out, w, w, w, w);
    return out;
  });
}

/**
 * Lower triangle and diagonal of the weighted normal matrix, sum_i weighted_a[i] * columns[b][i] for b <= a,
 * and the right-hand side, a few b at a time (each sum in the order of i, as one at a time).
 */
function normalEquations(
  columns: Float64Array[],
  weight: Float64Array,
  target: Float64Array,
): { normal: Float64Array; rhs: Float64Array } {
  const nc = columns.length;
  const n = weight.length;
  const normal = new Float64Array(nc * nc);
  const rhs = new Float64Array(nc);
  const weighted = new Float64Array(n);
  const set = (a: number, b: number, v: number) => {
    normal[a * nc + b] = v;
    normal[b * nc + a] = v;
  };
  for (let a = 0; a < nc; a++) {
    const ca = columns[a];
    let r = 0;
    for (let i = 0; i < n; i++) {
      weighted[i] = weight[i] * ca[i];
      r += weighted[i] * target[i];
    }
    rhs[a] = r;
    let b = 0;
    for (; b + BLOCK <= a + 1; b += BLOCK) {
      const c0 = columns[b],
        c1 = columns[b + 1],
        c2 = columns[b + 2],
        c3 = columns[b + 3];
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      for (let i = 0; i < n; i++) {
        const v = weighted[i];
        s0 += v * c0[i];
        s1 += v * c1[i];
        s2 += v * c2[i];
        s3 += v * c3[i];
      }
      set(a, b, s0);
      set(a, b + 1, s1);
      set(a, b + 2, s2);
      set(a, b + 3, s3);
    }
    for (; b <= a; b++) {
      const cb = columns[b];
      let s = 0;
      for (let i = 0; i < n; i++) s += weighted[i] * cb[i];
      set(a, b, s);
    }
  }
  return { normal, rhs };
}

/** A stamp's columns and normal equations, by `engine`'s arithmetic (kernel-engine.ts; the same bits). */
function prepare(stamp: CandidateStamp, basis: KernelBasis, engine?: KernelEngine): PreparedStamp {
  const wasm = stampPreparer(engine);
  if (wasm) return { stamp, ...wasm.prepare(stamp.source, stamp.target, stamp.weight, basis) };
  const side = Math.round(Math.sqrt(stamp.source.length));
  const columns = convolveBasis(stamp.source, side, basis);
  const first = columns[0];
  for (let j = 1; j < columns.length; j++) {
    const c = columns[j],
      k = basis.subtract[j];
    for (let i = 0; i < c.length; i++) c[i] = c[i] - k * first[i];
  }
  columns.push(new Float64Array(stamp.target.length).fill(1));
  const { normal, rhs } = normalEquations(columns, stamp.weight, stamp.target);
  return { stamp, columns, normal, rhs };
}

/**
 * Stamps claimed one at a time from the shared counter `claim` and prepared against `basis`, each with its index
 * (prepareStamps' shares: the thread that is free takes the next stamp).
 */
export function prepareClaimedTask(args: {
  stamps: CandidateStamp[];
  basis: KernelBasis;
  claim: Int32Array;
  engine?: KernelEngine;
}): Array<[number, PreparedStamp]> {
  const out: Array<[number, PreparedStamp]> = [];
  const { stamps, basis, claim, engine } = args;
  for (let i = Atomics.add(claim, 0, 1); i < stamps.length; i = Atomics.add(claim, 0, 1))
    out.push([i, prepare(stamps[i], basis, engine)]);
  return out;
}

const PREPARE = poolTask(import.meta.url, { prepareClaimedTask });

/**
 * Every stamp prepared against `basis` (the bulk of a fit's work), claimed stamp by stamp by this
 * thread and a pool worker (which may start late, busy with the difference mask): the same numbers,
 * in the same order, as on one thread.
 */
export async function prepareStamps(
  stamps: CandidateStamp[],
  basis: KernelBasis,
  pool: WorkerPool | null,
  engine?: KernelEngine,
): Promise<PreparedStamp[]> {
  if (!pool || pool.size === 0 || stamps.length < 2)
    return stamps.map((s) => prepare(s, basis, engine));
  const claim = new Int32Array(new SharedArrayBuffer(4));
  const far = pool.runTask(PREPARE, { stamps, basis, claim, engine });
  far.catch(() => {}); // awaited below, after this thread's share, which may throw first
  const out = new Array<PreparedStamp>(stamps.length);
  for (const [i, p] of prepareClaimedTask({ stamps, basis, claim, engine })) out[i] = p;
  for (const [i, p] of await far) out[i] = p;
  return out;
}

function residualStats(
  p: PreparedStamp,
  local: Float64Array,
): { mean: number; std: number; n: number } {
  const { target, weight } = p.stamp;
  // Column by column: each pixel's model summed in the order of the columns, as pixel by pixel.
  const model = new Float64Array(target.length);
  p.columns.forEach((column, a) => {
    const l = local[a];
    for (let i = 0; i < model.length; i++) model[i] += l * column[i];
  });
  let s = 0,
    ss = 0,
    n = 0;
  for (let i = 0; i < target.length; i++) {
    if (!(weight[i] > 0)) continue;
    const r = (target[i] - model[i]) * Math.sqrt(weight[i]);
    s += r;
    ss += r * r;
    n++;
  }
  const mean = s / n;
  return { mean, std: Math.sqrt(Math.max(0, ss / n - mean * mean)), n };
}

/** Layout of the global unknowns: [a0, c[1][0..M), ..., c[nb-1][0..M), bg[0..Mb)]. */
function localFromGlobal(
  theta: Float64Array,
  nb: number,
  pk: Float64Array,
  pb: Float64Array,
): Float64Array {
  const m = pk.length;
  const local = new Float64Array(nb + 1);
  local[0] = theta[0];
  for (let j = 1; j < nb; j++) {
    let s = 0;
    for (let t = 0; t < m; t++) s += theta[1 + (j - 1) * m + t] * pk[t];
    local[j] = s;
  }
  let bg = 0;
  const off = 1 + (nb - 1) * m;
  for (let t = 0; t < pb.length; t++) bg += theta[off + t] * pb[t];
  local[nb] = bg;
  return local;
}

/** Design map A_c (local = A_c theta) as parallel lists of (local index, global index, factor). */
function designMap(
  nb: number,
  pk: Float64Array,
  pb: Float64Array,
): { local: Int32Array; global: Int32Array; factor: Float64Array } {
  const m = pk.length;
  const count = 1 + (nb - 1) * m + pb.length;
  const local = new Int32Array(count),
    global = new Int32Array(count),
    factor = new Float64Array(count);
  factor[0] = 1;
  let p = 1;
  for (let j = 1; j < nb; j++)
    for (let t = 0; t < m; t++, p++)
      [local[p], global[p], factor[p]] = [j, 1 + (j - 1) * m + t, pk[t]];
  const off = 1 + (nb - 1) * m;
  for (let t = 0; t < pb.length; t++, p++) [local[p], global[p], factor[p]] = [nb, off + t, pb[t]];
  return { local, global, factor };
}

/** The spatial fit's normal equations summed over `items`. */
function spatialNormal(
  items: PreparedStamp[],
  nb: number,
  frame: SpatialFrame,
  ko: number,
  bo: number,
): { a: Float64Array; b: Float64Array } {
  const np = 1 + (nb - 1) * polyCount(ko) + polyCount(bo);
  const a = new Float64Array(np * np);
  const b = new Float64Array(np);
  const nc = nb + 1;
  for (const it of items) {
    const { local, global, factor } = designMap(
      nb,
      frame.terms(ko, it.stamp.x, it.stamp.y),
      frame.terms(bo, it.stamp.x, it.stamp.y),
    );
    for (let p = 0; p < local.length; p++) {
      const fi = factor[p],
        rowA = global[p] * np,
        rowN = local[p] * nc;
      b[global[p]] += fi * it.rhs[local[p]];
      for (let q = 0; q < local.length; q++)
        a[rowA + global[q]] += fi * factor[q] * it.normal[rowN + local[q]];
    }
  }
  return { a, b };
}

function spatialFit(
  items: PreparedStamp[],
  nb: number,
  frame: SpatialFrame,
  ko: number,
  bo: number,
): Float64Array {
  const { a, b } = spatialNormal(items, nb, frame, ko, bo);
  return solveSymmetric(a, b);
}

/**
 * Held-out chi^2 of spatial order `ko` by k-fold cross-validation (Hastie, Tibshirani & Friedman 2009,
 * sect. 7.10), less each stamp's constant t'Wt: with the local model l of a held-out stamp,
 * chi^2 = t'Wt - 2 l'r + l'N l from its prepared normal equations, and each fold's fit is the full
 * normal equations less the fold's own, so no pixel is revisited.
 */
function crossValidatedChi2(
  items: PreparedStamp[],
  nb: number,
  frame: SpatialFrame,
  ko: number,
  bo: number,
): number {
  const folds = Array.from({ length: CV_FOLDS }, (_, f) =>
    items.filter((_it, i) => i % CV_FOLDS === f),
  );
  const total = spatialNormal(items, nb, frame, ko, bo);
  const nc = nb + 1;
  let score = 0;
  for (const held of folds) {
    if (held.length === 0) continue;
    const own = spatialNormal(held, nb, frame, ko, bo);
    const theta = solveSymmetric(
      total.a.map((v, i) => v - own.a[i]),
      total.b.map((v, i) => v - own.b[i]),
    );
    for (const it of held) {
      const l = localFromGlobal(
        theta,
        nb,
        frame.terms(ko, it.stamp.x, it.stamp.y),
        frame.terms(bo, it.stamp.x, it.stamp.y),
      );
      for (let p = 0; p < nc; p++) {
        let nl = 0;
        for (let q = 0; q < nc; q++) nl += it.normal[p * nc + q] * l[q];
        score += l[p] * (nl - 2 * it.rhs[p]);
      }
    }
  }
  return score;
}

/** The order 0..ko with the least held-out chi^2, among those each fold's training set supports. */
export function crossValidatedOrder(
  items: PreparedStamp[],
  nb: number,
  frame: SpatialFrame,
  ko: number,
  bo: number,
): { order: number; scores: number[] } {
  const training = items.length - Math.ceil(items.length / CV_FOLDS);
  const scores: number[] = [];
  let order = 0;
  for (let o = 0; o <= ko && training >= 2 * polyCount(o); o++) {
    scores.push(crossValidatedChi2(items, nb, frame, o, bo));
    if (scores[o] < scores[order]) order = o;
  }
  return { order, scores };
}

/** Each used candidate's residuals under the spatial solution `theta`, into its report; the indices of the outliers. */
function spatialResiduals(
  prepared: PreparedStamp[],
  reports: CandidateReport[],
  theta: Float64Array,
  nb: number,
  frame: SpatialFrame,
  ko: number,
  bo: number,
  opt: KernelFitOptions,
): number[] {
  const bad: number[] = [];
  prepared.forEach((p, i) => {
    const rep = reports[i];
    if (rep.rejected) return;
    const local = localFromGlobal(
      theta,
      nb,
      frame.terms(ko, p.stamp.x, p.stamp.y),
      frame.terms(bo, p.stamp.x, p.stamp.y),
    );
    const r = residualStats(p, local);
    rep.residualMean = r.mean;
    rep.residualStd = r.std;
    if (Math.abs(r.mean) > opt.residualMeanMax || r.std > opt.residualStdMax) bad.push(i);
  });
  return bad;
}

/**
 * Fits the kernel solution on `stamps`; width/height define the spatial frame.
 * Falls back to lower spatial orders when too few candidates survive.
 */
/** Border candidates (stamps smaller than the largest) whose own fit is worse than `ratio` times the full stamps' median scatter. */
function rejectOddBorderStamps(
  prepared: PreparedStamp[],
  reports: CandidateReport[],
  ratio: number,
): void {
  const full = Math.max(...prepared.map((p) => p.stamp.target.length));
  const fullStd = reports
    .filter((r, i) => !r.rejected && prepared[i].stamp.target.length === full)
    .map((r) => r.residualStd);
  if (fullStd.length === 0 || !Number.isFinite(ratio)) return;
  const limit = ratio * median(fullStd);
  reports.forEach((r, i) => {
    if (!r.rejected && prepared[i].stamp.target.length < full && r.residualStd > limit)
      r.rejected = 'singleResidual';
  });
}

export function fitKernel(
  stamps: CandidateStamp[],
  basis: KernelBasis,
  width: number,
  height: number,
  opt: KernelFitOptions,
  prepared: PreparedStamp[] = stamps.map((s) => prepare(s, basis)),
): KernelFitResult {
  const nb = basis.terms.length;
  const frame = new SpatialFrame(width, height);
  const reports: CandidateReport[] = prepared.map((p) => {
    const local = solveSymmetric(p.normal, p.rhs);
    const r = residualStats(p, local);
    return {
      x: p.stamp.x,
      y: p.stamp.y,
      kernelSum: local[0],
      residualMean: r.mean,
      residualStd: r.std,
      rejected:
        r.n < MIN_PIXELS_PER_UNKNOWN * p.rhs.length || !Number.isFinite(local[0])
          ? 'degenerate'
          : '',
    };
  });
  for (const r of reports) {
    if (
      !r.rejected &&
      (Math.abs(r.residualMean) > opt.residualMeanMax || r.residualStd > opt.residualStdMax)
    )
      r.rejected = 'singleResidual';
  }
  rejectOddBorderStamps(prepared, reports, opt.borderResidualStdMax ?? Infinity);
  const sums = reports.filter((r) => !r.rejected).map((r) => r.kernelSum);
  if (sums.length >= 3) {
    const c = median(sums),
      s = madSigma(sums, c);
    for (const r of reports)
      if (!r.rejected && s > 0 && Math.abs(r.kernelSum - c) > opt.kernelSumSigmaMax * s)
        r.rejected = 'kernelSum';
  }
  // Whatever survives single fits is the pool; if it is empty, fit all that are not degenerate (a poor fit beats none).
  if (!reports.some((r) => !r.rejected))
    for (const r of reports) if (r.rejected !== 'degenerate') r.rejected = '';
  if (!reports.some((r) => !r.rejected)) throw new NoKernelCandidatesError();
  const fullPixels = Math.max(...prepared.map((p) => p.stamp.target.length));
  let ko = opt.spatialOrder,
    bo = opt.backgroundOrder;
  let theta: Float64Array = new Float64Array(0);
  for (let iter = 0; ; iter++) {
    const active = prepared.filter((_p, i) => !reports[i].rejected);
    // Each candidate constrains the kernel about as well as one free spatial term (a smaller border stamp in
    // proportion to its pixels): keep order <= what the count supports.
    const support = active.reduce((n, p) => n + p.stamp.target.length / fullPixels, 0);
    while (ko > 0 && support < 2 * polyCount(ko)) ko--;
    while (bo > 0 && support < 2 * polyCount(bo)) bo--;
    theta = spatialFit(active, nb, frame, ko, bo);
    const bad = spatialResiduals(prepared, reports, theta, nb, frame, ko, bo, opt);
    if (iter >= opt.maxIterations || bad.length === 0 || active.length - bad.length < 3) break;
    for (const i of bad) reports[i].rejected = 'spatialResidual';
  }
  if (opt.spatialOrderSelection === 'cv' && ko > 0) {
    const active = prepared.filter((_p, i) => !reports[i].rejected);
    const chosen = crossValidatedOrder(active, nb, frame, ko, bo).order;
    if (chosen < ko) {
      ko = chosen;
      theta = spatialFit(active, nb, frame, ko, bo);
      spatialResiduals(prepared, reports, theta, nb, frame, ko, bo, opt);
    }
  }
  const m = polyCount(ko);
  const coefficients: Float64Array[] = [];
  for (let j = 1; j < nb; j++) coefficients.push(theta.slice(1 + (j - 1) * m, 1 + j * m));
  const background = theta.slice(1 + (nb - 1) * m);
  const solution = new KernelSolution(
    basis,
    ko,
    bo,
    theta[0],
    coefficients,
    background,
    width,
    height,
  );
  return { solution, candidates: reports, used: reports.filter((r) => !r.rejected).length };
}
