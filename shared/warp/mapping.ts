import type { Wcs } from '../wcs/types.js';

/** Where a pixel grid sits: its size and its origin in the frame of its WCS (a view's x0, y0). */
export interface GridFrame {
  width: number;
  height: number;
  x0: number;
  y0: number;
  wcs: Wcs;
}

/**
 * The output -> template pixel mapping sampled on a coarse grid of nodes (every `interpLength`
 * output pixels, plus the last row and column), as Rubin's warper does, with the local area
 * ratio |det d(template)/d(output)| at each node. Coordinates are array indices of both grids.
 */
export interface PixelMapping {
  /** Output x of the node columns (0, L, 2L, ..., width - 1). */
  nodesX: Float64Array;
  /** Output y of the node rows. */
  nodesY: Float64Array;
  /** Template x, y at node (row j, column i), index j * nodesX.length + i; NaN where the template WCS has no answer. */
  srcX: Float64Array;
  srcY: Float64Array;
  /** Output pixel area over template pixel area (template pixels per output pixel) at each node. */
  area: Float64Array;
  /** Node spacing used, output pixels. */
  interpLength: number;
  /** Largest |interpolated - exact| template position over all cell centres, pixels. */
  maxErrorPx: number;
}

/** Exact output -> template mapping of points given in output array indices. */
export function exactMapping(
  out: GridFrame,
  src: GridFrame,
  xs: Float64Array,
  ys: Float64Array,
): { x: Float64Array; y: Float64Array } {
  const px = new Float64Array(xs.length);
  const py = new Float64Array(ys.length);
  for (let i = 0; i < xs.length; i++) {
    px[i] = xs[i] + out.x0;
    py[i] = ys[i] + out.y0;
  }
  const t = src.wcs.skyToPixel(out.wcs.pixelToSky({ x: px, y: py }));
  for (let i = 0; i < xs.length; i++) {
    t.x[i] -= src.x0;
    t.y[i] -= src.y0;
  }
  return t;
}

function nodePositions(size: number, step: number): Float64Array {
  const nodes: number[] = [];
  for (let v = 0; v < size - 1; v += step) nodes.push(v);
  nodes.push(Math.max(size - 1, 0));
  return Float64Array.from(nodes);
}

/** Step for the area's central differences, output pixels. */
const AREA_STEP = 0.5;

function sample(out: GridFrame, src: GridFrame, step: number): Omit<PixelMapping, 'maxErrorPx'> {
  const nodesX = nodePositions(out.width, step);
  const nodesY = nodePositions(out.height, step);
  const n = nodesX.length * nodesY.length;
  const h = AREA_STEP;
  // Each node and its four neighbours at +-h, in one vectorised WCS call.
  const offsets: Array<[number, number]> = [
    [0, 0],
    [h, 0],
    [-h, 0],
    [0, h],
    [0, -h],
  ];
  const xs = new Float64Array(5 * n);
  const ys = new Float64Array(5 * n);
  for (let j = 0, k = 0; j < nodesY.length; j++) {
    for (let i = 0; i < nodesX.length; i++, k++) {
      offsets.forEach(([dx, dy], o) => {
        xs[o * n + k] = nodesX[i] + dx;
        ys[o * n + k] = nodesY[j] + dy;
      });
    }
  }
  const t = exactMapping(out, src, xs, ys);
  const area = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const dxdx = (t.x[n + k] - t.x[2 * n + k]) / (2 * h);
    const dydx = (t.y[n + k] - t.y[2 * n + k]) / (2 * h);
    const dxdy = (t.x[3 * n + k] - t.x[4 * n + k]) / (2 * h);
    const dydy = (t.y[3 * n + k] - t.y[4 * n + k]) / (2 * h);
    area[k] = Math.abs(dxdx * dydy - dxdy * dydx);
  }
  return { nodesX, nodesY, srcX: t.x.slice(0, n), srcY: t.y.slice(0, n), area, interpLength: step };
}

/** Largest error of the bilinear interpolation, measured at every cell centre against the exact mapping. */
function interpolationError(
  m: Omit<PixelMapping, 'maxErrorPx'>,
  out: GridFrame,
  src: GridFrame,
): number {
  const { nodesX, nodesY, srcX, srcY } = m;
  const nx = nodesX.length;
  const cells = (nx - 1) * (nodesY.length - 1);
  if (cells === 0) return 0;
  const xs = new Float64Array(cells);
  const ys = new Float64Array(cells);
  const predictedX = new Float64Array(cells);
  const predictedY = new Float64Array(cells);
  for (let j = 0, c = 0; j < nodesY.length - 1; j++) {
    for (let i = 0; i < nx - 1; i++, c++) {
      xs[c] = (nodesX[i] + nodesX[i + 1]) / 2;
      ys[c] = (nodesY[j] + nodesY[j + 1]) / 2;
      const k = j * nx + i;
      predictedX[c] = (srcX[k] + srcX[k + 1] + srcX[k + nx] + srcX[k + nx + 1]) / 4;
      predictedY[c] = (srcY[k] + srcY[k + 1] + srcY[k + nx] + srcY[k + nx + 1]) / 4;
    }
  }
  const exact = exactMapping(out, src, xs, ys);
  let worst = 0;
  for (let c = 0; c < cells; c++) {
    const e = Math.hypot(exact.x[c] - predictedX[c], exact.y[c] - predictedY[c]);
    if (e > worst) worst = e;
  }
  return worst;
}

/** Smallest node spacing tried before accepting the error as it is. */
const MIN_INTERP_LENGTH = 4;

/**
 * Samples the mapping every `interpLength` pixels, halving the spacing until the bilinear
 * interpolation is within `maxErrorPx` of the exact WCS mapping at every cell centre.
 */
export function buildMapping(
  out: GridFrame,
  src: GridFrame,
  interpLength: number,
  maxErrorPx: number,
): PixelMapping {
  let step = Math.max(1, Math.floor(interpLength));
  for (;;) {
    const m = sample(out, src, step);
    const error = interpolationError(m, out, src);
    if (error <= maxErrorPx || step <= MIN_INTERP_LENGTH) return { ...m, maxErrorPx: error };
    step = Math.max(MIN_INTERP_LENGTH, Math.floor(step / 2));
  }
}
