/**
 * Convolution of a whole image by a spatially varying kernel through its low-rank form
 * K(x, y) = sum_m p_m(x, y) K_m: each K_m is applied once per FFT tile (overlap-save),
 * and the results are combined with the polynomial weights pixel by pixel. Exact for the
 * fitted polynomial kernel field; never a per-pixel kernel evaluation. Tiles are shared
 * between the main thread and a WorkerPool when one is given.
 */
import { Plane, type ImageF } from '../image/plane.js';
import { nextPow2 } from '../util/fft.js';
import { RealFft2, realKernelSpectrum } from '../util/fft-real.js';
import { loadTile, outputRows } from '../util/real-tiles.js';
import { claimTiles, runClaimedTiles } from '../util/parallel-tiles.js';
import {
  asShared,
  fromShared,
  sharedOrCopy,
  toShared,
  type SharedPlane,
} from '../util/shared-plane.js';
import { planTiles, type TilePlan } from '../util/tiles.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { KernelSolution, type KernelSolutionData } from './kernel-solution.js';
import { polyPowers } from './spatial.js';
import { poolTask } from '../util/pool-task.js';

function fieldPlan(
  width: number,
  height: number,
  solution: KernelSolution,
  fftSize: number,
): TilePlan {
  const n = fftSize >= 4 * solution.size ? fftSize : nextPow2(4 * solution.size);
  return planTiles(width, height, { fftSize: n, halo: (solution.size - 1) / 2, blend: 0 });
}

/**
 * The convolved tiles turned into the difference as they are written: target - convolved, or
 * (convolved - target) / divisor when the science is the convolved image (AL-CONVSCI, divisor the
 * kernel sum, so the difference stays in science units). Masked garbage of the convolved image is
 * read as 0 (`sourceGarbage`), and the difference is set to 0 where `garbage` bits are set.
 */
export interface FieldDifference {
  target: ImageF;
  divisor: number | null;
  sourceGarbage?: { mask: Plane<Int32Array>; bits: number };
  garbage?: { mask: Plane<Int32Array>; bits: number };
}

/** Row y's convolved pixels [x0, x1) (as written, float32) replaced by the difference. */
function subtractRow(
  d: FieldDifference,
  y: number,
  row: Float32Array,
  x0: number,
  x1: number,
): void {
  const t = d.target.row(y);
  const divisor = d.divisor;
  if (divisor === null) for (let x = x0; x < x1; x++) row[x] = t[x] - row[x];
  else for (let x = x0; x < x1; x++) row[x] = -(t[x] - row[x]) / divisor;
  if (!d.garbage) return;
  const m = d.garbage.mask.row(y),
    bits = d.garbage.bits;
  for (let x = x0; x < x1; x++) if (m[x] & bits) row[x] = 0;
}

/** out = the conjugate of column `from` of the half spectra a and b multiplied (2 n values: a column's length). */
function multiplyColumn(a: Float64Array, b: Float64Array, from: number, out: Float64Array): void {
  for (let i = 0; i < out.length; i += 2) {
    const ar = a[from + i],
      ai = a[from + i + 1],
      br = b[from + i],
      bi = b[from + i + 1];
    out[i] = ar * br - ai * bi;
    out[i + 1] = -(ar * bi + ai * br);
  }
}

/** Rows [r0, r1) of `column` times weight[y], written (`set`) or added into the half spectrum g's column at `from`. */
function weightRows(
  column: Float64Array,
  weight: Float64Array,
  g: Float64Array,
  from: number,
  r0: number,
  r1: number,
  set: boolean,
): void {
  if (set)
    for (let y = r0, i = 2 * r0; y < r1; y++, i += 2) {
      g[from + i] = weight[y] * column[i];
      g[from + i + 1] = weight[y] * column[i + 1];
    }
  else
    for (let y = r0, i = 2 * r0; y < r1; y++, i += 2) {
      g[from + i] += weight[y] * column[i];
      g[from + i + 1] += weight[y] * column[i + 1];
    }
}

/**
 * Convolves the tiles `indices` of `image` into `out` (image * K + background).
 * With p_m = xi^a eta^b, sum_m p_m (K_m * S) = sum_a xi^a IFFT_rows(sum_b eta^b IFFT_cols(S K_m)):
 * each term needs its own column pass, but terms sharing a power of xi share one row pass.
 */
