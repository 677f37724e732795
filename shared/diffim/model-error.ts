/**
 * The subtraction's model error on static sources, added to the difference's variance. A smooth
 * kernel never matches a bright source's core exactly, and what it leaves scales with the source,
 * not with the noise. Write the kernel's error as dK; its residual on the static scene M (the
 * warped template on the difference's scale) is dK * M, whose first two moments give
 * f M + dx . grad M (flux scale, registration). Taking each as an independent error of zero mean,
 * the residual's variance at a pixel is f^2 M^2 + sigma_a^2 |grad M|^2: ZOGY's flux-scale and
 * astrometric-noise terms (Zackay, Ofek & Gal-Yam 2016, ApJ 830, 27, sec. 3.3, eqs. 30-33).
 * On blank sky M ~ 0 and the variance is untouched; a transient, absent from the template, gets
 * no extra variance. Both coefficients are measured on each difference (measureModelError: the
 * excess of the squared residual over the variance, regressed on the two terms over the
 * template's bright pixels). A variable star's change looks like a flux-scale error and would be
 * weighed down with it, and a least-squares fit of noise alone gives positive terms half the time,
 * so the terms are measured only where the kernel's failure is plain: when most compact cores
 * (connected groups of those pixels) hold a residual chi^2 beyond its 99.9 % point under noise
 * alone (the gate, `minCoresBeyondNoise`; a median test, so a minority of variables cannot open
 * it). Clean ap simulate pairs have 2-36 % of such cores (variables among them) and stay at 0; the
 * JWST NIRCam pair has 79 % (shared/diffim/README.md). (A third, PSF-width term in lap M was
 * tried: the template's noise in its Laplacian outweighs it on this scale.)
 */
import type { Exposure } from '../image/exposure.js';
import { UNUSABLE } from '../image/mask.js';
import type { ImageF } from '../image/plane.js';
import { solveSymmetric } from '../util/linalg.js';
import { poolTask } from '../util/pool-task.js';
import { planeDataOf, planeOf, sharedOrCopy, type PlaneData } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';

export interface ModelErrorConfig {
  /** Measure both terms on each difference where the gate opens (default true); false uses the floors below as given. */
  measure: boolean;
  /**
   * The gate: the terms are measured only when at least this share of the compact cores has a
   * residual chi^2 beyond its 99.9 % point under the variance alone (default 0.5, a majority:
   * variables and transients on static sources are a minority of the cores, a kernel that misses
   * the cores misses most of them); 0 measures on every difference.
   */
  minCoresBeyondNoise: number;
  /**
   * Fewer compact cores than this and the gate stays shut (default 10): a majority of a handful
   * of stars may be two or three variables (DECam mini: 3 of 4 cores beyond, and the variance
   * would unbalance a bright star's residual into one more detection).
   */
  minCores: number;
  /** Flux-scale error f, a fraction: floor under the measured value (default 0). */
  fluxFraction: number;
  /** Registration error sigma_a per axis, px: floor under the measured value (default 0). */
  astrometricSigmaPx: number;
  /**
   * Pixels whose static model, less its mean over a box of compactBoxFwhm PSF FWHMs, exceeds this
   * many noise sigmas enter the measurement (default 10): compact sources' cores, not diffuse
   * light, whose leftover background in the difference is no kernel error.
   */
  minModelSigmas: number;
  /** Side of that box, PSF FWHMs (default 4). */
  compactBoxFwhm: number;
  /** Fewer such pixels than this and nothing is measured: the floors apply (default 100). */
  minPixels: number;
}

export const DEFAULT_MODEL_ERROR_CONFIG: ModelErrorConfig = {
  measure: true,
  minCoresBeyondNoise: 0.5,
  minCores: 10,
  fluxFraction: 0,
  astrometricSigmaPx: 0,
  minModelSigmas: 10,
  compactBoxFwhm: 4,
  minPixels: 100,
};

