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
import { accumulate, planTiles, runTiles, type Tile } from '../util/tiles.js';
import type { KernelSolution } from './kernel-solution.js';

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

/** The decorrelated difference image. */
export function decorrelate(difference: ImageF, solution: KernelSolution, noiseAt: NoiseAt, opt: DecorrelateOptions): ImageF {
  const halo = solution.size;
  const n = opt.fftSize >= 4 * (halo + opt.blend) ? opt.fftSize : 2 * opt.fftSize;
  const plan = planTiles(difference.width, difference.height, { fftSize: n, halo, blend: opt.blend });
  const fft = new Fft2(n);
  const out = Plane.zeros(Float32Array, difference.width, difference.height);
  runTiles(plan, {
    inputs: [difference],
    transform: (tile: Tile, [d]) => {
      const [vu, vc] = noiseAt(tile.cx, tile.cy);
      const phi = decorrelationFilter(kernelSpectrumAt(fft, solution, tile.cx, tile.cy), solution.kernelSum, vu, vc);
      for (let i = 0; i < phi.length; i++) {
        d[2 * i] *= phi[i];
        d[2 * i + 1] *= phi[i];
      }
      return [d];
    },
    emit: (tile, [o]) => accumulate(tile, n, o, out),
  });
  return out;
}
