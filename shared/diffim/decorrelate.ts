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
import { RealFft2, realKernelSpectrum } from '../util/fft-real.js';
import { loadTile, outputRows } from '../util/real-tiles.js';
import { runTileShares } from '../util/parallel-tiles.js';
import { fromShared, toShared, type SharedPlane } from '../util/shared-plane.js';
import { accumulate, planTiles, type TilePlan } from '../util/tiles.js';
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
  const fft = new RealFft2(n);
  // The kernel's spectrum anywhere is sum_m p_m(x, y) FFT(K_m): the term spectra are transformed once.
  const termSpectra = solution.termKernels.map((k) => realKernelSpectrum(fft, k, solution.size));
  const weights = new Float64Array(termSpectra.length);
  const window = new Float64Array(n * n);
  const spectrum = fft.allocSpectrum();
  const kappa2 = solution.kernelSum ** 2;
  for (const t of indices) {
    const tile = plan.tiles[t];
    fft.forward(window, spectrum, ...loadTile(difference, tile, n, window));
    solution.frame.terms(solution.spatialOrder, tile.cx, tile.cy, weights);
    const vu = noise[2 * t], vc = noise[2 * t + 1];
    const top = vu + kappa2 * vc;
    for (let i = 0; i < spectrum.length; i += 2) {
      let kr = 0, ki = 0;
      for (let m = 0; m < termSpectra.length; m++) {
        kr += weights[m] * termSpectra[m][i];
        ki += weights[m] * termSpectra[m][i + 1];
      }
      const phi = Math.sqrt(top / (vu + vc * (kr * kr + ki * ki)));
      spectrum[i] *= phi;
      spectrum[i + 1] *= phi;
    }
    fft.inverse(spectrum, window, ...outputRows(tile));
    accumulate(tile, n, window, out);
  }
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
