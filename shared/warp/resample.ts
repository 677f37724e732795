import { MaskPlane } from '../image/mask.js';
import { LanczosTable, type KernelName } from './lanczos.js';
import type { PixelMapping } from './mapping.js';

/**
 * Everything one band of output rows needs; every array is contiguous (row-major), and may live in
 * a SharedArrayBuffer so that worker threads fill their own rows of the same output.
 */
export interface ResampleJob {
  kernel: KernelName;
  srcWidth: number;
  srcHeight: number;
  srcImage: Float32Array;
  srcVariance: Float32Array;
  /** Template mask already ORed over the footprint window (see dilateMask), or null when all clear. */
  srcMask: Int32Array | null;
  mapping: Pick<PixelMapping, 'nodesX' | 'nodesY' | 'srcX' | 'srcY' | 'area'>;
  outWidth: number;
  outImage: Float32Array;
  outVariance: Float32Array;
  outMask: Int32Array;
  noDataValue: number;
}

export interface BandStats {
  /** Output pixels with data. */
  covered: number;
  /** Sum over covered pixels of the sum of squared normalised kernel weights. */
  sumSquaredWeights: number;
}

/**
 * Lanczos resampling of output rows [yStart, yEnd): flux per pixel scaled by the area ratio,
 * variance by the squared weights (and squared area ratio), mask bits ORed over the footprint.
 * Kernels that hang over the template's edge are truncated and renormalised, and flagged EDGE;
 * points outside the template are NO_DATA.
 */