/** The model error used on one difference (the MODERRF and MODERRA header cards). */
export interface ModelError {
  fluxFraction: number;
  astrometricSigmaPx: number;
  /** Pixels the measurement used (0: the floors as given). */
  pixels: number;
  /** Compact cores (connected groups of the candidate pixels) and the share beyond the noise: the gate's figures (MODERRX). */
  cores: number;
  coresBeyondNoise: number;
}

/** The model error of a difference not measured (ZOGY's, or the floors of 0): no variance added. */
export const NO_MODEL_ERROR: Readonly<ModelError> = {
  fluxFraction: 0,
  astrometricSigmaPx: 0,
  pixels: 0,
  cores: 0,
  coresBeyondNoise: 0,
};

/** What the measurement reads of the difference. */
type DifferencePlanes = Pick<Exposure, 'width' | 'height' | 'image' | 'mask' | 'variance'>;

/** Residuals beyond this many predicted sigmas (a transient on a static source) leave the regression. */
const OUTLIER_SIGMAS = 5;
const REGRESSION_ROUNDS = 5;
const TERMS = 2;
/** Standard-normal point of the gate's one-sided 99.9 % (a core's chi^2 beyond the noise). */
const BEYOND_NOISE_Z = 3.0902;

/** The upper point of chi^2 with k degrees of freedom at standard-normal z (Wilson & Hilferty 1931). */
function chiSquarePoint(k: number, z: number): number {
  const a = 2 / (9 * k);
  return k * Math.max(0, 1 - a + z * Math.sqrt(a)) ** 3;
}

/** M^2 and |grad M|^2 of `m` at (x, y): central differences, clamped at the edges. */
function terms(m: ImageF, x: number, y: number, out: Float64Array): Float64Array {
  const xl = Math.max(0, x - 1),
    xr = Math.min(m.width - 1, x + 1),
    yl = Math.max(0, y - 1),
    yr = Math.min(m.height - 1, y + 1);
  const c = m.get(x, y);
  const gx = (m.get(xr, y) - m.get(xl, y)) / (xr - xl || 1),
    gy = (m.get(x, yr) - m.get(x, yl)) / (yr - yl || 1);
  out[0] = c * c;
  out[1] = gx * gx + gy * gy;
  return out;
}

/** The coefficients' squares as ModelError fields, each at least its floor. */
function toModelError(
  c: ArrayLike<number>,
  cfg: ModelErrorConfig,
  pixels: number,
  gate: { cores: number; coresBeyondNoise: number } = { cores: 0, coresBeyondNoise: 0 },
): ModelError {
  return {
    fluxFraction: Math.max(cfg.fluxFraction, Math.sqrt(c[0])),
    astrometricSigmaPx: Math.max(cfg.astrometricSigmaPx, Math.sqrt(c[1])),
    pixels,
    ...gate,
  };
}

/**
 * The gate's figures: `selected` (flat indices of the candidate pixels, 1) grouped into
 * 4-connected cores, and the share of cores whose sum of d^2 / var is beyond the noise's
 * 99.9 % point for as many pixels. `starts`: the selected pixels, ascending (each core is
 * flooded from its first). Clears `selected` as it goes.
 */
function coresBeyondNoise(
  difference: DifferencePlanes,
  selected: Uint8Array,
  starts: Int32Array,
): { cores: number; coresBeyondNoise: number } {
  const { width, height } = difference;
  const d = difference.image,
    v = difference.variance;
  let cores = 0,
    beyond = 0;
  const stack: number[] = [];
  const visit = (j: number): void => {
    if (selected[j]) {
      selected[j] = 0;
      stack.push(j);
    }
  };
  for (const start of starts) {
    if (!selected[start]) continue;
    selected[start] = 0;
    stack.push(start);
    let k = 0,
      chi2 = 0;
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % width,
        y = (i - x) / width;
      k++;
      chi2 += d.get(x, y) ** 2 / v.get(x, y);
      // The 4 neighbours, in the order left, right, up, down (the flood's order sets the sum's rounding).
      if (x > 0) visit(i - 1);
      if (x < width - 1) visit(i + 1);
      if (y > 0) visit(i - width);
      if (y < height - 1) visit(i + width);
    }
    cores++;
    if (chi2 > chiSquarePoint(k, BEYOND_NOISE_Z)) beyond++;
  }
  return { cores, coresBeyondNoise: cores ? beyond / cores : 0 };
}

