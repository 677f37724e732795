// The resampler in plain JavaScript: the fallback where WebAssembly SIMD is not available, and
// the reference resample-wasm.ts reproduces bit for bit.
import { MaskPlane } from '../image/mask.js';
import { LanczosTable } from './lanczos.js';
import { PHASE_BINS, CELL_SIZE, phaseBin } from './noise-correlation.js';
import {
  interpolateRow,
  phaseHistograms,
  type BandStats,
  type ResampleJob,
} from './resample-job.js';

/**
 * Lanczos resampling of output rows [yStart, yEnd): flux per pixel scaled by the area ratio,
 * variance by the squared weights (and squared area ratio), mask bits ORed over the footprint.
 * Kernels that hang over the template's edge are truncated and renormalised, and flagged EDGE;
 * points outside the template are NO_DATA. The JavaScript engine (resampleRows chooses).
 */
export function resampleRowsJs(
  job: ResampleJob,
  yStart: number,
  yEnd: number,
  histograms: Pick<BandStats, 'phasesX' | 'phasesY'> = phaseHistograms(job),
): BandStats {
  const lanczos = LanczosTable.of(job.kernel);
  const { a, taps, table, phases } = lanczos;
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
  const posX = new Float64Array(outWidth);
  const posY = new Float64Array(outWidth);
  const scales = new Float64Array(outWidth);
  const wx = new Float64Array(taps);
  const wy = new Float64Array(taps);
  const noData = job.noDataValue;
  const fast3 = taps === 6;
  let covered = 0;
  let sumSquaredWeights = 0;
  const cellsX = Math.ceil(outWidth / CELL_SIZE);
  const { phasesX, phasesY } = histograms;
  // Each column's histogram cell, once: offsets of the cell's bins within its row of cells.
  const cellOf = new Int32Array(outWidth);
  const binsPerPhase = PHASE_BINS / phases;
  for (let x = 0; x < outWidth; x++) cellOf[x] = Math.floor(x / CELL_SIZE) * PHASE_BINS;
  for (let y = yStart; y < yEnd; y++) {
    interpolateRow(job.mapping, y, posX, posY, scales);
    const outRow = y * outWidth;
    const cellRow = Math.floor(y / CELL_SIZE) * cellsX * PHASE_BINS;
    for (let x = 0; x < outWidth; x++) {
      const sx = posX[x];
      const sy = posY[x];
      const o = outRow + x;
      if (!(sx >= -0.5 && sx <= W - 0.5 && sy >= -0.5 && sy <= H - 0.5)) {
        outImage[o] = noData;
        outVariance[o] = noData;
        outMask[o] = MaskPlane.NO_DATA;
        continue;
      }
      const scale = scales[x];
      // sx, sy >= -0.5, so truncation of (s + 1) is floor(s) + 1.
      const ix = ((sx + 1) | 0) - 1;
      const iy = ((sy + 1) | 0) - 1;
      const x0 = ix - (a - 1);
      const y0 = iy - (a - 1);
      let bits = srcMask
        ? srcMask[Math.min(Math.max(iy, 0), H - 1) * W + Math.min(Math.max(ix, 0), W - 1)]
        : 0;
      let value = 0;
      let variance = 0;
      let squares: number;
      let binX: number;
      let binY: number;
      if (fast3 && x0 >= 0 && y0 >= 0 && x0 + 6 <= W && y0 + 6 <= H) {
        // Lanczos-3 interior, the hot loop: table rows interpolated in phase, 6 x 6 taps unrolled.
        const px = (sx - ix) * phases;
        const pxi = px | 0;
        const tx = px - pxi;
        const bx = pxi * 6;
        const w0 = table[bx] + tx * (table[bx + 6] - table[bx]);
        const w1 = table[bx + 1] + tx * (table[bx + 7] - table[bx + 1]);
        const w2 = table[bx + 2] + tx * (table[bx + 8] - table[bx + 2]);
        const w3 = table[bx + 3] + tx * (table[bx + 9] - table[bx + 3]);
        const w4 = table[bx + 4] + tx * (table[bx + 10] - table[bx + 4]);
        const w5 = table[bx + 5] + tx * (table[bx + 11] - table[bx + 5]);
        const q0 = w0 * w0;
        const q1 = w1 * w1;
        const q2 = w2 * w2;
        const q3 = w3 * w3;
        const q4 = w4 * w4;
        const q5 = w5 * w5;
        const py = (sy - iy) * phases;
        const pyi = py | 0;
        const ty = py - pyi;
        const by = pyi * 6;
        let squaresY = 0;
        for (let j = 0; j < 6; j++) {
          const wj = table[by + j] + ty * (table[by + 6 + j] - table[by + j]);
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
          value += wj * v;
          variance += wj * wj * s;
          squaresY += wj * wj;
        }
        squares = (q0 + q1 + q2 + q3 + q4 + q5) * squaresY;
        // phaseBin of the phases px, py from their table rows (bins are whole runs of rows: 64 of 2048).
        binX = Math.min(PHASE_BINS - 1, (pxi * binsPerPhase) | 0);
        binY = Math.min(PHASE_BINS - 1, (pyi * binsPerPhase) | 0);
      } else {
        lanczos.weights(sx - ix, wx);
        lanczos.weights(sy - iy, wy);
        // General path: any kernel, truncated and renormalised over the taps inside the template.
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
        if (x0 < 0 || y0 < 0 || x0 + taps > W || y0 + taps > H) bits |= MaskPlane.EDGE;
        binX = phaseBin((sx - ix) * phases, phases);
        binY = phaseBin((sy - iy) * phases, phases);
      }
      outImage[o] = value * scale;
      outVariance[o] = variance * scale * scale;
      outMask[o] = bits;
      if (!(bits & MaskPlane.NO_DATA)) {
        covered++;
        sumSquaredWeights += squares;
        const cell = cellRow + cellOf[x];
        phasesX[cell + binX]++;
        phasesY[cell + binY]++;
      }
    }
  }
  return { covered, sumSquaredWeights, phasesX, phasesY };
}
