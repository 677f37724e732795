import type { Psf, PsfStamp } from '../psf/types.js';
import type { Wcs } from '../wcs/types.js';
import { LanczosTable } from './lanczos.js';
import { CELL_SIZE } from './noise-correlation.js';
import { meanTransfer, type TransferTable } from './interpolation-transfer.js';

/** Step of the central differences for the local pixel-to-pixel Jacobian, pixels. */
const JACOBIAN_STEP = 1;
/** Aliases k + n (n = -ALIASES .. ALIASES per axis) summed when the science grid samples the template's band. */
const ALIASES = 1;

/**
 * The template's PSF seen in the warped (science) frame. The warp evaluates, at each output pixel's
 * template position t = floor(t) + f, sum_k w_k(f) p(t - t_k) (Lanczos-3 taps w_k at distances
 * t_k = f - k + 2): the template image p convolved with a comb whose transfer function is
 * W_f(u) = sum_k w_k(f) exp(-2 pi i u t_k). Over the phases used around a position the warped image
 * is on average p * h with H(u) = <W_f(u)>_f, per axis (interpolation-transfer.ts; the noise takes
 * <|W_f|^2>, noise-correlation.ts). So at a science position the model is, in template frequency
 * u = J^-T k (J = d(template)/d(science), the local linear map), the template stamp's spectrum
 * times H_x(u_x) H_y(u_y) within the template's Nyquist band, sampled on the science grid (aliases
 * summed) and shifted by the sub-pixel phase in Fourier space (no further smoothing).
 */
export class WarpedPsf implements Psf {
  /** The template's stamp size, grown (odd) by the ratio of pixel scales when science pixels are smaller. */
  readonly stampSize: number;
  private readonly lanczos = new LanczosTable('lanczos3');

  constructor(
    readonly templatePsf: Psf,
    private readonly scienceWcs: Wcs,
    private readonly templateWcs: Wcs,
  ) {
    const { jacobian: j } = this.localMap(0, 0);
    const stretch = 1 / Math.sqrt(Math.abs(j[0][0] * j[1][1] - j[0][1] * j[1][0]));
    const grown = Number.isFinite(stretch) ? Math.ceil(templatePsf.stampSize * stretch) : 0;
    this.stampSize = Math.max(templatePsf.stampSize, grown % 2 === 1 ? grown : grown + 1);
  }

  /** Template position and J = d(template pixel)/d(science pixel) at a science pixel. */
  localMap(
    x: number,
    y: number,
  ): { x: number; y: number; jacobian: [[number, number], [number, number]] } {
    const h = JACOBIAN_STEP;
    const t = this.templateWcs.skyToPixel(
      this.scienceWcs.pixelToSky({
        x: Float64Array.of(x, x + h, x - h, x, x),
        y: Float64Array.of(y, y, y, y + h, y - h),
      }),
    );
    return {
      x: t.x[0],
      y: t.y[0],
      jacobian: [
        [(t.x[1] - t.x[2]) / (2 * h), (t.x[3] - t.x[4]) / (2 * h)],
        [(t.y[1] - t.y[2]) / (2 * h), (t.y[3] - t.y[4]) / (2 * h)],
      ],
    };
  }

  /**
   * The interpolation's mean transfer functions along the template's x and y axes over the output
   * pixels of the side x side square around (x, y), through the local linear map.
   */
  interpolationTransfer(x: number, y: number, side: number): { x: TransferTable; y: TransferTable } {
    const { x: tx, y: ty, jacobian: [[j00, j01], [j10, j11]] } = this.localMap(x, y);
    const first = -Math.floor(side / 2), phaseX = x - Math.round(x), phaseY = y - Math.round(y);
    const phasesX = new Float64Array(side * side);
    const phasesY = new Float64Array(side * side);
    let i = 0;
    for (let dy = first - phaseY; i < side * side; dy++) {
      for (let col = 0, dx = first - phaseX; col < side; col++, dx++, i++) {
        const px = tx + j00 * dx + j01 * dy, py = ty + j10 * dx + j11 * dy;
        phasesX[i] = px - Math.floor(px);
        phasesY[i] = py - Math.floor(py);
      }
    }
    return { x: meanTransfer(this.lanczos, phasesX), y: meanTransfer(this.lanczos, phasesY) };
  }

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const map = this.localMap(x, y);
    const source = this.templatePsf.stampAt(map.x, map.y, true);
    const size = this.stampSize;
    // A star's own pixels, or on average the stars of the cell around a centred stamp.
    const transfer = this.interpolationTransfer(x, y, centered ? CELL_SIZE : size);
    const half = (size - 1) / 2;
    const phaseX = centered ? 0 : x - Math.round(x);
    const phaseY = centered ? 0 : y - Math.round(y);
    const [[j00, j01], [j10, j11]] = map.jacobian;
    const det = j00 * j11 - j01 * j10;
    // u = J^-T k.
    const [a00, a01, a10, a11] = [j11 / det, -j10 / det, -j01 / det, j00 / det];
    const spectrum = new TemplateSpectrum(source);
    // A(k) = sum_n P_w(k + n) exp(-2 pi i (k + n).phase): the science samples' spectrum on the size^2 DFT grid.
    const re = new Float64Array(size * size), im = new Float64Array(size * size);
    for (let j = -half; j <= half; j++) {
      for (let i = -half; i <= half; i++) {
        let sr = 0, si = 0;
        for (let ny = -ALIASES; ny <= ALIASES; ny++) {
          for (let nx = -ALIASES; nx <= ALIASES; nx++) {
            const kx = i / size + nx, ky = j / size + ny;
            const ux = a00 * kx + a01 * ky, uy = a10 * kx + a11 * ky;
            if (Math.abs(ux) >= 0.5 || Math.abs(uy) >= 0.5) continue;
            const [pr, pi] = spectrum.at(ux, uy);
            const [hxr, hxi] = transfer.x.at(ux), [hyr, hyi] = transfer.y.at(uy);
            const hr = hxr * hyr - hxi * hyi, hi = hxr * hyi + hxi * hyr;
            const qr = pr * hr - pi * hi, qi = pr * hi + pi * hr;
            const angle = -2 * Math.PI * (kx * phaseX + ky * phaseY);
            const c = Math.cos(angle), s = Math.sin(angle);
            sr += qr * c - qi * s;
            si += qr * s + qi * c;
          }
        }
        re[(j + half) * size + i + half] = sr;
        im[(j + half) * size + i + half] = si;
      }
    }
    const data = inverseDft(re, im, size);
    let sum = 0;
    for (let k = 0; k < data.length; k++) sum += data[k];
    if (sum !== 0) for (let k = 0; k < data.length; k++) data[k] /= sum;
    return { size, data };
  }

  sigmaAt(x: number, y: number): number {
    const { size, data } = this.stampAt(x, y, true);
    const half = (size - 1) / 2;
    let second = 0;
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++)
        second += data[row * size + col] * ((col - half) ** 2 + (row - half) ** 2);
    }
    return Math.sqrt(Math.max(second, 0) / 2);
  }

  /** The template FWHM scaled as the second moments are by the local map and the interpolation. */
  fwhmAt(x: number, y: number): number {
    const map = this.localMap(x, y);
    const ratio = this.sigmaAt(x, y) / this.templatePsf.sigmaAt(map.x, map.y);
    return this.templatePsf.fwhmAt(map.x, map.y) * ratio;
  }
}

