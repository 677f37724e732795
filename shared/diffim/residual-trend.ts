/**
 * The smooth trend under the difference's residual-background mesh (illumination.ts
 * subtractResidualBackground): a polynomial of low order in x and y fitted to the measured cells
 * (clipped), so that the mesh's 3 x 3 median filter and its fill of empty cells act on the cells'
 * deviations from the trend, not on the trend. Without it a sky curvature rising towards the frame's
 * edges (science and template drawn with different ones) was cut by the median filter in the outer
 * cells and left +0.1-0.25 sigma along the edges (shared/diffim/README.md). The mesh's nodes are
 * placed at the mean position of each cell column's (row's) usable pixels: the outer cells' usable
 * pixels lie inside the EDGE band, not about the cell's centre.
 * @example
 *   const trend = fitCellTrend(cells.sky, nx, ny, xs, ys, width, height, 2);
 *   if (trend) addTrendRow(trend, y, row);
 */
import { MAD_TO_SIGMA } from '../util/numeric.js';
import { median } from '../util/stats.js';
import { solveSymmetric } from '../util/linalg.js';

export interface CellTrend {
  order: number;
  /** Coefficient of u^i v^j at index termIndex(i, j), u and v the coordinates scaled to [-1, 1]. */
  coef: Float64Array;
  width: number;
  height: number;
}

/** Clipping rounds of the trend's fit, and the clip in robust sigmas of the cells about it. */
const TREND_ROUNDS = 4;
const TREND_CLIP_SIGMAS = 3;
/** The fit needs this many finite cells per term. */
const CELLS_PER_TERM = 2;

/** Terms u^i v^j with i + j <= order, in order (i, then j). */
function termCount(order: number): number {
  return ((order + 1) * (order + 2)) / 2;
}

/** x in [0, size - 1] scaled to [-1, 1]. */
const scaled = (x: number, size: number): number => (size > 1 ? (2 * x) / (size - 1) - 1 : 0);

/** The terms u^i v^j (i + j <= order) at (u, v), written into `out`. */
function terms(order: number, u: number, v: number, out: Float64Array): Float64Array {
  let k = 0;
  for (let i = 0, ui = 1; i <= order; i++, ui *= u)
    for (let j = 0, vj = 1; j <= order - i; j++, vj *= v) out[k++] = ui * vj;
  return out;
}

/** The trend's value at pixel (x, y). */
export function trendAt(trend: CellTrend, x: number, y: number): number {
  const t = terms(
    trend.order,
    scaled(x, trend.width),
    scaled(y, trend.height),
    new Float64Array(trend.coef.length),
  );
  let s = 0;
  for (let k = 0; k < t.length; k++) s += t[k] * trend.coef[k];
  return s;
}

/** Adds the trend's row y to `out` (the image's width): per row a polynomial in u, by Horner. */
export function addTrendRow(trend: CellTrend, y: number, out: Float32Array): void {
  const { order, coef, width } = trend;
  const v = scaled(y, trend.height);
  // a[i] = sum_j coef(i, j) v^j.
  const a = new Float64Array(order + 1);
  let k = 0;
  for (let i = 0; i <= order; i++)
    for (let j = 0, vj = 1; j <= order - i; j++, vj *= v) a[i] += coef[k++] * vj;
  for (let x = 0; x < width; x++) {
    const u = scaled(x, width);
    let s = a[order];
    for (let i = order - 1; i >= 0; i--) s = s * u + a[i];
    out[x] += s;
  }
}

/**
 * The clipped least-squares polynomial of `order` through the finite cells `sky` (nx x ny, row-major)
 * at node positions xs, ys on a width x height image; null with too few cells or order < 0.
 */
export function fitCellTrend(
  sky: Float64Array,
  nx: number,
  ny: number,
  xs: Float64Array,
  ys: Float64Array,
  width: number,
  height: number,
  order: number,
): CellTrend | null {
  if (!(order >= 0)) return null;
  const nt = termCount(order);
  const design = new Float64Array(nx * ny * nt);
  const use = new Uint8Array(nx * ny);
  for (let cy = 0; cy < ny; cy++)
    for (let cx = 0; cx < nx; cx++) {
      const k = cy * nx + cx;
      use[k] = Number.isFinite(sky[k]) ? 1 : 0;
      terms(order, scaled(xs[cx], width), scaled(ys[cy], height), design.subarray(k * nt));
    }
  const trend: CellTrend = { order, coef: new Float64Array(nt), width, height };
  const fitted = (k: number): number => {
    let s = 0;
    for (let t = 0; t < nt; t++) s += design[k * nt + t] * trend.coef[t];
    return s;
  };
  for (let round = 0; round < TREND_ROUNDS; round++) {
    const ata = new Float64Array(nt * nt);
    const atb = new Float64Array(nt);
    let n = 0;
    for (let k = 0; k < use.length; k++) {
      if (!use[k]) continue;
      n++;
      for (let a = 0; a < nt; a++) {
        atb[a] += design[k * nt + a] * sky[k];
        for (let b = 0; b < nt; b++) ata[a * nt + b] += design[k * nt + a] * design[k * nt + b];
      }
    }
    if (n < CELLS_PER_TERM * nt) return null;
    const coef = solveSymmetric(ata, atb);
    if (!coef.every(Number.isFinite)) return null;
    trend.coef = coef;
    const deviations: number[] = [];
    for (let k = 0; k < use.length; k++) if (use[k]) deviations.push(Math.abs(sky[k] - fitted(k)));
    const clip = TREND_CLIP_SIGMAS * MAD_TO_SIGMA * median(deviations);
    for (let k = 0; k < use.length; k++)
      use[k] = Number.isFinite(sky[k]) && !(Math.abs(sky[k] - fitted(k)) > clip) ? 1 : 0;
  }
  return trend;
}

/**
 * Node positions of `n` cells along an axis of `size` pixels: the mean position of the usable
 * pixels in each cell's span (`counts[x]` usable pixels at x), the cell's centre where none is.
 */
export function usableCentroids(counts: ArrayLike<number>, n: number, size: number): Float64Array {
  const out = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const a = Math.floor((c * size) / n);
    const b = Math.floor(((c + 1) * size) / n);
    let [sum, weight] = [0, 0];
    for (let x = a; x < b; x++) {
      sum += counts[x] * x;
      weight += counts[x];
    }
    out[c] = weight > 0 ? sum / weight : ((c + 0.5) * size) / n - 0.5;
  }
  return out;
}
