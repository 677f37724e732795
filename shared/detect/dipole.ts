/**
 * Dipole fitting on a difference image, after Rubin's ip_diffim DipoleFitTask (Reiss &
 * Lupton 2016, LSST DMTN-007): the model is two PSFs of free positions and fluxes of opposite
 * sign, F+ P(x - x+) + F- P(x - x-), fitted by weighted least squares (Gauss-Newton on the
 * linearised model) over the pixels of both lobes.
 * Positions are 0-based pixels in the exposure's parent frame.
 */
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { invertOrNull, matVec } from '../util/linalg.js';
import { derivative } from '../util/numeric.js';

export interface DipoleFit {
  /** Lobe fluxes (positive >= 0 expected, negative <= 0), ADU, and 1-sigma errors. */
  posFlux: number;
  posFluxErr: number;
  negFlux: number;
  negFluxErr: number;
  xPos: number;
  yPos: number;
  xNeg: number;
  yNeg: number;
  /** 1-sigma errors of the lobe positions, px. */
  posPositionErr: number;
  negPositionErr: number;
  /** Reduced chi^2 of the fit. */
  chi2Reduced: number;
  ndata: number;
  converged: boolean;
}

interface Lobe {
  x: number;
  y: number;
}

/** PSF value and gradient (d/dx0, d/dy0) at image pixel (px, py) for a source at (x, y). */
function psfSampler(
  psf: Psf,
  x: number,
  y: number,
): (px: number, py: number) => [number, number, number] {
  const stamp = psf.stampAt(x, y);
  const s = stamp.size;
  const r = (s - 1) / 2;
  const ox = Math.round(x) - r;
  const oy = Math.round(y) - r;
  const at = (i: number, j: number): number =>
    i < 0 || j < 0 || i >= s || j >= s ? 0 : stamp.data[j * s + i];
  return (px, py) => {
    const i = px - ox;
    const j = py - oy;
    return [
      at(i, j),
      -derivative(at(i - 2, j), at(i - 1, j), at(i + 1, j), at(i + 2, j)),
      -derivative(at(i, j - 2), at(i, j - 1), at(i, j + 1), at(i, j + 2)),
    ];
  };
}

/**
 * Fits a dipole starting from the two lobe positions (e.g. the positive and negative
 * peaks). Pixels with any of `excludeBits` are skipped. Each iteration moves a lobe by at
 * most 1 px; a lobe that drifts more than `maxShift` px from its start or a fit that turns
 * singular is reported unconverged.
 */