/** Where a pass over the rows stopped: the next row, and the box's column sums there (forEachBoxMeanRow). */
export interface BoxBand {
  y: number;
  column: Float64Array;
}

/**
 * The measurement's candidate pixels (flat indices, ascending): where the static model less its
 * mean over a box of compactBoxFwhm PSF FWHMs exceeds minModelSigmas sqrt(var) of `variance`,
 * the difference's. Only the warped template and the variance are read (not the difference's
 * pixels or mask), so it runs while the difference is finished (compactPixelsInTwo).
 */
export function compactPixels(
  template: ImageF,
  variance: ImageF,
  scale: number,
  fwhmPx: number,
  config: Partial<ModelErrorConfig> = {},
): Int32Array {
  return compactPixelRows(template, variance, scale, fwhmPx, config, null, template.height).pixels;
}

/**
 * compactPixels of rows [from.y, until) (from row 0 when `from` is null), resumed where a
 * previous pass stopped: the same sums, so the same pixels as one pass. Returns where it stopped.
 */
function compactPixelRows(
  template: ImageF,
  variance: ImageF,
  scale: number,
  fwhmPx: number,
  config: Partial<ModelErrorConfig>,
  from: BoxBand | null,
  until: number,
): { pixels: Int32Array; band: BoxBand } {
  const cfg = { ...DEFAULT_MODEL_ERROR_CONFIG, ...config };
  const width = template.width;
  const out: number[] = [];
  const minSq = cfg.minModelSigmas ** 2;
  const side = Math.max(3, Math.round(cfg.compactBoxFwhm * fwhmPx));
  const each = (y: number, lr: Float64Array): void => {
    const tr = template.row(y),
      v = variance.row(y);
    for (let x = 0; x < width; x++) {
      const compact = scale * (tr[x] - lr[x]);
      // compact |compact| > minSq var holds for every candidate and fails on most of the sky (half
      // of it below its local mean): one comparison without a branch on the sign settles those.
      if (!(compact * Math.abs(compact) > minSq * v[x])) continue;
      if (compact > 0 && v[x] > 0) out.push(y * width + x);
    }
  };
  const band = forEachBoxMeanRow(template, side, each, from, until);
  return { pixels: Int32Array.from(out), band };
}

/** compactPixelRows' arguments as they cross to a pool worker (planes on shared memory). */
export interface CompactPixelsJob {
  template: PlaneData<Float32Array>;
  variance: PlaneData<Float32Array>;
  scale: number;
  fwhmPx: number;
  config: Partial<ModelErrorConfig>;
  from: BoxBand | null;
  until: number;
}

/** Worker side of compactPixelsInTwo. */
export function compactPixelsTask(job: CompactPixelsJob): { pixels: Int32Array; band: BoxBand } {
  const [template, variance] = [planeOf(job.template), planeOf(job.variance)];
  return compactPixelRows(
    template,
    variance,
    job.scale,
    job.fwhmPx,
    job.config,
    job.from,
    job.until,
  );
}

/** Share of the rows compactPixelsInTwo's first pass takes (its second fills a shorter gap). */
const FIRST_PASS_ROWS = 0.5;

/** compactPixels in two passes on a pool worker: `start` posts the first, `result` the rest. */
export interface CompactPasses {
  /** Posts the first rows (FIRST_PASS_ROWS of them); once only. */
  start(): void;
  /** Posts the rest (and the first, when not started) and resolves to every row's pixels. */
  result(): Promise<Int32Array>;
}

/**
 * compactPixels on `pool`'s worker in two passes over the rows, the second resuming where the
 * first stopped (the same pixels as one pass), so that each fills a moment the worker would
 * otherwise idle (output.ts); without a pool, computed in `result`.
 */
