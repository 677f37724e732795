/**
 * Simultaneous fit of several PSFs of free positions and fluxes, sum_i F_i P(x - x_i), by
 * weighted least squares (Gauss-Newton on the model linear in F_i, F_i dx_i, F_i dy_i) over a
 * fixed pixel box: the core of dipole fitting (DipoleFitTask, Reiss & Lupton 2016) and of the
 * blend test (DAOPHOT's ALLSTAR, Stetson 1987, PASP 99, 191). Positions are 0-based pixels in
 * the exposure's parent frame.
 */
import type { Exposure } from '../image/exposure.js';
import type { Psf } from '../psf/types.js';
import { invertOrNull, matVec } from '../util/linalg.js';
import { derivative } from '../util/numeric.js';

export interface Position {
  x: number;
  y: number;
}

export interface PsfModelsFit {
  /** Fitted positions and fluxes (ADU), one per start, with 1-sigma errors (positions: mean of x and y). */
  positions: Position[];
  positionErrs: number[];
  fluxes: number[];
  fluxErrs: number[];
  /** Chi^2 of the model over all usable pixels of the box (NaN unless converged); pixels the fit used (some PSF non-zero). */
  chi2: number;
  ndata: number;
  /** False when a source drifted beyond `maxShift` from its start or the fit turned singular. */
  converged: boolean;
}

/** Inclusive parent-frame pixel limits [xLo, xHi, yLo, yHi]. */
export type PixelBox = [number, number, number, number];

/** The box holding the PSF stamps at all `positions`, clipped to the exposure. */
export function stampsBox(exposure: Exposure, psf: Psf, positions: Position[]): PixelBox {
  const r = (psf.stampSize - 1) / 2;
  const { x0, y0 } = exposure.image;
  const xs = positions.map((p) => p.x);
  const ys = positions.map((p) => p.y);
  return [
    Math.max(x0, Math.floor(Math.min(...xs)) - r),
    Math.min(x0 + exposure.width - 1, Math.ceil(Math.max(...xs)) + r),
    Math.max(y0, Math.floor(Math.min(...ys)) - r),
    Math.min(y0 + exposure.height - 1, Math.ceil(Math.max(...ys)) + r),
  ];
}

/** PSF value and gradient (d/dx0, d/dy0) at image pixel (px, py) for a source at (x, y). */
export function psfSampler(
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

/** Calls `visit(k, px, py, d, v)` for each usable pixel of `box` (none of `excludeBits`, finite data, positive variance). */
export function forEachUsable(
  exposure: Exposure,
  box: PixelBox,
  excludeBits: number,
  visit: (k: number, px: number, py: number, d: number, v: number) => void,
): void {
  const { x0, y0 } = exposure.image;
  for (let py = box[2]; py <= box[3]; py++) {
    for (let px = box[0]; px <= box[1]; px++) {
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
      visit(k, px, py, d, v);
    }
  }
}

/**
 * Fits one PSF per start over `box` (1 / V weights). Each iteration moves a source by at most
 * 1 px; a source that drifts more than `maxShift` px from its start, or a singular system, ends
 * the fit unconverged. Pixels where every PSF is zero are skipped.
 */
export function fitPsfModels(
  exposure: Exposure,
  psf: Psf,
  starts: Position[],
  box: PixelBox,
  excludeBits: number,
  maxShift: number,
  iterations: number,
): PsfModelsFit {
  const m = starts.length;
  const np = 3 * m;
  const positions = starts.map((s) => ({ ...s }));
  let fluxes = starts.map(() => Number.NaN);
  let inv: Float64Array | null = null;
  let converged = true;
  let ndata = 0;
  for (let it = 0; it < iterations; it++) {
    const samplers = positions.map((l) => psfSampler(psf, l.x, l.y));
    const a = new Float64Array(np * np);
    const b = new Float64Array(np);
    const cols = new Float64Array(np);
    ndata = 0;
    forEachUsable(exposure, box, excludeBits, (_k, px, py, d, v) => {
      let any = false;
      for (let l = 0; l < m; l++) {
        const [p, gx, gy] = samplers[l](px, py);
        cols[3 * l] = p;
        cols[3 * l + 1] = gx;
        cols[3 * l + 2] = gy;
        any ||= p !== 0;
      }
      if (!any) return;
      const w = 1 / v;
      ndata++;
      for (let i = 0; i < np; i++) {
        b[i] += cols[i] * d * w;
        for (let j = i; j < np; j++) a[np * i + j] += cols[i] * cols[j] * w;
      }
    });
    for (let i = 0; i < np; i++) for (let j = 0; j < i; j++) a[np * i + j] = a[np * j + i];
    const next = invertOrNull(a);
    const z = next && matVec(next, b);
    if (!next || !z || fluxes.some((_, l) => z[3 * l] === 0)) {
      converged = false;
      break;
    }
    inv = next;
    fluxes = starts.map((_, l) => z[3 * l]);
    let moved = 0;
    for (let l = 0; l < m; l++) {
      const dx = Math.max(-1, Math.min(1, z[3 * l + 1] / fluxes[l]));
      const dy = Math.max(-1, Math.min(1, z[3 * l + 2] / fluxes[l]));
      positions[l].x += dx;
      positions[l].y += dy;
      moved = Math.max(moved, Math.hypot(dx, dy));
    }
    if (positions.some((p, l) => Math.hypot(p.x - starts[l].x, p.y - starts[l].y) > maxShift)) {
      converged = false;
      break;
    }
    if (moved < 1e-3) break;
  }
  const cov = inv;
  return {
    positions,
    positionErrs: fluxes.map((f, l) =>
      cov
        ? Math.sqrt((cov[(np + 1) * (3 * l + 1)] + cov[(np + 1) * (3 * l + 2)]) / 2) / Math.abs(f)
        : Number.NaN,
    ),
    fluxes,
    fluxErrs: fluxes.map((_, l) => (cov ? Math.sqrt(cov[(np + 1) * 3 * l]) : Number.NaN)),
    chi2:
      converged && cov
        ? modelsChi2(exposure, psf, positions, fluxes, box, excludeBits)
        : Number.NaN,
    ndata,
    converged: converged && cov !== null,
  };
}

/** Chi^2 of sum_i F_i P(x - x_i) over all usable pixels of `box` (so that fits of different models over one box compare). */
export function modelsChi2(
  exposure: Exposure,
  psf: Psf,
  positions: Position[],
  fluxes: number[],
  box: PixelBox,
  excludeBits: number,
): number {
  const samplers = positions.map((l) => psfSampler(psf, l.x, l.y));
  let chi2 = 0;
  forEachUsable(exposure, box, excludeBits, (_k, px, py, d, v) => {
    let model = 0;
    for (let l = 0; l < samplers.length; l++) model += fluxes[l] * samplers[l](px, py)[0];
    chi2 += (d - model) ** 2 / v;
  });
  return chi2;
}
