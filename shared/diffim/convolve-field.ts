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
import { asShared, fromShared, toShared, type SharedPlane } from '../util/shared-plane.js';
import { multiplySpectra, planTiles, type TilePlan } from '../util/tiles.js';
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
  const source = fft.allocSpectrum(),
    product = fft.allocSpectrum(),
    columns = fft.allocSpectrum();
  const groups = Array.from({ length: xiOrders }, () => fft.allocSpectrum());
  const rows = Array.from({ length: xiOrders }, () => new Float64Array(n * n));
  const etaPower = new Float64Array(n);
  const col = 2 * n;
  for (const t of indices) {
    const tile = plan.tiles[t];
    fft.forward(window, source, ...loadTile(image, tile, n, window));
    const [r0, r1] = outputRows(tile);
    for (const g of groups)
      for (let k = 0; k < fft.columns; k++) g.fill(0, k * col + 2 * r0, k * col + 2 * r1);
    powers.forEach(([a, b], m) => {
      multiplySpectra(source, spectra[m], product);
      fft.inverseColumns(product, columns);
      for (let y = r0; y < r1; y++) etaPower[y] = frame.eta(tile.wy + y) ** b;
      const g = groups[a];
      for (let k = 0; k < fft.columns; k++) {
        for (let y = r0, o = k * col + 2 * r0; y < r1; y++, o += 2) {
          const e = etaPower[y];
          g[o] += e * columns[o];
          g[o + 1] += e * columns[o + 1];
        }
      }
    });
    groups.forEach((g, a) => fft.inverseRows(g, rows[a], r0, r1));
    for (let j = 0; j < tile.oh; j++) {
      const y = tile.oy + j;
      // The background along the row as a polynomial in xi: bgXi[a] = sum_b c_(a,b) eta^b.
      bgXi.fill(0);
      const eta = frame.eta(y);
      bgPowers.forEach(([a, b], q) => (bgXi[a] += solution.background[q] * eta ** b));
      const row = out.row(y);
      const base = (y - tile.wy) * n - tile.wx;
      for (let x = tile.ox; x < tile.ox + tile.ow; x++) {
        // Horner in xi over the row-pass outputs and the background.
        let v = 0,
          bg = 0;
        for (let a = xiOrders - 1; a >= 0; a--) v = v * xi[x] + rows[a][base + x];
        for (let a = bgXi.length - 1; a >= 0; a--) bg = bg * xi[x] + bgXi[a];
        row[x] = bg + v;
      }
    }
  }
}

export interface ConvolveFieldArgs {
  image: SharedPlane;
  out: SharedPlane;
  solution: KernelSolutionData;
  fftSize: number;
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
  );
}

/** image convolved with the solution's kernel field, plus its differential background. */
export async function convolveKernelField(
  image: ImageF,
  solution: KernelSolution,
  fftSize: number,
  pool: WorkerPool | null = null,
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
    );
    return out;
  }
  const shared = asShared(image);
  const out = toShared({ width: image.width, height: image.height });
  const local = fromShared(shared),
    localOut = fromShared(out);
  await runClaimedTiles(
    plan,
    pool,
    poolTask(import.meta.url, { convolveFieldWorker }),
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