/** A centred stamp's discrete-time Fourier transform sum_m p(m) exp(-2 pi i u.(m - centre)). */
class TemplateSpectrum {
  private readonly cx: Float64Array;
  private readonly sx: Float64Array;
  private readonly rowRe: Float64Array;
  private readonly rowIm: Float64Array;

  constructor(private readonly stamp: PsfStamp) {
    this.cx = new Float64Array(stamp.size);
    this.sx = new Float64Array(stamp.size);
    this.rowRe = new Float64Array(stamp.size);
    this.rowIm = new Float64Array(stamp.size);
  }

  at(ux: number, uy: number): [number, number] {
    const { size, data } = this.stamp;
    const half = (size - 1) / 2;
    const { cx, sx, rowRe, rowIm } = this;
    for (let m = 0; m < size; m++) {
      cx[m] = Math.cos(2 * Math.PI * ux * (m - half));
      sx[m] = -Math.sin(2 * Math.PI * ux * (m - half));
    }
    for (let row = 0; row < size; row++) {
      let r = 0, i = 0;
      const base = row * size;
      for (let m = 0; m < size; m++) {
        const v = data[base + m];
        r += v * cx[m];
        i += v * sx[m];
      }
      rowRe[row] = r;
      rowIm[row] = i;
    }
    let re = 0, im = 0;
    for (let row = 0; row < size; row++) {
      const c = Math.cos(2 * Math.PI * uy * (row - half)), s = -Math.sin(2 * Math.PI * uy * (row - half));
      re += rowRe[row] * c - rowIm[row] * s;
      im += rowRe[row] * s + rowIm[row] * c;
    }
    return [re, im];
  }
}

/** Real part of the inverse DFT of a centred size^2 spectrum (index (j + half) * size + i + half), separable. */
function inverseDft(re: Float64Array, im: Float64Array, size: number): Float32Array {
  const half = (size - 1) / 2;
  const cos = new Float64Array(size * size), sin = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let d = 0; d < size; d++) {
      const angle = (2 * Math.PI * (i - half) * (d - half)) / size;
      cos[i * size + d] = Math.cos(angle);
      sin[i * size + d] = Math.sin(angle);
    }
  }
  // Rows first: B(j, dx) = sum_i A(i, j) exp(2 pi i k_i dx).
  const br = new Float64Array(size * size), bi = new Float64Array(size * size);
  for (let j = 0; j < size; j++) {
    for (let d = 0; d < size; d++) {
      let r = 0, q = 0;
      for (let i = 0; i < size; i++) {
        const ar = re[j * size + i], ai = im[j * size + i], c = cos[i * size + d], s = sin[i * size + d];
        r += ar * c - ai * s;
        q += ar * s + ai * c;
      }
      br[j * size + d] = r;
      bi[j * size + d] = q;
    }
  }
  const out = new Float32Array(size * size);
  for (let dy = 0; dy < size; dy++) {
    for (let dx = 0; dx < size; dx++) {
      let r = 0;
      for (let j = 0; j < size; j++) r += br[j * size + dx] * cos[j * size + dy] - bi[j * size + dx] * sin[j * size + dy];
      out[dy * size + dx] = r / (size * size);
    }
  }
  return out;
}