export function convolveFieldShare(
  image: ImageF,
  out: ImageF,
  solution: KernelSolution,
  fftSize: number,
  indices: Iterable<number>,
  difference?: FieldDifference,
): void {
  const { width } = image;
  const plan = fieldPlan(image.width, image.height, solution, fftSize);
  const n = plan.fftSize;
  const fft = new RealFft2(n);
  const spectra = solution.termKernels.map((k) => realKernelSpectrum(fft, k, solution.size));
  const powers = polyPowers(solution.spatialOrder);
  const xiOrders = 1 + Math.max(...powers.map(([a]) => a));
  const frame = solution.frame;
  const xi = Float64Array.from({ length: width }, (_v, x) => frame.xi(x));
  const bgPowers = polyPowers(solution.backgroundOrder);
  const bgXi = new Float64Array(solution.backgroundOrder + 1);
  const window = new Float64Array(n * n);
  const source = fft.allocSpectrum();
  const product = new Float64Array(2 * n),
    column = new Float64Array(2 * n);
  const groups = Array.from({ length: xiOrders }, () => fft.allocSpectrum());
  const rows = Array.from({ length: xiOrders }, () => new Float64Array(n * n));
  const maxEta = 1 + Math.max(...powers.map(([, b]) => b));
  const etaPowers = Array.from({ length: maxEta }, () => new Float64Array(n));
  // The first term of each xi power is written into its group, the others added.
  const opens = powers.map(([a], m) => powers.findIndex(([a2]) => a2 === a) === m);
  const col = 2 * n;
  for (const t of indices) {
    const tile = plan.tiles[t];
    fft.forward(window, source, ...loadTile(image, tile, n, window, difference?.sourceGarbage));
    const [r0, r1] = outputRows(tile);
    for (let b = 0; b < maxEta; b++)
      for (let y = r0; y < r1; y++) etaPowers[b][y] = frame.eta(tile.wy + y) ** b;
    // Column by column, while it is in cache: each term's product, its column pass, its eta weights.
    for (let k = 0; k < fft.columns; k++) {
      for (let m = 0; m < powers.length; m++) {
        multiplyColumn(source, spectra[m], k * col, product);
        fft.inverseConjugateColumn(product, column);
        const [a, b] = powers[m];
        weightRows(column, etaPowers[b], groups[a], k * col, r0, r1, opens[m]);
      }
    }
    groups.forEach((g, a) => fft.inverseRows(g, rows[a], r0, r1));
    for (let j = 0; j < tile.oh; j++) {
      const y = tile.oy + j;
      // The background along the row as a polynomial in xi: bgXi[a] = sum_b c_(a,b) eta^b.
      bgXi.fill(0);
      const eta = frame.eta(y);
      bgPowers.forEach(([a, b], q) => (bgXi[a] += solution.background[q] * eta ** b));
      const row = out.row(y);
      const base = (y - tile.wy) * n - tile.wx;
      // Horner in xi over the row-pass outputs and over the background, per pixel from v = 0, bg = 0.
      for (let x = tile.ox; x < tile.ox + tile.ow; x++) {
        const s = xi[x];
        let v = 0,
          b = 0;
        for (let a = xiOrders - 1; a >= 0; a--) v = v * s + rows[a][base + x];
        for (let a = bgXi.length - 1; a >= 0; a--) b = b * s + bgXi[a];
        row[x] = b + v;
      }
      if (difference) subtractRow(difference, y, row, tile.ox, tile.ox + tile.ow);
    }
  }
}

/** A mask plane on a SharedArrayBuffer (Int32), for workers. */
interface SharedMask {
  data: Int32Array;
  width: number;
  height: number;
  bits: number;
}

const toSharedMask = (z: { mask: Plane<Int32Array>; bits: number }): SharedMask => {
  const { data, width, height } = sharedOrCopy(z.mask);
  return { data, width, height, bits: z.bits };
};

const fromSharedMask = (
  z: SharedMask | undefined,
): { mask: Plane<Int32Array>; bits: number } | undefined =>
  z && { mask: new Plane(z.data, z.width, z.height), bits: z.bits };

/** FieldDifference with its planes on shared memory. */
interface FieldDifferenceData {
  target: SharedPlane;
  divisor: number | null;
  sourceGarbage?: SharedMask;
  garbage?: SharedMask;
}

export interface ConvolveFieldArgs {
  image: SharedPlane;
  out: SharedPlane;
  solution: KernelSolutionData;
  fftSize: number;
  difference?: FieldDifferenceData;
  /** The shared tile counter and the tile count (parallel-tiles.ts runClaimedTiles). */
  claim: Int32Array;
  count: number;
}

/** Worker side of convolveKernelField. */
export function convolveFieldWorker(a: ConvolveFieldArgs): void {
  convolveFieldShare(
    fromShared(a.image),
    fromShared(a.out),
    KernelSolution.fromData(a.solution),
    a.fftSize,
    claimTiles(a.claim, a.count),
    a.difference && {
      target: fromShared(a.difference.target),
      divisor: a.difference.divisor,
      sourceGarbage: fromSharedMask(a.difference.sourceGarbage),
      garbage: fromSharedMask(a.difference.garbage),
    },
  );
}

/**
 * image convolved with the solution's kernel field, plus its differential background; given
 * `difference`, the difference made from it, pixel by pixel as each tile is written. With a pool
 * the output is on shared memory.
 */
export async function convolveKernelField(
  image: ImageF,
  solution: KernelSolution,
  fftSize: number,
  pool: WorkerPool | null = null,
  difference?: FieldDifference,
): Promise<ImageF> {
  const plan = fieldPlan(image.width, image.height, solution, fftSize);
  if (!pool || pool.size === 0 || plan.tiles.length < 4) {
    const out = Plane.zeros(Float32Array, image.width, image.height);
    convolveFieldShare(
      image,
      out,
      solution,
      fftSize,
      plan.tiles.map((_t, i) => i),
      difference,
    );
    return out;
  }
  const shared = asShared(image);
  const out = toShared({ width: image.width, height: image.height });
  const local = fromShared(shared),
    localOut = fromShared(out);
  const data: FieldDifferenceData | undefined = difference && {
    target: asShared(difference.target),
    divisor: difference.divisor,
    sourceGarbage: difference.sourceGarbage && toSharedMask(difference.sourceGarbage),
    garbage: difference.garbage && toSharedMask(difference.garbage),
  };
  await runClaimedTiles(
    plan,
    pool,
    poolTask(import.meta.url, { convolveFieldWorker }),
    (indices) => convolveFieldShare(local, localOut, solution, fftSize, indices, difference),
    () => ({ image: shared, out, solution: solution.toData(), fftSize, difference: data }),
  );
  return localOut;
}

/** Sum of the squared kernel at (x, y): how much of a white input variance survives convolution. */
export function kernelSquaredSum(solution: KernelSolution, x: number, y: number): number {
  let s = 0;
  for (const v of solution.kernelAt(x, y)) s += v * v;
  return s;
}