export function compactPixelsInTwo(
  template: ImageF,
  variance: ImageF,
  scale: number,
  fwhmPx: number,
  config: Partial<ModelErrorConfig>,
  pool: WorkerPool | null,
): CompactPasses {
  if (!pool || pool.size === 0)
    return {
      start: () => {},
      result: () => Promise.resolve(compactPixels(template, variance, scale, fwhmPx, config)),
    };
  const base = {
    template: planeDataOf(sharedOrCopy(template)),
    variance: planeDataOf(sharedOrCopy(variance)),
    scale,
    fwhmPx,
    config,
  };
  const task = poolTask(import.meta.url, { compactPixelsTask });
  const split = Math.round(template.height * FIRST_PASS_ROWS);
  let first: Promise<{ pixels: Int32Array; band: BoxBand }> | null = null;
  const start = (): void => {
    first ??= pool.runTask(task, { ...base, from: null, until: split });
    first.catch(() => {}); // awaited in result
  };
  return {
    start,
    result: async () => {
      start();
      const head = await first!;
      const tail = await pool.runTask(task, { ...base, from: head.band, until: template.height });
      const out = new Int32Array(head.pixels.length + tail.pixels.length);
      out.set(head.pixels);
      out.set(tail.pixels, head.pixels.length);
      return out;
    },
  };
}

/**
 * The model error of `difference`, the static scene being `scale * template` (the warped template
 * on the difference's grid times its photometric scale to the difference's units): over usable
 * pixels of compact sources (M less its local mean > minModelSigmas sqrt(var)), when the gate
 * opens (most of their cores beyond the noise), weighted non-negative least squares of d^2 - var
 * on the two terms, weights 1 / (predicted variance)^2, outliers clipped. `fwhmPx`: the PSF FWHM, px.
 * `candidates`: compactPixels of the difference's variance, when already at hand.
 */
export function measureModelError(
  difference: DifferencePlanes,
  template: ImageF,
  scale: number,
  fwhmPx: number,
  config: Partial<ModelErrorConfig> = {},
  candidates?: Int32Array,
): ModelError {
  const cfg = { ...DEFAULT_MODEL_ERROR_CONFIG, ...config };
  if (!cfg.measure || !Number.isFinite(scale)) return toModelError([0, 0], cfg, 0);
  const { width, height } = difference;
  const t = new Float64Array(TERMS);
  // Pixel i's difference d and variance v, and its terms in t; false: not usable, or not finite.
  let d = 0,
    v = 0;
  const read = (i: number): boolean => {
    const x = i % width,
      y = (i - x) / width;
    if (difference.mask.get(x, y) & UNUSABLE) return false;
    d = difference.image.get(x, y);
    v = difference.variance.get(x, y);
    terms(template, x, y, t);
    for (let k = 0; k < TERMS; k++) if (!Number.isFinite(t[k])) return false;
    return Number.isFinite(d);
  };
  const all = candidates ?? compactPixels(template, difference.variance, scale, fwhmPx, config);
  const used = new Int32Array(all.length);
  const selected = new Uint8Array(width * height);
  let n = 0;
  for (const i of all) {
    if (!read(i)) continue;
    used[n++] = i;
    selected[i] = 1;
  }
  const gate = coresBeyondNoise(difference, selected, used.subarray(0, n));
  if (
    n < cfg.minPixels ||
    gate.cores < cfg.minCores ||
    gate.coresBeyondNoise < cfg.minCoresBeyondNoise
  )
    return toModelError([0, 0], cfg, 0, gate);
  // Per pixel, only once the gate opens: d^2 - var, var, then the terms on the difference's scale.
  const rows = new Float64Array(n * (TERMS + 2));
  for (let k = 0; k < n; k++) {
    read(used[k]);
    const o = k * (TERMS + 2);
    rows[o] = d * d - v;
    rows[o + 1] = v;
    for (let j = 0; j < TERMS; j++) rows[o + 2 + j] = t[j] * scale * scale;
  }
  let c: ArrayLike<number> = new Float64Array(TERMS);
  for (let round = 0; round < REGRESSION_ROUNDS; round++) {
    const a = new Float64Array(TERMS * TERMS),
      b = new Float64Array(TERMS);
    for (let i = 0; i < rows.length; i += TERMS + 2) {
      const r = rows[i],
        v = rows[i + 1];
      let predicted = v;
      for (let k = 0; k < TERMS; k++) predicted += c[k] * rows[i + 2 + k];
      if (round > 0 && r + v > OUTLIER_SIGMAS ** 2 * predicted) continue;
      const w = 1 / (predicted * predicted);
      for (let k = 0; k < TERMS; k++) {
        b[k] += w * rows[i + 2 + k] * r;
        for (let j = 0; j < TERMS; j++) a[k * TERMS + j] += w * rows[i + 2 + k] * rows[i + 2 + j];
      }
    }
    c = nonNegative(a, b);
  }
  return toModelError(c, cfg, n, gate);
}

