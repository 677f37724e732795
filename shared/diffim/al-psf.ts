/**
 * The PSF of an Alard-Lupton difference on a grid of positions. Convolving the template,
 * the difference's PSF is the science PSF P_S; convolving the science, it is K * P_S / kappa.
 * After decorrelation (DMTN-021) it is further filtered by phi(k) of that position.
 */
import type { Psf } from '../psf/types.js';
import { cropCentred, Fft2, kernelSpectrum, nextPow2 } from '../util/fft.js';
import { decorrelationFilter, type NoiseModels } from './decorrelate.js';
import type { KernelSolution } from './kernel-solution.js';
import { noiseLagsIn } from './noise.js';
import { GridPsf } from './psf-grid.js';

export interface AlPsfOptions {
  convolveScience: boolean;
  decorrelated: boolean;
  /** Per-pixel variances [unconvolved, convolved image] near a position. */
  noiseAt: (x: number, y: number) => [number, number];
  /** Noise correlation of the [unconvolved, convolved] image (difference's frame); default white. */
  models?: NoiseModels;
}

/** Stamps of side `size` (odd) at the grid positions xs x ys. */
export function alDifferencePsf(
  sciencePsf: Psf,
  solution: KernelSolution,
  xs: number[],
  ys: number[],
  size: number,
  opt: AlPsfOptions,
): GridPsf {
  const fft = new Fft2(nextPow2(2 * (Math.max(size, sciencePsf.stampSize) + solution.size)));
  const stamps: Float32Array[] = [];
  for (const y of ys) {
    for (const x of xs) {
      const p = sciencePsf.stampAt(x, y, true);
      const spec = kernelSpectrum(fft, p.data, p.size);
      const k = kernelSpectrum(fft, solution.kernelAt(x, y), solution.size);
      if (opt.convolveScience) {
        for (let i = 0; i < spec.length; i += 2) {
          const re = spec[i] * k[i] - spec[i + 1] * k[i + 1];
          spec[i + 1] = spec[i] * k[i + 1] + spec[i + 1] * k[i];
          spec[i] = re;
        }
      }
      if (opt.decorrelated) {
        const [vu, vc] = opt.noiseAt(x, y);
        const [mu, mc] = opt.models ?? [null, null];
        const phi = decorrelationFilter(k, solution.kernelSum, vu, vc, [
          noiseLagsIn(mu, x, y, x + 1, y + 1),
          noiseLagsIn(mc, x, y, x + 1, y + 1),
        ]);
        for (let i = 0; i < phi.length; i++) {
          spec[2 * i] *= phi[i];
          spec[2 * i + 1] *= phi[i];
        }
      }
      fft.inverse(spec);
      stamps.push(cropCentred(spec, fft.n, size));
    }
  }
  return new GridPsf(xs, ys, stamps, size);
}
