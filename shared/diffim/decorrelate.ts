/**
 * Decorrelation afterburner (Reiss & Lupton 2016, DMTN-021): the difference
 * D = T - K*C (T the unconvolved image, C the convolved one, per-pixel variance planes sigma_t^2,
 * sigma_c^2 and noise spectra shapes N_t, N_c: 1 for white noise, the resampling's for a warped
 * template) has noise power sigma_t^2 N_t(k) + sigma_c^2 N_c(k) |K(k)|^2. Filtering it with
 * phi(k) = sqrt((sigma_t^2 N_t(0) + kappa^2 sigma_c^2 N_c(0)) / (sigma_t^2 N_t(k) + sigma_c^2 N_c(k) |K(k)|^2)),
 * kappa = K(0) the kernel sum, makes the noise white at sigma_t^2 N_t(0) + kappa^2 sigma_c^2 N_c(0),
 * its per-pixel variance, while keeping fluxes (phi(0) = 1). The difference's PSF becomes phi * P_T.
 * The kernel varies over the image, so phi is recomputed per FFT tile at the tile
 * centre and neighbouring tiles are blended.
 */
import { Plane, type ImageF } from '../image/plane.js';
import { RealFft2, realKernelSpectrum, spectrumLength } from '../util/fft-real.js';
import { loadTile, outputRows } from '../util/real-tiles.js';
import { runTileShares } from '../util/parallel-tiles.js';
import { asShared, fromShared, toShared, type SharedPlane } from '../util/shared-plane.js';
import { accumulate, planTiles, tileShares, type TilePlan } from '../util/tiles.js';
import type { WorkerPool } from '../util/worker-pool.js';
import type { NoiseCorrelation, NoiseLags } from '../image/exposure.js';
import { KernelSolution, type KernelSolutionData } from './kernel-solution.js';
import { noiseLagsIn, NoiseShape } from './noise.js';
import { fieldArithmetic, type KernelEngine } from './kernel-engine.js';
import type { DecorrelationColumn } from './field-js.js';
import { poolTask } from '../util/pool-task.js';
import { releaseShared } from '../util/buffer-pool.js';

/** Noise levels (per-pixel variances) near a tile: [unconvolved, convolved]. */
export type NoiseAt = (x: number, y: number) => [number, number];

/** Noise correlation of [unconvolved, convolved] image, in the difference's pixel frame (null: white). */
export type NoiseModels = [NoiseCorrelation | null, NoiseCorrelation | null];

/** phi(k) on an n*n grid (row-major, real, even), from the kernel's full spectrum and the inputs' local noise lags at one position. */
export function decorrelationFilter(
  kernelSpec: Float64Array,
  kappa: number,
  varUnconvolved: number,
  varConvolved: number,
  lags: [NoiseLags | null, NoiseLags | null] = [null, null],
): Float64Array {
  const n2 = kernelSpec.length / 2,
    n = Math.round(Math.sqrt(n2));
  const [su, sc] = lags.map((l) => new NoiseShape(l, n));
  const phi = new Float64Array(n2);
  const top = varUnconvolved * su.atZero + kappa * kappa * varConvolved * sc.atZero;
  for (let i = 0; i < n2; i++) {
    const u = i % n,
      v = (i - u) / n;
    const k2 = kernelSpec[2 * i] ** 2 + kernelSpec[2 * i + 1] ** 2;
    phi[i] = Math.sqrt(
      top / (varUnconvolved * su.x[u] * su.y[v] + varConvolved * sc.x[u] * sc.y[v] * k2),
    );
  }
  return phi;
}

export interface DecorrelateOptions {
  fftSize: number;
  /** Blend half-width between tiles, pixels. */
  blend: number;
  /** Noise correlation of the [unconvolved, convolved] image; default white. */
  models?: NoiseModels;
  /** The filter's arithmetic (default kernelEngine()): WebAssembly SIMD or JavaScript, the same bits. */
  engine?: KernelEngine;
}

function decorrelatePlan(
  width: number,
  height: number,
  solution: KernelSolution,
  opt: DecorrelateOptions,
): TilePlan {
  const halo = solution.size;
  const n = opt.fftSize >= 4 * (halo + opt.blend) ? opt.fftSize : 2 * opt.fftSize;
  return planTiles(width, height, { fftSize: n, halo, blend: opt.blend });
}