/**
 * Calls `each(y, mean)` for each row y in order, `mean` holding the mean of `p` over a box of side
 * `side` about each pixel of that row (clipped at the edges; non-finite pixels count as 0): sums
 * of columns over a sliding band of rows, so only O(width) memory (a 4k image's summed-area table
 * was 134 MB). Rows [from.y, until) (from row 0 when `from` is null), resuming a previous pass
 * with its column sums; returns where it stopped.
 */
function forEachBoxMeanRow(
  p: ImageF,
  side: number,
  each: (y: number, mean: Float64Array) => void,
  from: BoxBand | null,
  until: number,
): BoxBand {
  const { width: w, height: h } = p;
  const half = Math.floor(side / 2);
  const column = from ? Float64Array.from(from.column) : new Float64Array(w),
    prefix = new Float64Array(w + 1),
    mean = new Float64Array(w);
  const empty = new Float32Array(w);
  if (!from) for (let y = 0; y < Math.min(h, half); y++) slide(column, p.row(y), empty);
  for (let y = from ? from.y : 0; y < until; y++) {
    // The band gains row y + half and loses row y - half - 1, and the row's prefix sums follow.
    const enter = y + half < h ? p.row(y + half) : empty,
      leave = y - half - 1 >= 0 ? p.row(y - half - 1) : empty;
    const rows = Math.min(h, y + half + 1) - Math.max(0, y - half);
    slide(column, enter, leave, prefix);
    // The box is clipped only within `half` of either edge: the interior's divisor is one number.
    const inner = Math.min(w, half + 1),
      outer = Math.max(inner, w - half);
    for (let x = 0; x < inner; x++) {
      const x1 = Math.min(w, x + half + 1);
      mean[x] = prefix[x1] / (x1 * rows);
    }
    const area = (2 * half + 1) * rows;
    for (let x = inner; x < outer; x++) mean[x] = (prefix[x + half + 1] - prefix[x - half]) / area;
    for (let x = outer; x < w; x++) {
      const x0 = Math.max(0, x - half);
      mean[x] = (prefix[w] - prefix[x0]) / ((w - x0) * rows);
    }
    each(y, mean);
  }
  return { y: until, column };
}

/**
 * column[x] += enter[x], then -= leave[x] (non-finite pixels count as 0: the same sums as adding
 * and subtracting them in two passes), and prefix[x + 1] the sum of column[0 .. x] when given.
 */
function slide(
  column: Float64Array,
  enter: Float32Array,
  leave: Float32Array,
  prefix?: Float64Array,
): void {
  let sum = 0;
  for (let x = 0; x < column.length; x++) {
    let c = column[x];
    const a = enter[x],
      b = leave[x];
    // a - a is 0 exactly when a is finite.
    if (a - a === 0) c += a;
    if (b - b === 0) c -= b;
    column[x] = c;
    if (prefix) prefix[x + 1] = sum += c;
  }
}

/** Non-negative solution of a x = b (a symmetric): the most negative coefficient is dropped until none is. */
function nonNegative(a: Float64Array, b: Float64Array): Float64Array {
  const n = b.length;
  const active = Array.from({ length: n }, (_, i) => i);
  for (;;) {
    const sub = new Float64Array(active.length ** 2);
    active.forEach((i, p) => active.forEach((j, q) => (sub[p * active.length + q] = a[i * n + j])));
    const x = active.length
      ? solveSymmetric(
          sub,
          Float64Array.from(active, (i) => b[i]),
        )
      : [];
    let worst = -1;
    for (let p = 0; p < active.length; p++)
      if (!(x[p] >= 0) && (worst < 0 || x[p] < x[worst])) worst = p;
    if (worst < 0) {
      const out = new Float64Array(n);
      active.forEach((i, p) => (out[i] = x[p]));
      return out;
    }
    active.splice(worst, 1);
  }
}

