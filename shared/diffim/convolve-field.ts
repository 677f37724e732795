/**
 * Convolution of a whole image by a spatially varying kernel through its low-rank form
 * K(x, y) = sum_m p_m(x, y) K_m: each K_m is applied once per FFT tile (overlap-save),
 * and the results are combined with the polynomial weights pixel by pixel. Exact for the
 * fitted polynomial kernel field; never a per-pixel kernel evaluation. Tiles are shared
 * between the main thread and a WorkerPool when one is given.
 */
import { Plane, type ImageF } from '../image/plane.js';
import { nextPow2 } from '../util/fft.js';
import { RealFft2, realKernelSpectrum, spectrumLength } from '../util/fft-real.js';
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
import { fieldArithmetic, type KernelEngine } from './kernel-engine.js';

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
  engine?: KernelEngine,
): void {
  const { width } = image;
  const plan = fieldPlan(image.width, image.height, solution, fftSize);
  const n = plan.fftSize;
  const arithmetic = fieldArithmetic(engine);
  const powers = polyPowers(solution.spatialOrder);
  const xiOrders = 1 + Math.max(...powers.map(([a]) => a));
  const maxEta = 1 + Math.max(...powers.map(([, b]) => b));
  const bgPowers = polyPowers(solution.backgroundOrder);
  const terms = solution.termKernels.length;
  const spectrum = spectrumLength(n);
  // One allocation (the WebAssembly engine's memory): the rows' planes last, back to back.
  const buffers = arithmetic.buffers(
    [
      n * n,
      width,
      solution.backgroundOrder + 1,
      spectrum,
      2 * n,
      2 * n,
      ...Array<number>(maxEta).fill(n),
      ...Array<number>(terms + xiOrders).fill(spectrum),
      ...Array<number>(xiOrders).fill(n * n),
    ],
    n,
  );
  const [window, xi, bgXi, source, product, column] = buffers.splice(0, 6);
  const etaPowers = buffers.splice(0, maxEta);
  const spectra = buffers.splice(0, terms);
  const groups = buffers.splice(0, xiOrders);
  const rows = buffers;
  const fft = arithmetic.transforms(n);
  const kernelFft = new RealFft2(n);
  solution.termKernels.forEach((k, m) =>
    realKernelSpectrum(kernelFft, k, solution.size, spectra[m]),
  );
  const frame = solution.frame;
  for (let x = 0; x < width; x++) xi[x] = frame.xi(x);
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
        arithmetic.multiplyColumn(source, spectra[m], k * col, product);
        fft.inverseConjugateColumn(product, column);
        const [a, b] = powers[m];
        arithmetic.weightRows(column, etaPowers[b], groups[a], k * col, r0, r1, opens[m]);
      }
    }
    groups.forEach((g, a) => fft.inverseRows(g, rows[a], r0, r1));
    for (let j = 0; j < tile.oh; j++) {
      const y = tile.oy + j;
      // The background along the row as a polynomial in xi: bgXi[a] = sum_b c_(a,b) eta^b.
      bgXi.fill(0);
      const eta = frame.eta(y);
      bgPowers.forEach(([a, b], q) => (bgXi[a] += solution.background[q] * eta ** b));
      const row = {
        row: out.row(y),
        y,
        x0: tile.ox,
        x1: tile.ox + tile.ow,
        base: (y - tile.wy) * n - tile.wx,
      };
      arithmetic.combineRow(
        row,
        rows,
        xi,
        bgXi,
        difference && {
          target: difference.target.row(y),
          divisor: difference.divisor,
          garbage: difference.garbage,
        },
      );
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
  engine?: KernelEngine;
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
    a.engine,
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
  engine?: KernelEngine,
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
      engine,
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
    (indices) =>
      convolveFieldShare(local, localOut, solution, fftSize, indices, difference, engine),
    () => ({ image: shared, out, solution: solution.toData(), fftSize, difference: data, engine }),
  );
  return localOut;
}

/** Sum of the squared kernel at (x, y): how much of a white input variance survives convolution. */
export function kernelSquaredSum(solution: KernelSolution, x: number, y: number): number {
  let s = 0;
  for (const v of solution.kernelAt(x, y)) s += v * v;
  return s;
}