/** Decorrelates tiles `indices` of `difference`, adding them (blend-weighted) into `out`; noise[2t..2t+1] are tile t's levels. */
export function decorrelateShare(
  difference: ImageF,
  out: ImageF,
  solution: KernelSolution,
  noise: Float64Array,
  opt: DecorrelateOptions,
  indices: number[],
): void {
  const plan = decorrelatePlan(difference.width, difference.height, solution, opt);
  const n = plan.fftSize;
  const arithmetic = fieldArithmetic(opt.engine);
  const terms = solution.termKernels.length;
  // One allocation (the WebAssembly engine's memory, on which its FFTs run in place).
  const [window, interleaved, weights, uy, cy] = arithmetic.buffers(
    [n * n, terms * spectrumLength(n), terms, n, n],
    n,
  );
  const fft = arithmetic.transforms(n);
  // The kernel's spectrum anywhere is sum_m p_m(x, y) FFT(K_m): the term spectra are transformed once.
  const kernelFft = new RealFft2(n);
  arithmetic.interleaveTerms(
    solution.termKernels.map((k) => realKernelSpectrum(kernelFft, k, solution.size)),
    interleaved,
  );
  const kappa2 = solution.kernelSum ** 2;
  const models = opt.models ?? [null, null];
  for (const t of indices) {
    const tile = plan.tiles[t];
    // The inputs' noise over the pixels this tile writes.
    const [su, sc] = models.map(
      (m) =>
        new NoiseShape(noiseLagsIn(m, tile.ox, tile.oy, tile.ox + tile.ow, tile.oy + tile.oh), n),
    );
    solution.frame.terms(solution.spatialOrder, tile.cx, tile.cy, weights);
    uy.set(su.y);
    cy.set(sc.y);
    const vu = noise[2 * t],
      vc = noise[2 * t + 1];
    const column: DecorrelationColumn = {
      kx: 0,
      weights,
      top: vu * su.atZero + kappa2 * vc * sc.atZero,
      u: 0,
      c: 0,
      uy,
      cy,
    };
    // phi on each spectral column kx as the transform makes it (element ky at 2 ky).
    const filter = (kx: number, values: Float64Array): void => {
      column.kx = kx;
      column.u = vu * su.x[kx];
      column.c = vc * sc.x[kx];
      arithmetic.decorrelateColumn(values, interleaved, column);
    };
    const [y0, y1] = loadTile(difference, tile, n, window);
    fft.filterColumns(window, y0, y1, filter, window, ...outputRows(tile));
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
  decorrelateShare(
    fromShared(a.difference),
    fromShared(a.out),
    KernelSolution.fromData(a.solution),
    a.noise,
    a.opt,
    a.indices,
  );
}

/** The decorrelated difference image (a new plane, on shared memory with a pool; `difference` is only read). */
export async function decorrelate(
  difference: ImageF,
  solution: KernelSolution,
  noiseAt: NoiseAt,
  opt: DecorrelateOptions,
  pool: WorkerPool | null = null,
): Promise<ImageF> {
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
  const input = asShared(difference);
  const outs = Array.from({ length: 1 + pool.size }, () => toShared({ width, height }));
  const data = solution.toData();
  await runTileShares(
    plan,
    pool,
    poolTask(import.meta.url, { decorrelateWorker }),
    (indices) => decorrelateShare(difference, fromShared(outs[0]), solution, noise, opt, indices),
    (thread) => ({ difference: input, out: outs[thread], solution: data, noise, opt }),
  );
  // Each worker's plane is summed over the rows its share of tiles wrote (runTileShares splits by tileShares).
  const sum = fromShared(outs[0]);
  tileShares(plan, outs.length).forEach((share, thread) => {
    if (thread === 0 || share.length === 0) return;
    const d = new Float32Array(outs[thread].buffer);
    const tiles = share.map((i) => plan.tiles[i]);
    const from = width * Math.min(...tiles.map((t) => t.oy)),
      to = width * Math.max(...tiles.map((t) => t.oy + t.oh));
    for (let i = from; i < to; i++) sum.data[i] += d[i];
  });
  // The workers' planes, read no more: back to this thread's pool, for the next shared planes (no page faults).
  releaseShared(...outs.slice(1).map((o) => new Float32Array(o.buffer)));
  return sum;
}
