/**
 * A fast stand-in for any `Psf` during measurement: the centred model is evaluated once per
 * `cellSize` x `cellSize` pixel cell (PSFs vary over hundreds of pixels) and sub-pixel phases are
 * applied by separable Lanczos-3 interpolation (Turkowski 1990, "Filters for common resampling
 * tasks", Graphics Gems I), renormalised to unit sum. Thousands of fits then cost microseconds
 * per stamp instead of a full model evaluation.
 */
import type { Psf, PsfStamp } from '../psf/types.js';

const LANCZOS_A = 3;

function lanczos(t: number): number {
  if (t === 0) return 1;
  if (Math.abs(t) >= LANCZOS_A) return 0;
  const pt = Math.PI * t;
  return (LANCZOS_A * Math.sin(pt) * Math.sin(pt / LANCZOS_A)) / (pt * pt);
}

/** Taps w[k], k = -3..3, that evaluate a sampled function at offset -shift: out[i] = sum_k w[k] in[i + k]. */
function taps(shift: number): Float64Array {
  const w = new Float64Array(2 * LANCZOS_A + 1);
  for (let k = -LANCZOS_A; k <= LANCZOS_A; k++) w[k + LANCZOS_A] = lanczos(k + shift);
  return w;
}

/** A cell's centred stamp; its width, costly on some models and unused by most fits, on first ask. */
interface Cell {
  stamp: Float32Array;
  cx: number;
  cy: number;
  sigma?: number;
  fwhm?: number;
}

export class CachedPsf implements Psf {
  readonly stampSize: number;
  private readonly cells = new Map<number, Cell>();

  constructor(
    readonly model: Psf,
    readonly cellSize = 128,
  ) {
    this.stampSize = model.stampSize;
  }

  /** FWHMs of the model at cell centres given by knowFwhm, by cell key. */
  private readonly knownFwhm = new Map<number, number>();

  private key(x: number, y: number): number {
    return Math.floor(y / this.cellSize) * 1_000_003 + Math.floor(x / this.cellSize);
  }

  private cell(x: number, y: number): Cell {
    const i = Math.floor(x / this.cellSize);
    const j = Math.floor(y / this.cellSize);
    const key = this.key(x, y);
    let cell = this.cells.get(key);
    if (!cell) {
      const cx = (i + 0.5) * this.cellSize;
      const cy = (j + 0.5) * this.cellSize;
      const { data, size } = this.model.stampAt(cx, cy, true);
      if (size !== this.stampSize)
        throw new RangeError(
          `PSF stamp size ${size} differs from the model's nominal ${this.stampSize}`,
        );
      cell = { stamp: data, cx, cy };
      this.cells.set(key, cell);
    }
    return cell;
  }

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const base = this.cell(x, y).stamp;
    const size = this.stampSize;
    if (centered) return { size, data: base.slice() };
    const wx = taps(x - Math.round(x));
    const wy = taps(y - Math.round(y));
    const tmp = new Float64Array(size * size);
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++) {
        let acc = 0;
        for (let k = -LANCZOS_A; k <= LANCZOS_A; k++) {
          const s = i + k;
          if (s >= 0 && s < size) acc += wx[k + LANCZOS_A] * base[j * size + s];
        }
        tmp[j * size + i] = acc;
      }
    }
    const data = new Float32Array(size * size);
    let total = 0;
    for (let j = 0; j < size; j++) {
      for (let i = 0; i < size; i++) {
        let acc = 0;
        for (let k = -LANCZOS_A; k <= LANCZOS_A; k++) {
          const s = j + k;
          if (s >= 0 && s < size) acc += wy[k + LANCZOS_A] * tmp[s * size + i];
        }
        data[j * size + i] = acc;
        total += acc;
      }
    }
    if (total !== 0) for (let k = 0; k < data.length; k++) data[k] /= total;
    return { size, data };
  }

  sigmaAt(x: number, y: number): number {
    const c = this.cell(x, y);
    return (c.sigma ??= this.model.sigmaAt(c.cx, c.cy));
  }

  fwhmAt(x: number, y: number): number {
    const known = this.knownFwhm.get(this.key(x, y));
    if (known !== undefined) return known;
    const c = this.cell(x, y);
    return (c.fwhm ??= this.model.fwhmAt(c.cx, c.cy));
  }

  /**
   * The centres of the cells that cover the `width` x `height` pixels from (x0, y0): where fwhmAt
   * evaluates the model.
   */
  cellCentres(
    x0: number,
    y0: number,
    width: number,
    height: number,
  ): { x: Float64Array; y: Float64Array } {
    const n = this.cellSize;
    const [i0, i1] = [Math.floor(x0 / n), Math.floor((x0 + width - 1) / n)];
    const [j0, j1] = [Math.floor(y0 / n), Math.floor((y0 + height - 1) / n)];
    const x: number[] = [];
    const y: number[] = [];
    for (let j = j0; j <= j1; j++)
      for (let i = i0; i <= i1; i++) {
        x.push((i + 0.5) * n);
        y.push((j + 0.5) * n);
      }
    return { x: Float64Array.from(x), y: Float64Array.from(y) };
  }

  /**
   * The model's FWHM at cell centres (cellCentres), found elsewhere, e.g. on a worker thread from
   * the same model (cell-widths.ts): fwhmAt returns them instead of fitting the profile here.
   */
  knowFwhm(x: ArrayLike<number>, y: ArrayLike<number>, fwhm: ArrayLike<number>): void {
    for (let k = 0; k < fwhm.length; k++) this.knownFwhm.set(this.key(x[k], y[k]), fwhm[k]);
  }
}
