/**
 * The coadd's PSF, as Rubin's CoaddPsf (Jee & Tyson; meas_algorithms CoaddPsf): at a position, the
 * weighted sum of the warped input PSFs of the inputs used there, with the coadd's weights. It is
 * evaluated on a lattice of nodes and fitted, pixel by pixel, with a polynomial in position (the
 * project's PixelPsf), so that it is stored in the PSF extension shared/psf/persist.ts writes.
 */
import { PixelPsf, polyTerms, polyValues } from '../psf/pixel-psf.js';
import type { Psf } from '../psf/types.js';
import { solveSymmetric } from '../util/linalg.js';
import { tiltedWeights } from './psf-weights.js';

export interface CoaddPsfInput {
  /** The input's PSF on the output grid (a WarpedPsf). */
  psf: Psf;
  weight: number;
  /** Second moment of the PSF, px^2 (for the weights' tilt, psf-weights.ts). */
  moment: number;
  /** True where the input contributes to the coadd at (x, y) (pixel of the output grid). */
  covers(x: number, y: number): boolean;
}

export interface CoaddPsfFit {
  psf: PixelPsf;
  /** Nodes used, and the largest |model - CoaddPsf| over them relative to the stamp's peak. */
  nodes: number;
  maxResidual: number;
}

/**
 * CoaddPsf at (x, y), centred on a size x size stamp, or null where no input covers; with a finite
 * `target`, the weights of the covering inputs are tilted to it as the stack's are (psf-weights.ts).
 */
export function coaddPsfStamp(
  inputs: readonly CoaddPsfInput[],
  x: number,
  y: number,
  size: number,
  target = Number.NaN,
): Float64Array | null {
  const out = new Float64Array(size * size);
  const present = inputs.map((i) => i.covers(x, y));
  const weights = Number.isFinite(target)
    ? tiltedWeights(
        inputs.map((i) => i.weight),
        inputs.map((i) => i.moment),
        present,
        target,
      )
    : inputs.map((i) => i.weight);
  let total = 0;
  for (const [k, input] of inputs.entries()) {
    if (!present[k]) continue;
    const stamp = input.psf.stampAt(x, y, true);
    const off = (size - stamp.size) >> 1;
    for (let j = 0; j < stamp.size; j++) {
      for (let i = 0; i < stamp.size; i++) {
        const tx = i + off;
        const ty = j + off;
        if (tx >= 0 && ty >= 0 && tx < size && ty < size)
          out[ty * size + tx] += weights[k] * stamp.data[j * stamp.size + i];
      }
    }
    total += weights[k];
  }
  if (total === 0) return null;
  let sum = 0;
  for (const v of out) sum += v;
  for (let k = 0; k < out.length; k++) out[k] /= sum;
  return out;
}

/** Fits a PixelPsf of `degree` (lowered when too few nodes are covered) to CoaddPsf on a grid x grid lattice of a width x height frame. */
export function fitCoaddPsf(
  inputs: readonly CoaddPsfInput[],
  width: number,
  height: number,
  degree: number,
  grid: number,
  target = Number.NaN,
): CoaddPsfFit {
  const size = Math.max(...inputs.map((i) => i.psf.stampSize)) | 1;
  const frame = { width, height };
  const nodes: Array<{ x: number; y: number; stamp: Float64Array }> = [];
  for (let j = 0; j < grid; j++) {
    for (let i = 0; i < grid; i++) {
      const x = ((i + 0.5) / grid) * (width - 1);
      const y = ((j + 0.5) / grid) * (height - 1);
      const stamp = coaddPsfStamp(inputs, x, y, size, target);
      if (stamp) nodes.push({ x, y, stamp });
    }
  }
  if (nodes.length === 0) throw new Error('CoaddPsf: no input covers any node of the grid');
  let d = degree;
  while (d > 0 && polyTerms(d).length > nodes.length) d--;
  const terms = polyTerms(d);
  const probe = new PixelPsf(size, d, new Float64Array(terms.length * size * size), frame);
  const nt = terms.length;
  const ata = new Float64Array(nt * nt);
  const atb = Array.from({ length: nt }, () => new Float64Array(size * size));
  const values = nodes.map((n) => polyValues(terms, ...probe.normalize(n.x, n.y)));
  nodes.forEach((n, k) => {
    const p = values[k];
    for (let a = 0; a < nt; a++) {
      for (let b = 0; b < nt; b++) ata[a * nt + b] += p[a] * p[b];
      for (let q = 0; q < n.stamp.length; q++) atb[a][q] += p[a] * n.stamp[q];
    }
  });
  const basis = new Float64Array(nt * size * size);
  const rhs = new Float64Array(nt);
  for (let q = 0; q < size * size; q++) {
    for (let a = 0; a < nt; a++) rhs[a] = atb[a][q];
    const c = solveSymmetric(ata, rhs);
    for (let a = 0; a < nt; a++) basis[a * size * size + q] = c[a];
  }
  const psf = new PixelPsf(size, d, basis, frame);
  let maxResidual = 0;
  for (const n of nodes) {
    const model = psf.centeredModel(n.x, n.y);
    const peak = Math.max(...n.stamp);
    for (let q = 0; q < model.length; q++)
      maxResidual = Math.max(maxResidual, Math.abs(model[q] - n.stamp[q]) / peak);
  }
  return { psf, nodes: nodes.length, maxResidual };
}
