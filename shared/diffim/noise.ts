/**
 * Local noise levels: the median of a variance plane's usable pixels in each cell of a
 * coarse grid, looked up by position. Filters built per FFT tile (decorrelation, ZOGY)
 * take their noise levels from here, and the shape of each input's noise spectrum from NoiseShape.
 */
import type { Exposure, NoiseCorrelation, NoiseLags } from '../image/exposure.js';
import { MaskPlane, UNUSABLE } from '../image/mask.js';
import { Plane, type ImageF } from '../image/plane.js';
import { poolTask } from '../util/pool-task.js';
import { sharedBuffer } from '../util/buffer-pool.js';
import { sharedOrCopy } from '../util/shared-plane.js';
import { clippedStats, median } from '../util/stats.js';
import type { WorkerPool } from '../util/worker-pool.js';

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
    const nx = Math.max(1, Math.round(e.width / cell)),
      ny = Math.max(1, Math.round(e.height / cell));
    const cells = new Float64Array(nx * ny);
    const all: number[] = [];
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const x0 = Math.floor((i * e.width) / nx),
          x1 = Math.floor(((i + 1) * e.width) / nx);
        const y0 = Math.floor((j * e.height) / ny),
          y1 = Math.floor(((j + 1) * e.height) / ny);
        const step = Math.max(1, Math.floor(Math.sqrt(((x1 - x0) * (y1 - y0)) / 2000)));
        const vals: number[] = [];
        for (let y = y0; y < y1; y += step) {
          const v = e.variance.row(y),
            m = e.mask.row(y);
          for (let x = x0; x < x1; x += step)
            if (!(m[x] & UNUSABLE) && v[x] > 0 && Number.isFinite(v[x])) vals.push(v[x]);
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

/**
 * An input's noise power spectrum relative to its variance plane, N(u, v) = X(u) Y(v) (NoiseLags;
 * 1 everywhere for white noise), sampled at the frequencies i / n of an n-point FFT.
 */
export class NoiseShape {
  /** X(i / n) and Y(j / n), i, j = 0 .. n-1. */
  readonly x: Float64Array;
  readonly y: Float64Array;

  constructor(lags: NoiseLags | null, n: number) {
    this.x = axisSpectrum(lags?.x ?? [1], n);
    this.y = axisSpectrum(lags?.y ?? [1], n);
  }

  /** N(0): the noise level on large scales over the variance plane. */
  get atZero(): number {
    return this.x[0] * this.y[0];
  }
}

/**
 * Least noise power at any frequency, a fraction of the axis's peak. Measured lags (faint light below the source
 * mask, a short series) need not be a valid autocovariance: their spectrum can dip below zero, and the filters'
 * sqrt(1 / N(k)) would then be NaN over the whole difference (a 0.12-0.3 neighbour-weight correlated pair did).
 */
export const MIN_NOISE_POWER_FRACTION = 1e-3;

/** X(i / n) = c[0] + 2 sum_d c[d] cos(2 pi i d / n), i = 0 .. n-1, floored at MIN_NOISE_POWER_FRACTION of its peak. */
function axisSpectrum(c: readonly number[], n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = c[0];
    for (let d = 1; d < c.length; d++) s += 2 * c[d] * Math.cos((2 * Math.PI * i * d) / n);
    out[i] = s;
  }
  const floor = MIN_NOISE_POWER_FRACTION * Math.max(...out);
  for (let i = 0; i < n; i++) if (!(out[i] >= floor)) out[i] = floor;
  return out;
}

/**
 * The noise lags of the region [x0, x1) x [y0, y1) (the model's frame): the cells' lags averaged by
 * their overlap with it (covariances of a region average over it; edge cells reach to infinity).
 * Null model: null (white).
 */
export function noiseLagsIn(
  model: NoiseCorrelation | null,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): NoiseLags | null {
  if (!model) return null;
  const overlap = (a: number, b: number, c: number, origin: number, count: number) => {
    const lo = c === 0 ? a : Math.max(a, origin + c * model.cellSize);
    const hi = c === count - 1 ? b : Math.min(b, origin + (c + 1) * model.cellSize);
    return Math.max(0, hi - lo);
  };
  const length = Math.max(...model.cells.map((l) => Math.max(l.x.length, l.y.length)));
  const x = new Array<number>(length).fill(0),
    y = new Array<number>(length).fill(0);
  let total = 0;
  for (let j = 0; j < model.ny; j++) {
    const wy = overlap(y0, y1, j, model.y0, model.ny);
    for (let i = 0; wy > 0 && i < model.nx; i++) {
      const w = wy * overlap(x0, x1, i, model.x0, model.nx);
      if (!(w > 0)) continue;
      const l = model.cells[j * model.nx + i];
      l.x.forEach((v, d) => (x[d] += w * v));
      l.y.forEach((v, d) => (y[d] += w * v));
      total += w;
    }
  }
  return total > 0 ? { x: x.map((v) => v / total), y: y.map((v) => v / total) } : null;
}

