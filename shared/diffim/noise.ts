/**
 * Local noise levels: the median of a variance plane's usable pixels in each cell of a
 * coarse grid, looked up by position. Filters built per FFT tile (decorrelation, ZOGY)
 * take their white-noise levels from here.
 */
import type { Exposure } from '../image/exposure.js';
import { UNUSABLE } from '../image/mask.js';
import { median } from '../util/stats.js';

export class NoiseMap {
  private constructor(
    private readonly cells: Float64Array,
    private readonly nx: number,
    private readonly ny: number,
    private readonly width: number,
    private readonly height: number,
  ) {}

  /** Cells of about `cell` pixels; each sampled on a sparse lattice. */
  static of(e: Exposure, cell = 256): NoiseMap {
    const nx = Math.max(1, Math.round(e.width / cell)), ny = Math.max(1, Math.round(e.height / cell));
    const cells = new Float64Array(nx * ny);
    const all: number[] = [];
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const x0 = Math.floor((i * e.width) / nx), x1 = Math.floor(((i + 1) * e.width) / nx);
        const y0 = Math.floor((j * e.height) / ny), y1 = Math.floor(((j + 1) * e.height) / ny);
        const step = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 2000)));
        const vals: number[] = [];
        for (let y = y0; y < y1; y += step) {
          const v = e.variance.row(y), m = e.mask.row(y);
          for (let x = x0; x < x1; x += step) if (!(m[x] & UNUSABLE) && v[x] > 0 && Number.isFinite(v[x])) vals.push(v[x]);
        }
        cells[j * nx + i] = vals.length ? median(vals) : Number.NaN;
        if (vals.length) all.push(cells[j * nx + i]);
      }
    }
    const fallback = all.length ? median(all) : 1;
    for (let k = 0; k < cells.length; k++) if (!Number.isFinite(cells[k])) cells[k] = fallback;
    return new NoiseMap(cells, nx, ny, e.width, e.height);
  }

  /** Median per-pixel variance near (x, y). */
  at(x: number, y: number): number {
    const i = Math.min(this.nx - 1, Math.max(0, Math.floor((x * this.nx) / this.width)));
    const j = Math.min(this.ny - 1, Math.max(0, Math.floor((y * this.ny) / this.height)));
    return this.cells[j * this.nx + i];
  }

  /** Median over the whole image. */
  get typical(): number {
    return median(this.cells);
  }
}
