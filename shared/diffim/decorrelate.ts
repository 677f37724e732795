/**
 * Decorrelation afterburner (Reiss & Lupton 2016, DMTN-021): the difference
 * D = T - K*C (T the unconvolved image with white noise sigma_t^2, C the convolved one
 * with sigma_c^2) has noise power sigma_t^2 + sigma_c^2 |K(k)|^2. Filtering it with
 * phi(k) = sqrt((sigma_t^2 + kappa^2 sigma_c^2) / (sigma_t^2 + sigma_c^2 |K(k)|^2)),
 * kappa = K(0) the kernel sum, makes the noise white at sigma_t^2 + kappa^2 sigma_c^2
 * while keeping fluxes (phi(0) = 1). The difference's PSF becomes phi * P_T.
 * The kernel varies over the image, so phi is recomputed per FFT tile at the tile
 * centre and neighbouring tiles are blended.
 */
import { Plane, type ImageF } from '../image/plane.js';
import { Fft2, kernelSpectrum } from '../util/fft.js';
import { runTileShares } from '../util/parallel-tiles.js';
import { fromShared, toShared, type SharedPlane } from '../util/shared-plane.js';
import { accumulate, planTiles, runTiles, type Tile, type TilePlan } from '../util/tiles.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { KernelSolution, type KernelSolutionData } from './kernel-solution.js';

/** Noise levels (per-pixel variances) near a tile: [unconvolved, convolved]. */
export type NoiseAt = (x: number, y: number) => [number, number];

/** phi(k) on an n*n grid (real, even), from the kernel's spectrum at one position. */
export function decorrelationFilter(kernelSpec: Float64Array, kappa: number, varUnconvolved: number, varConvolved: number): Float64Array {
  const n2 = kernelSpec.length / 2;
  const phi = new Float64Array(n2);
  const top = varUnconvolved + kappa * kappa * varConvolved;
  for (let i = 0; i < n2; i++) {
    const k2 = kernelSpec[2 * i] ** 2 + kernelSpec[2 * i + 1] ** 2;
    phi[i] = Math.sqrt(top / (varUnconvolved + varConvolved * k2));
  }
  return phi;
}

/** The kernel's spectrum at (x, y) on an FFT of side fft.n, from its low-rank form. */
export function kernelSpectrumAt(fft: Fft2, solution: KernelSolution, x: number, y: number): Float64Array {
  return kernelSpectrum(fft, solution.kernelAt(x, y), solution.size);
}

export interface DecorrelateOptions {
  fftSize: number;
  /** Blend half-width between tiles, pixels. */
  blend: number;
}

function decorrelatePlan(width: number, height: number, solution: KernelSolution, opt: DecorrelateOptions): TilePlan {
  const halo = solution.size;
  const n = opt.fftSize >= 4 * (halo + opt.blend) ? opt.fftSize : 2 * opt.fftSize;
  return planTiles(width, height, { fftSize: n, halo, blend: opt.blend });
}

/** Decorrelates tiles `indices` of `difference`, adding them (blend-weighted) into `out`; noise[2t..2t+1] are tile t's levels. */
export function decorrelateShare(difference: ImageF, out: ImageF, solution: KernelSolution, noise: Float64Array, opt: DecorrelateOptions, indices: number[]): void {
  const plan = decorrelatePlan(difference.width, difference.height, solution, opt);
  const n = plan.fftSize;
  const fft = new Fft2(n);
  const index = new Map(plan.tiles.map((t, i) => [t, i]));
  runTiles(
    plan,
    {
      inputs: [difference],
      transform: (tile: Tile, [d]) => {
        const t = index.get(tile) ?? 0;
        const phi = decorrelationFilter(kernelSpectrumAt(fft, solution, tile.cx, tile.cy), solution.kernelSum, noise[2 * t], noise[2 * t + 1]);
        for (let i = 0; i < phi.length; i++) {
          d[2 * i] *= phi[i];
          d[2 * i + 1] *= phi[i];
        }
        return [d];
      },
      emit: (tile, [o]) => accumulate(tile, n, o, out),
    },
    indices,
  );
}

export interface DecorrelateArgs {
  difference: SharedPlane;
  out: SharedPlane;
  solution: KernelSolutionData;
  noise: Float64Array;
  opt: DecorrelateOptions;
  indices: number[];
}

/** Worker side of decorrelate. */
export function decorrelateWorker(a: DecorrelateArgs): void {
  decorrelateShare(fromShared(a.difference), fromShared(a.out), KernelSolution.fromData(a.solution), a.noise, a.opt, a.indices);
}

/** The decorrelated difference image. */
export async function decorrelate(difference: ImageF, solution: KernelSolution, noiseAt: NoiseAt, opt: DecorrelateOptions, pool: WorkerPool | null = null): Promise<ImageF> {
  const { width, height } = difference;
  const plan = decorrelatePlan(width, height, solution, opt);
  const noise = new Float64Array(2 * plan.tiles.length);
  plan.tiles.forEach((t, i) => noise.set(noiseAt(t.cx, t.cy), 2 * i));
  const all = plan.tiles.map((_t, i) => i);
  if (!pool || pool.size === 0 || plan.tiles.length < 4) {
    const out = Plane.zeros(Float32Array, width, height);
    decorrelateShare(difference, out, solution, noise, opt, all);
    return out;
  }
  // Blended tiles overlap: each thread adds into its own plane, summed at the end.
  const input = toShared(difference);
  const outs = Array.from({ length: 1 + pool.size }, () => toShared({ width, height }));
  const data = solution.toData();
  await runTileShares(
    plan,
    pool,
    { module: import.meta.url, fn: 'decorrelateWorker' },
    (indices) => decorrelateShare(difference, fromShared(outs[0]), solution, noise, opt, indices),
    (thread) => ({ difference: input, out: outs[thread], solution: data, noise, opt }),
  );
  const sum = fromShared(outs[0]);
  for (const o of outs.slice(1)) {
    const d = new Float32Array(o.buffer);
    for (let i = 0; i < d.length; i++) sum.data[i] += d[i];
  }
  return sum;
}