/**
 * Adds the model-error variance of the static scene `scale * template` to `difference.variance`.
 * Returns the fraction of pixels whose variance more than doubled.
 */
export function addModelErrorVariance(
  difference: Exposure,
  template: ImageF,
  scale: number,
  error: ModelError,
): number {
  const { width, height } = difference;
  const c = [error.fluxFraction, error.astrometricSigmaPx].map((q) => q * q * scale * scale);
  if (!c.some((q) => q > 0) || !Number.isFinite(scale)) return 0;
  const t = new Float64Array(TERMS);
  let grown = 0;
  for (let y = 0; y < height; y++) {
    const v = difference.variance.row(y);
    for (let x = 0; x < width; x++) {
      terms(template, x, y, t);
      const extra = c[0] * t[0] + c[1] * t[1];
      if (!Number.isFinite(extra)) continue;
      if (extra > v[x]) grown++;
      v[x] += extra;
    }
  }
  return grown / (width * height);
}

/** measureModelError's arguments as they cross to a pool worker (planes on shared memory). */
export interface MeasureModelErrorJob {
  image: PlaneData<Float32Array>;
  mask: PlaneData<Int32Array>;
  variance: PlaneData<Float32Array>;
  template: PlaneData<Float32Array>;
  scale: number;
  fwhmPx: number;
  config: Partial<ModelErrorConfig>;
  candidates?: Int32Array;
}

/** Worker side of modelErrorAsync. */
export function measureModelErrorTask(job: MeasureModelErrorJob): ModelError {
  const image = planeOf(job.image);
  const difference = {
    width: image.width,
    height: image.height,
    image,
    mask: planeOf(job.mask),
    variance: planeOf(job.variance),
  };
  const template = planeOf(job.template);
  return measureModelError(difference, template, job.scale, job.fwhmPx, job.config, job.candidates);
}

const onShared = (p: ImageF | Exposure['mask']): boolean =>
  p.contiguous && p.data.buffer instanceof SharedArrayBuffer;

/**
 * The model error of a subtraction's difference against the warped template it was made from, AL
 * and AL-CONVSCI (measureModelError; ZOGY's S_corr carries these terms itself): on `pool`'s worker
 * when the planes are on shared memory, so that this thread measures the noise meanwhile (output.ts,
 * which then adds its variance, addModelErrorVariance). `candidates`: compactPixels of the
 * difference, when computed beforehand (compactPixelsAsync).
 */
export async function modelErrorAsync(
  result: {
    method: string;
    difference: Exposure;
    kernelSum: number;
    psfFwhmPx: number;
  },
  warpedTemplate: Exposure,
  config: Partial<ModelErrorConfig>,
  candidates: Int32Array | undefined,
  pool: WorkerPool | null,
): Promise<ModelError> {
  // ZOGY's S_corr carries these terms itself (zogyAstrometricSigmaPx, zogyPsfErrorFraction), and its D has its own PSF.
  if (result.method === 'ZOGY') return { ...NO_MODEL_ERROR };
  const { difference, kernelSum: scale, psfFwhmPx: fwhmPx } = result;
  const template = warpedTemplate.image;
  const planes = [difference.image, difference.mask, difference.variance, template];
  if (!pool || pool.size === 0 || !planes.every(onShared))
    return measureModelError(difference, template, scale, fwhmPx, config, candidates);
  return pool.runTask(poolTask(import.meta.url, { measureModelErrorTask }), {
    image: planeDataOf(difference.image),
    mask: planeDataOf(difference.mask),
    variance: planeDataOf(difference.variance),
    template: planeDataOf(template),
    scale,
    fwhmPx,
    config,
    candidates,
  });
}
