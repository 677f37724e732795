/**
 * The mean transfer function of interpolation at a set of sub-pixel phases. The taps w_k(f) at
 * distances t_k = f - k + (a - 1) (LanczosTable) turn samples of a signal into its convolution with
 * the comb sum_k w_k(f) delta(t - t_k), transfer W_f(u) = sum_k w_k(f) exp(-2 pi i u t_k) (u in cycles
 * per input pixel; W_0 = 1, and for uniform phases the mean is the continuous kernel's transform).
 * An image resampled at phases that vary over it is on average the signal convolved with the mean comb.
 */
import type { LanczosTable } from './lanczos.js';

/** Phase bins; each bin's taps are taken at the mean phase of its members. */
const BINS = 64;
/** Intervals of the table over u in [-1/2, 1/2]; linear interpolation between them (error ~4e-5). */
const STEPS = 1024;

/** H(u) for |u| <= 1/2, tabulated. */
export interface TransferTable {
  /** [real, imaginary] of H(u), u in cycles per input pixel, |u| <= 1/2. */
  at(u: number): [number, number];
}

/** The mean of W_f(u) over the phases f (each in [0, 1)). */
export function meanTransfer(table: LanczosTable, phases: ArrayLike<number>): TransferTable {
  const count = new Float64Array(BINS), sum = new Float64Array(BINS);
  for (let i = 0; i < phases.length; i++) {
    const b = Math.min(BINS - 1, Math.floor(phases[i] * BINS));
    count[b]++;
    sum[b] += phases[i];
  }
  const re = new Float64Array(STEPS + 1), im = new Float64Array(STEPS + 1);
  const w = new Float64Array(table.taps);
  for (let b = 0; b < BINS; b++) {
    if (!count[b]) continue;
    const f = sum[b] / count[b];
    table.weights(f, w);
    for (let k = 0; k < table.taps; k++) {
      const t = f - k + (table.a - 1), weight = (w[k] * count[b]) / phases.length;
      // exp(-2 pi i u t) from u = -1/2 in steps 1/STEPS, by rotation.
      const step = (-2 * Math.PI * t) / STEPS, dr = Math.cos(step), di = Math.sin(step);
      let zr = Math.cos(Math.PI * t), zi = Math.sin(Math.PI * t);
      for (let s = 0; s <= STEPS; s++) {
        re[s] += weight * zr;
        im[s] += weight * zi;
        const r = zr * dr - zi * di;
        zi = zr * di + zi * dr;
        zr = r;
      }
    }
  }
  return {
    at(u: number): [number, number] {
      const pos = Math.min(STEPS, Math.max(0, (u + 0.5) * STEPS));
      const s = Math.min(STEPS - 1, Math.floor(pos)), frac = pos - s;
      return [re[s] + frac * (re[s + 1] - re[s]), im[s] + frac * (im[s + 1] - im[s])];
    },
  };
}