/** The model in the frame of an image whose pixel (0, 0) is (x0, y0) of the model's frame. */
export function inLocalFrame(
  model: NoiseCorrelation | null,
  x0: number,
  y0: number,
): NoiseCorrelation | null {
  return model && { ...model, x0: model.x0 - x0, y0: model.y0 - y0 };
}

/** N(0), the large-scale noise over the variance plane (1 if white), row by row (the model's frame). */
export class LargeScaleFactors {
  private readonly gains: number[];

  constructor(private readonly model: NoiseCorrelation | null) {
    this.gains = model ? model.cells.map((l) => new NoiseShape(l, 1).atZero) : [];
  }

  /** Fills `out` with N(0) along row y, pixels 0 .. out.length - 1. */
  row(y: number, out: Float64Array): Float64Array {
    const m = this.model;
    if (!m) return out.fill(1);
    const j = Math.min(m.ny - 1, Math.max(0, Math.floor((y - m.y0) / m.cellSize)));
    for (let i = 0; i < m.nx; i++) {
      const from = i === 0 ? 0 : Math.max(0, m.x0 + i * m.cellSize),
        to = i === m.nx - 1 ? out.length : Math.min(out.length, m.x0 + (i + 1) * m.cellSize);
      if (to > from) out.fill(this.gains[j * m.nx + i], from, to);
    }
    return out;
  }
}

/**
 * The difference's per-pixel variance, (gU vU + c gC vC) / divisor, gU and gC each input's
 * large-scale factor N(0) (LargeScaleFactors: 1 without a model), c the convolved input's
 * variance scale (kappa^2 after decorrelation, the kernel's squared sum before).
 */
export interface DifferenceVarianceJob {
  unconvolved: Float32Array;
  convolved: Float32Array;
  out: Float32Array;
  width: number;
  height: number;
  models: [NoiseCorrelation | null, NoiseCorrelation | null];
  c: number;
  /** null: no division. */
  divisor: number | null;
}

/** Rows of a DifferenceVarianceJob (contiguous planes); a pool task. */
export function differenceVariance(job: DifferenceVarianceJob): void {
  const { unconvolved, convolved, out, width, height, c, divisor } = job;
  const [gainU, gainC] = job.models.map((m) => new LargeScaleFactors(m));
  const gu = new Float64Array(width),
    gc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    gainU.row(y, gu);
    gainC.row(y, gc);
    for (let x = 0, i = y * width; x < width; x++, i++) {
      const v = gu[x] * unconvolved[i] + c * gc[x] * convolved[i];
      out[i] = divisor === null ? v : v / divisor;
    }
  }
}

/** differenceVariance of the two variance planes, on a worker of `pool` when there is one. */
export async function differenceVarianceAsync(
  unconvolved: ImageF,
  convolved: ImageF,
  models: DifferenceVarianceJob['models'],
  c: number,
  divisor: number | null,
  pool: WorkerPool | null,
): Promise<ImageF> {
  const { width, height } = unconvolved;
  const onPool = !!pool && pool.size > 0;
  // differenceVariance writes every pixel: a reused buffer need not be zeroed first.
  const out = onPool
    ? new Plane(new Float32Array(sharedBuffer(4 * width * height, false)), width, height)
    : Plane.zeros(Float32Array, width, height);
  const data = (p: ImageF): Float32Array =>
    (onPool ? sharedOrCopy(p) : p.contiguous ? p : p.clone()).data;
  const job: DifferenceVarianceJob = {
    unconvolved: data(unconvolved),
    convolved: data(convolved),
    out: out.data,
    width,
    height,
    models,
    c,
    divisor,
  };
  if (onPool) await pool.runTask(poolTask(import.meta.url, { differenceVariance }), job);
  else differenceVariance(job);
  return out;
}

/** Clipped std of image/sqrt(variance) over usable pixels, on a sparse lattice. */
export function normalisedNoise(e: Exposure): { ratio: number; usable: number } {
  const step = Math.max(1, Math.floor(Math.sqrt((e.width * e.height) / 200000)));
  const vals: number[] = [];
  let usable = 0,
    all = 0;
  const bad =
    MaskPlane.BAD |
    MaskPlane.SAT |
    MaskPlane.CR |
    MaskPlane.NO_DATA |
    MaskPlane.EDGE |
    MaskPlane.SUSPECT;
  for (let y = 0; y < e.height; y += step) {
    const im = e.image.row(y),
      v = e.variance.row(y),
      m = e.mask.row(y);
    for (let x = 0; x < e.width; x += step) {
      all++;
      if (m[x] & bad || !(v[x] > 0)) continue;
      usable++;
      vals.push(im[x] / Math.sqrt(v[x]));
    }
  }
  // 5-sigma clipping keeps the Gaussian core's std unbiased (to 0.1%) while dropping sources.
  return {
    ratio: vals.length ? clippedStats(vals, 5).std : Number.NaN,
    usable: usable / Math.max(1, all),
  };
}