export function fitDipole(
  exposure: Exposure,
  psf: Psf,
  pos: Lobe,
  neg: Lobe,
  excludeBits: number,
  maxShift = 3,
  iterations = 12,
): DipoleFit {
  const r = (psf.stampSize - 1) / 2;
  const x0 = exposure.image.x0;
  const y0 = exposure.image.y0;
  const xLo = Math.max(x0, Math.floor(Math.min(pos.x, neg.x)) - r);
  const xHi = Math.min(x0 + exposure.width - 1, Math.ceil(Math.max(pos.x, neg.x)) + r);
  const yLo = Math.max(y0, Math.floor(Math.min(pos.y, neg.y)) - r);
  const yHi = Math.min(y0 + exposure.height - 1, Math.ceil(Math.max(pos.y, neg.y)) + r);
  const lobes = [{ ...pos }, { ...neg }];
  let fluxes = [Number.NaN, Number.NaN];
  let inv: Float64Array | null = null;
  let converged = true;
  let chi2 = 0;
  let ndata = 0;
  for (let it = 0; it < iterations; it++) {
    const samplers = lobes.map((l) => psfSampler(psf, l.x, l.y));
    const a = new Float64Array(36);
    const b = new Float64Array(6);
    const cols = new Float64Array(6);
    ndata = 0;
    for (let py = yLo; py <= yHi; py++) {
      for (let px = xLo; px <= xHi; px++) {
        const k = exposure.image.index(px - x0, py - y0);
        const v = exposure.variance.data[k];
        const d = exposure.image.data[k];
        if (
          (exposure.mask.data[k] & excludeBits) !== 0 ||
          !(v > 0) ||
          !Number.isFinite(v) ||
          !Number.isFinite(d)
        )
          continue;
        const [p0, gx0, gy0] = samplers[0](px, py);
        const [p1, gx1, gy1] = samplers[1](px, py);
        if (p0 === 0 && p1 === 0) continue;
        cols.set([p0, gx0, gy0, p1, gx1, gy1]);
        const w = 1 / v;
        ndata++;
        for (let i = 0; i < 6; i++) {
          b[i] += cols[i] * d * w;
          for (let j = i; j < 6; j++) a[6 * i + j] += cols[i] * cols[j] * w;
        }
      }
    }
    for (let i = 0; i < 6; i++) for (let j = 0; j < i; j++) a[6 * i + j] = a[6 * j + i];
    const next = invertOrNull(a);
    const z = next && matVec(next, b);
    if (!next || !z || z[0] === 0 || z[3] === 0) {
      converged = false;
      break;
    }
    inv = next;
    fluxes = [z[0], z[3]];
    let moved = 0;
    for (let l = 0; l < 2; l++) {
      const f = fluxes[l];
      const dx = Math.max(-1, Math.min(1, z[3 * l + 1] / f));
      const dy = Math.max(-1, Math.min(1, z[3 * l + 2] / f));
      lobes[l].x += dx;
      lobes[l].y += dy;
      moved = Math.max(moved, Math.hypot(dx, dy));
    }
    if (
      Math.hypot(lobes[0].x - pos.x, lobes[0].y - pos.y) > maxShift ||
      Math.hypot(lobes[1].x - neg.x, lobes[1].y - neg.y) > maxShift
    ) {
      converged = false;
      break;
    }
    if (moved < 1e-3) break;
  }
  if (converged) chi2 = dipoleChi2(exposure, psf, lobes, fluxes, [xLo, xHi, yLo, yHi], excludeBits);
  return {
    posFlux: fluxes[0],
    posFluxErr: inv ? Math.sqrt(inv[0]) : Number.NaN,
    negFlux: fluxes[1],
    negFluxErr: inv ? Math.sqrt(inv[21]) : Number.NaN,
    xPos: lobes[0].x,
    yPos: lobes[0].y,
    xNeg: lobes[1].x,
    yNeg: lobes[1].y,
    posPositionErr: inv ? Math.sqrt((inv[7] + inv[14]) / 2) / Math.abs(fluxes[0]) : Number.NaN,
    negPositionErr: inv ? Math.sqrt((inv[28] + inv[35]) / 2) / Math.abs(fluxes[1]) : Number.NaN,
    chi2Reduced: ndata > 6 ? chi2 / (ndata - 6) : Number.NaN,
    ndata,
    converged: converged && inv !== null && fluxes[0] > 0 && fluxes[1] < 0,
  };
}

/** Chi^2 of the two-PSF model over the fit box (parent-frame limits [xLo, xHi, yLo, yHi]). */
function dipoleChi2(
  exposure: Exposure,
  psf: Psf,
  lobes: Lobe[],
  fluxes: number[],
  box: number[],
  excludeBits: number,
): number {
  const samplers = lobes.map((l) => psfSampler(psf, l.x, l.y));
  let chi2 = 0;
  for (let py = box[2]; py <= box[3]; py++) {
    for (let px = box[0]; px <= box[1]; px++) {
      const k = exposure.image.index(px - exposure.image.x0, py - exposure.image.y0);
      const v = exposure.variance.data[k];
      const d = exposure.image.data[k];
      if (
        (exposure.mask.data[k] & excludeBits) !== 0 ||
        !(v > 0) ||
        !Number.isFinite(v) ||
        !Number.isFinite(d)
      )
        continue;
      const p0 = samplers[0](px, py)[0];
      const p1 = samplers[1](px, py)[0];
      if (p0 === 0 && p1 === 0) continue;
      chi2 += (d - fluxes[0] * p0 - fluxes[1] * p1) ** 2 / v;
    }
  }
  return chi2;
}