export function resampleRows(job: ResampleJob, yStart: number, yEnd: number): BandStats {
  const table = new LanczosTable(job.kernel);
  const { a, taps } = table;
  const {
    srcWidth: W,
    srcHeight: H,
    srcImage,
    srcVariance,
    srcMask,
    outWidth,
    outImage,
    outVariance,
    outMask,
  } = job;
  const { nodesX, nodesY, srcX, srcY, area } = job.mapping;
  const nx = nodesX.length;
  const rowX = new Float64Array(nx);
  const rowY = new Float64Array(nx);
  const rowA = new Float64Array(nx);
  const wx = new Float64Array(taps);
  const wy = new Float64Array(taps);
  const noData = job.noDataValue;
  let covered = 0;
  let sumSquaredWeights = 0;
  let cellY = 0;
  for (let y = yStart; y < yEnd; y++) {
    while (cellY < nodesY.length - 2 && y > nodesY[cellY + 1]) cellY++;
    const spanY = nodesY.length > 1 ? nodesY[cellY + 1] - nodesY[cellY] : 1;
    const ty = nodesY.length > 1 ? (y - nodesY[cellY]) / spanY : 0;
    const r0 = cellY * nx;
    const r1 = nodesY.length > 1 ? r0 + nx : r0;
    for (let i = 0; i < nx; i++) {
      rowX[i] = srcX[r0 + i] + ty * (srcX[r1 + i] - srcX[r0 + i]);
      rowY[i] = srcY[r0 + i] + ty * (srcY[r1 + i] - srcY[r0 + i]);
      rowA[i] = area[r0 + i] + ty * (area[r1 + i] - area[r0 + i]);
    }
    const outRow = y * outWidth;
    let cellX = 0;
    for (let x = 0; x < outWidth; x++) {
      while (cellX < nx - 2 && x > nodesX[cellX + 1]) cellX++;
      const spanX = nx > 1 ? nodesX[cellX + 1] - nodesX[cellX] : 1;
      const tx = nx > 1 ? (x - nodesX[cellX]) / spanX : 0;
      const c1 = nx > 1 ? cellX + 1 : cellX;
      const sx = rowX[cellX] + tx * (rowX[c1] - rowX[cellX]);
      const sy = rowY[cellX] + tx * (rowY[c1] - rowY[cellX]);
      const o = outRow + x;
      if (!(sx >= -0.5 && sx <= W - 0.5 && sy >= -0.5 && sy <= H - 0.5)) {
        outImage[o] = noData;
        outVariance[o] = noData;
        outMask[o] = MaskPlane.NO_DATA;
        continue;
      }
      const scale = rowA[cellX] + tx * (rowA[c1] - rowA[cellX]);
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      const sqx = table.weights(sx - ix, wx);
      const sqy = table.weights(sy - iy, wy);
      const x0 = ix - (a - 1);
      const y0 = iy - (a - 1);
      let value = 0;
      let variance = 0;
      let bits = srcMask
        ? srcMask[Math.min(Math.max(iy, 0), H - 1) * W + Math.min(Math.max(ix, 0), W - 1)]
        : 0;
      let squares = sqx * sqy;
      if (taps === 6 && x0 >= 0 && y0 >= 0 && x0 + 6 <= W && y0 + 6 <= H) {
        // Lanczos-3 interior: the 6 taps unrolled (the hot loop of the warp).
        const w0 = wx[0],
          w1 = wx[1],
          w2 = wx[2],
          w3 = wx[3],
          w4 = wx[4],
          w5 = wx[5];
        const q0 = w0 * w0,
          q1 = w1 * w1,
          q2 = w2 * w2,
          q3 = w3 * w3,
          q4 = w4 * w4,
          q5 = w5 * w5;
        for (let j = 0; j < 6; j++) {
          const b = (y0 + j) * W + x0;
          const v =
            w0 * srcImage[b] +
            w1 * srcImage[b + 1] +
            w2 * srcImage[b + 2] +
            w3 * srcImage[b + 3] +
            w4 * srcImage[b + 4] +
            w5 * srcImage[b + 5];
          const s =
            q0 * srcVariance[b] +
            q1 * srcVariance[b + 1] +
            q2 * srcVariance[b + 2] +
            q3 * srcVariance[b + 3] +
            q4 * srcVariance[b + 4] +
            q5 * srcVariance[b + 5];
          const wj = wy[j];
          value += wj * v;
          variance += wj * wj * s;
        }
      } else if (x0 >= 0 && y0 >= 0 && x0 + taps <= W && y0 + taps <= H) {
        for (let j = 0; j < taps; j++) {
          const base = (y0 + j) * W + x0;
          let v = 0;
          let s = 0;
          for (let i = 0; i < taps; i++) {
            const w = wx[i];
            v += w * srcImage[base + i];
            s += w * w * srcVariance[base + i];
          }
          value += wy[j] * v;
          variance += wy[j] * wy[j] * s;
        }
      } else {
        // Truncated kernel: renormalise over the taps inside the template.
        let sumX = 0;
        let sumY = 0;
        let sqX = 0;
        let sqY = 0;
        for (let i = 0; i < taps; i++) {
          if (x0 + i >= 0 && x0 + i < W) {
            sumX += wx[i];
            sqX += wx[i] * wx[i];
          }
        }
        for (let j = 0; j < taps; j++) {
          if (y0 + j < 0 || y0 + j >= H) continue;
          sumY += wy[j];
          sqY += wy[j] * wy[j];
          const base = (y0 + j) * W + x0;
          let v = 0;
          let s = 0;
          for (let i = 0; i < taps; i++) {
            if (x0 + i < 0 || x0 + i >= W) continue;
            v += wx[i] * srcImage[base + i];
            s += wx[i] * wx[i] * srcVariance[base + i];
          }
          value += wy[j] * v;
          variance += wy[j] * wy[j] * s;
        }
        const norm = sumX * sumY;
        value /= norm;
        variance /= norm * norm;
        squares = (sqX * sqY) / (norm * norm);
        bits |= MaskPlane.EDGE;
      }
      outImage[o] = value * scale;
      outVariance[o] = variance * scale * scale;
      outMask[o] = bits;
      covered++;
      sumSquaredWeights += squares;
    }
  }
  return { covered, sumSquaredWeights };
}

/**
 * The template mask ORed over the window [x-(r-1), x+r] x [y-(r-1), y+r] (clipped at the
 * edges), so that one lookup at (floor(sx), floor(sy)) gives the OR over the footprint.
 */
export function dilateMask(
  mask: Int32Array,
  width: number,
  height: number,
  radius: number,
): Int32Array {
  const lo = radius - 1;
  const hi = radius;
  const horizontal = new Int32Array(mask.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let bits = 0;
      const from = Math.max(0, x - lo);
      const to = Math.min(width - 1, x + hi);
      for (let k = from; k <= to; k++) bits |= mask[row + k];
      horizontal[row + x] = bits;
    }
  }
  const out = new Int32Array(mask.length);
  for (let y = 0; y < height; y++) {
    const from = Math.max(0, y - lo);
    const to = Math.min(height - 1, y + hi);
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let bits = 0;
      for (let k = from; k <= to; k++) bits |= horizontal[k * width + x];
      out[row + x] = bits;
    }
  }
  return out;
}
