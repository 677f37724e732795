/**
 * Convolution of a whole image by a spatially varying kernel through its low-rank form
 * K(x, y) = sum_m p_m(x, y) K_m: each K_m is applied once per FFT tile (overlap-save),
 * and the results are combined with the polynomial weights pixel by pixel. Exact for the
 * fitted polynomial kernel field; never a per-pixel kernel evaluation.
 */
import { Plane, type ImageF } from '../image/plane.js';
import { Fft2, kernelSpectrum, nextPow2 } from '../util/fft.js';
import { multiplySpectra, planTiles, runTiles } from '../util/tiles.js';
import type { KernelSolution } from './kernel-solution.js';
import { polyCount } from './spatial.js';

/** image convolved with the solution's kernel field, plus its differential background. */
export function convolveKernelField(image: ImageF, solution: KernelSolution, fftSize: number): ImageF {
  const { width, height } = image;
  const half = (solution.size - 1) / 2;
  const n = fftSize >= 4 * solution.size ? fftSize : nextPow2(4 * solution.size);
  const plan = planTiles(width, height, { fftSize: n, halo: half, blend: 0 });
  const fft = new Fft2(n);
  const spectra = solution.termKernels.map((k) => kernelSpectrum(fft, k, solution.size));
  const out = Plane.zeros(Float32Array, width, height);
  const mk = polyCount(solution.spatialOrder);
  const pk = new Float64Array(mk);
  const pb = new Float64Array(polyCount(solution.backgroundOrder));
  const bgc = solution.background;
  const frame = solution.frame;
  runTiles(plan, {
    inputs: [image],
    transform: (_tile, [s]) => spectra.map((k) => multiplySpectra(s, k)),
    emit: (tile, outputs) => {
      for (let j = 0; j < tile.oh; j++) {
        const y = tile.oy + j;
        const row = out.row(y);
        const base = (y - tile.wy) * n - tile.wx;
        for (let i = 0; i < tile.ow; i++) {
          const x = tile.ox + i;
          frame.terms(solution.spatialOrder, x, y, pk);
          frame.terms(solution.backgroundOrder, x, y, pb);
          let v = 0;
          for (let t = 0; t < pb.length; t++) v += pb[t] * bgc[t];
          for (let t = 0; t < mk; t++) v += pk[t] * outputs[t][base + x];
          row[x] = v;
        }
      }
    },
  });
  return out;
}

/** Sum of the squared kernel at (x, y): how much of a white input variance survives convolution. */
export function kernelSquaredSum(solution: KernelSolution, x: number, y: number): number {
  let s = 0;
  for (const v of solution.kernelAt(x, y)) s += v * v;
  return s;
}
