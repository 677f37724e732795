import type { Psf, PsfStamp } from '../psf/types.js';
import type { Wcs } from '../wcs/types.js';
import { WarpGeometryError } from './errors.js';
import { LanczosTable } from './lanczos.js';

/** Largest side of a warped PSF stamp, pixels (a 4" FWHM at 0.04"/px fits in ~250). */
export const MAX_WARPED_PSF_STAMP = 255;

/** Step of the central differences for the local pixel-to-pixel Jacobian, pixels. */
const JACOBIAN_STEP = 1;

/**
 * The template's PSF seen in the warped (science) frame: at a science position it takes the
 * template PSF at the corresponding template position and resamples the stamp through the local
 * linear map d(template)/d(science) (enough for the small scale, rotation and distortion
 * differences between two images of one field), with a Lanczos-3 kernel, renormalised to sum 1.
 */
export class WarpedPsf implements Psf {
  /** The template's stamp size, grown (odd) by the ratio of pixel scales when science pixels are smaller. */
  readonly stampSize: number;
  private readonly lanczos = LanczosTable.of('lanczos3');
  private readonly wx = new Float64Array(6);
  private readonly wy = new Float64Array(6);

  constructor(
    readonly templatePsf: Psf,
    private readonly scienceWcs: Wcs,
    private readonly templateWcs: Wcs,
  ) {
    const { jacobian: j } = this.localMap(0, 0);
    const stretch = 1 / Math.sqrt(Math.abs(j[0][0] * j[1][1] - j[0][1] * j[1][0]));
    // A degenerate map (zero, non-finite or absurd stretch) would allocate an unbounded stamp.
    // (NaN: the map is unknown at (0, 0), off the template; the coverage check reports that.)
    const grown = Number.isNaN(stretch) ? 0 : Math.ceil(templatePsf.stampSize * stretch);
    if (grown > MAX_WARPED_PSF_STAMP) {
      throw new WarpGeometryError(
        `template PSF stretched ${stretch.toPrecision(3)}x by the science/template pixel map: its stamp would exceed ${MAX_WARPED_PSF_STAMP} px (degenerate WCS?)`,
      );
    }
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

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const map = this.localMap(x, y);
    const source = this.templatePsf.stampAt(map.x, map.y, true);
    const size = this.stampSize;
    const half = (size - 1) / 2;
    const sourceHalf = (source.size - 1) / 2;
    const [[j00, j01], [j10, j11]] = map.jacobian;
    const phaseX = centered ? 0 : x - Math.round(x);
    const phaseY = centered ? 0 : y - Math.round(y);
    const data = new Float32Array(size * size);
    let sum = 0;
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const dx = col - half - phaseX;
        const dy = row - half - phaseY;
        const v = this.sample(
          source,
          sourceHalf + j00 * dx + j01 * dy,
          sourceHalf + j10 * dx + j11 * dy,
        );
        data[row * size + col] = v;
        sum += v;
      }
    }
    if (sum !== 0) for (let i = 0; i < data.length; i++) data[i] /= sum;
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

  /** The template FWHM scaled as its second moments are by the local map. */
  fwhmAt(x: number, y: number): number {
    const map = this.localMap(x, y);
    const ratio = this.sigmaAt(x, y) / this.templatePsf.sigmaAt(map.x, map.y);
    return this.templatePsf.fwhmAt(map.x, map.y) * ratio;
  }

  /** Lanczos-3 interpolation of a stamp at (sx, sy) in stamp pixels; 0 outside. */
  private sample(stamp: PsfStamp, sx: number, sy: number): number {
    const ix = Math.floor(sx);
    const iy = Math.floor(sy);
    const { wx, wy } = this;
    this.lanczos.weights(sx - ix, wx);
    this.lanczos.weights(sy - iy, wy);
    let v = 0;
    for (let j = 0; j < 6; j++) {
      const yy = iy - 2 + j;
      if (yy < 0 || yy >= stamp.size) continue;
      for (let i = 0; i < 6; i++) {
        const xx = ix - 2 + i;
        if (xx >= 0 && xx < stamp.size) v += wx[i] * wy[j] * stamp.data[yy * stamp.size + xx];
      }
    }
    return v;
  }
}
