/**
 * Convolution of a whole image by a spatially varying kernel through its low-rank form
 * K(x, y) = sum_m p_m(x, y) K_m: each K_m is applied once per FFT tile (overlap-save),
 * and the results are combined with the polynomial weights pixel by pixel. Exact for the
 * fitted polynomial kernel field; never a per-pixel kernel evaluation. Tiles are shared
 * between the main thread and a WorkerPool when one is given.
 */
import { Plane, type ImageF } from '../image/plane.js';
import { Fft2, kernelSpectrum, nextPow2 } from '../util/fft.js';
import { runTileShares } from '../util/parallel-tiles.js';
import { fromShared, toShared, type SharedPlane } from '../util/shared-plane.js';
import { multiplySpectra, planTiles, runTiles, type TilePlan } from '../util/tiles.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { KernelSolution, type KernelSolutionData } from './kernel-solution.js';
import { polyCount } from './spatial.js';

function fieldPlan(width: number, height: number, solution: KernelSolution, fftSize: number): TilePlan {
  const n = fftSize >= 4 * solution.size ? fftSize : nextPow2(4 * solution.size);
  return planTiles(width, height, { fftSize: n, halo: (solution.size - 1) / 2, blend: 0 });
}

/** Convolves the tiles `indices` of `image` into `out` (image * K + background). */
export function convolveFieldShare(image: ImageF, out: ImageF, solution: KernelSolution, fftSize: number, indices: number[]): void {
  const { width } = image;
  const plan = fieldPlan(image.width, image.height, solution, fftSize);
  const n = plan.fftSize;
  const fft = new Fft2(n);
  const spectra = solution.termKernels.map((k) => kernelSpectrum(fft, k, solution.size));
  const mk = polyCount(solution.spatialOrder);
  const mb = polyCount(solution.backgroundOrder);
  const frame = solution.frame;
  const kRows = Array.from({ length: mk }, () => new Float64Array(width));
  const bRows = Array.from({ length: mb }, () => new Float64Array(width));
  const bg = new Float64Array(width);
  // runTiles transforms two tiles before it consumes their outputs: alternate two buffer sets.
  const products = [0, 1].map(() => spectra.map(() => fft.alloc()));
  let turn = 0;
  runTiles(
    plan,
    {
      inputs: [image],
      transform: (_tile, [s]) => {
        turn ^= 1;
        return spectra.map((k, m) => multiplySpectra(s, k, products[turn][m]));
      },
      emit: (tile, outputs) => {
        for (let j = 0; j < tile.oh; j++) {
          const y = tile.oy + j;
          frame.rowTerms(solution.spatialOrder, y, tile.ox, tile.ow, kRows);
          frame.rowTerms(solution.backgroundOrder, y, tile.ox, tile.ow, bRows);
          bg.fill(0, 0, tile.ow);
          for (let t = 0; t < mb; t++) {
            const c = solution.background[t], r = bRows[t];
            for (let i = 0; i < tile.ow; i++) bg[i] += c * r[i];
          }
          const base = (y - tile.wy) * n + (tile.ox - tile.wx);
          // Term by term over the row: each inner loop streams two arrays.
          for (let t = 0; t < mk; t++) {
            const kr = kRows[t], o = outputs[t];
            for (let i = 0; i < tile.ow; i++) bg[i] += kr[i] * o[base + i];
          }
          out.row(y).set(bg.subarray(0, tile.ow), tile.ox);
        }
      },
    },
    indices,
  );
}

export interface ConvolveFieldArgs {
  image: SharedPlane;
  out: SharedPlane;
  solution: KernelSolutionData;
  fftSize: number;
  indices: number[];
}

/** Worker side of convolveKernelField. */
export function convolveFieldWorker(a: ConvolveFieldArgs): void {
  convolveFieldShare(fromShared(a.image), fromShared(a.out), KernelSolution.fromData(a.solution), a.fftSize, a.indices);
}

/** image convolved with the solution's kernel field, plus its differential background. */
export async function convolveKernelField(image: ImageF, solution: KernelSolution, fftSize: number, pool: WorkerPool | null = null): Promise<ImageF> {
  const plan = fieldPlan(image.width, image.height, solution, fftSize);
  if (!pool || pool.size === 0 || plan.tiles.length < 4) {
    const out = Plane.zeros(Float32Array, image.width, image.height);
    convolveFieldShare(image, out, solution, fftSize, plan.tiles.map((_t, i) => i));
    return out;
  }
  const shared = toShared(image);
  const out = toShared({ width: image.width, height: image.height });
  const local = fromShared(shared), localOut = fromShared(out);
  await runTileShares(
    plan,
    pool,
    { module: import.meta.url, fn: 'convolveFieldWorker' },
    (indices) => convolveFieldShare(local, localOut, solution, fftSize, indices),
    () => ({ image: shared, out, solution: solution.toData(), fftSize }),
  );
  return localOut;
}

/** Sum of the squared kernel at (x, y): how much of a white input variance survives convolution. */
export function kernelSquaredSum(solution: KernelSolution, x: number, y: number): number {
  let s = 0;
  for (const v of solution.kernelAt(x, y)) s += v * v;
  return s;
}
