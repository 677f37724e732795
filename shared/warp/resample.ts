import { MaskPlane } from '../image/mask.js';
import { LanczosTable, type KernelName } from './lanczos.js';
import type { PixelMapping } from './mapping.js';
import { CELL_SIZE, PHASE_BINS, phaseBin } from './noise-correlation.js';

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
  /** Output pixels with data (no NO_DATA bit, from outside the template or from its own NO_DATA pixels). */
  covered: number;
  /** Sum over those pixels of the sum of squared normalised kernel weights. */
  sumSquaredWeights: number;
  /**
   * Histograms of those pixels' sub-pixel phases along x and y, per cell of CELL_SIZE output pixels
   * (row-major, ceil(outWidth / CELL_SIZE) x ceil(outHeight / CELL_SIZE) cells of PHASE_BINS bins over [0, 1)).
   */
  phasesX: Float64Array;
  phasesY: Float64Array;
}

/**
 * Lanczos resampling of output rows [yStart, yEnd): flux per pixel scaled by the area ratio,
 * variance by the squared weights (and squared area ratio), mask bits ORed over the footprint.
 * Kernels that hang over the template's edge are truncated and renormalised, and flagged EDGE;
 * points outside the template are NO_DATA.
 */
export function resampleRows(
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

/** Empty phase histograms for the cells of a job's output (see BandStats). */
export function phaseHistograms(job: Pick<ResampleJob, 'outWidth' | 'outImage'>): {
  phasesX: Float64Array;
  phasesY: Float64Array;
} {
  const cells =
    Math.ceil(job.outWidth / CELL_SIZE) * Math.ceil(job.outImage.length / job.outWidth / CELL_SIZE);
  return {
    phasesX: new Float64Array(cells * PHASE_BINS),
    phasesY: new Float64Array(cells * PHASE_BINS),
  };
}

/**
 * How the output rows are shared between threads: chunks of `chunkRows` rows claimed one at a
 * time from the shared counter `claim`, so a thread that starts late (a pool worker still busy) or
 * runs slower takes fewer. Per chunk, on shared memory: the claiming thread (`owner`, so a failed
 * thread's chunks can be redone elsewhere), its covered pixels and its sum of squared weights,
 * added up in chunk order at the end (the same sum whichever threads took the chunks).
 */
export interface RowClaims {
  claim: Int32Array;
  chunkRows: number;
  owner: Int32Array;
  covered: Int32Array;
  squares: Float64Array;
}

export function rowClaims(outHeight: number, chunkRows: number): RowClaims {
  const chunks = Math.ceil(outHeight / chunkRows);
  return {
    claim: new Int32Array(new SharedArrayBuffer(4)),
    chunkRows,
    owner: new Int32Array(new SharedArrayBuffer(4 * chunks)).fill(-1),
    covered: new Int32Array(new SharedArrayBuffer(4 * chunks)),
    squares: new Float64Array(new SharedArrayBuffer(8 * chunks)),
  };
}

/**
 * Resamples chunks of rows claimed from `claims` (or the given chunks) as thread `thread`; returns
 * this thread's phase histograms (its chunks' covered pixels and squares are in `claims`).
 */
export function resampleClaimed(
  job: ResampleJob,
  claims: RowClaims,
  thread: number,
  chunks?: Iterable<number>,
): Pick<BandStats, 'phasesX' | 'phasesY'> {
  const height = job.outImage.length / job.outWidth;
  const count = claims.owner.length;
  const phases = phaseHistograms(job);
  const run = (c: number) => {
    claims.owner[c] = thread;
    const y0 = c * claims.chunkRows;
    const stats = resampleRows(job, y0, Math.min(height, y0 + claims.chunkRows), phases);
    claims.covered[c] = stats.covered;
    claims.squares[c] = stats.sumSquaredWeights;
  };
  if (chunks) for (const c of chunks) run(c);
  else
    for (let c = Atomics.add(claims.claim, 0, 1); c < count; c = Atomics.add(claims.claim, 0, 1))
      run(c);
  return phases;
}

/** Template position and area ratio along output row y, bilinear between the mapping's nodes. */
function interpolateRow(
  mapping: ResampleJob['mapping'],
  y: number,
  posX: Float64Array,
  posY: Float64Array,
  scales: Float64Array,
): void {
  const { nodesX, nodesY, srcX, srcY, area } = mapping;
  const nx = nodesX.length;
  let j = 0;
  while (j < nodesY.length - 2 && y > nodesY[j + 1]) j++;
  const ty = nodesY.length > 1 ? (y - nodesY[j]) / (nodesY[j + 1] - nodesY[j]) : 0;
  const r0 = j * nx;
  const r1 = nodesY.length > 1 ? r0 + nx : r0;
  const at = (values: Float64Array, i: number) =>
    values[r0 + i] + ty * (values[r1 + i] - values[r0 + i]);
  if (nx === 1) {
    posX[0] = at(srcX, 0);
    posY[0] = at(srcY, 0);
    scales[0] = at(area, 0);
    return;
  }
  for (let i = 0; i < nx - 1; i++) {
    const xStart = nodesX[i];
    const xEnd = i === nx - 2 ? nodesX[i + 1] : nodesX[i + 1] - 1;
    const span = nodesX[i + 1] - nodesX[i];
    const x0 = at(srcX, i);
    const y0 = at(srcY, i);
    const a0 = at(area, i);
    const dx = (at(srcX, i + 1) - x0) / span;
    const dy = (at(srcY, i + 1) - y0) / span;
    const da = (at(area, i + 1) - a0) / span;
    for (let x = xStart; x <= xEnd; x++) {
      const t = x - xStart;
      posX[x] = x0 + t * dx;
      posY[x] = y0 + t * dy;
      scales[x] = a0 + t * da;
    }
  }
}

/**
 * The template mask ORed over the window [x-(r-1), x+r] x [y-(r-1), y+r] (clipped at the
 * edges), so that one lookup at (floor(sx), floor(sy)) gives the OR over the footprint. `out`
 * must hold zeros (a new array). A sparse mask (a characterized template's: ~0.4 % of its pixels
 * set) is spread from its set pixels over their windows; a dense one is ORed along x by doubling
 * (the OR of p = 2^k pixels from two of p/2, then the 2r-wide window as two overlapping p-wide
 * ones) and along y as the OR of the window's rows. Both give the same bits.
 */
export function dilateMask(
  mask: Int32Array,
  width: number,
  height: number,
  radius: number,
  out: Int32Array = new Int32Array(mask.length),
): Int32Array {
  const lo = radius - 1;
  const hi = radius;
  const span = lo + hi + 1;
  // Spreading costs span^2 writes per set pixel, the passes ~10 operations per pixel.
  const set = setPixels(mask, Math.floor((SPARSE_COST_RATIO * mask.length) / (span * span)));
  if (set) {
    for (let k = 0; k < set.length; k++) {
      const i = set[k];
      const bits = mask[i];
      const x = i % width;
      const y = (i - x) / width;
      // Pixel (x, y) is in the window of outputs x - hi .. x + lo, y - hi .. y + lo.
      const u0 = Math.max(0, x - hi);
      const u1 = Math.min(width - 1, x + lo);
      for (let v = Math.max(0, y - hi); v <= Math.min(height - 1, y + lo); v++)
        for (let o = v * width + u0, end = v * width + u1; o <= end; o++) out[o] |= bits;
    }
    return out;
  }
  let p = 1;
  while (2 * p <= span) p *= 2;
  // A row padded with lo zeros before and hi after: window [x-lo, x+hi] is padded[x .. x+span-1].
  const padded = new Int32Array(width + span);
  const horizontal = new Int32Array(mask.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    padded.fill(0);
    padded.set(mask.subarray(row, row + width), lo);
    // padded[i] becomes the OR of the p pixels from i (zeros past the end).
    for (let q = 1; q < p; q *= 2)
      for (let i = 0; i + q < padded.length; i++) padded[i] |= padded[i + q];
    for (let x = 0; x < width; x++) horizontal[row + x] = padded[x] | padded[x + span - p];
  }
  for (let y = 0; y < height; y++) {
    const o = out.subarray(y * width, (y + 1) * width);
    o.fill(0);
    for (let k = Math.max(0, y - lo); k <= Math.min(height - 1, y + hi); k++) {
      const h = k * width;
      for (let x = 0; x < width; x++) o[x] |= horizontal[h + x];
    }
  }
  return out;
}

/** Spreading a sparse mask is chosen while its writes stay below this many per pixel. */
const SPARSE_COST_RATIO = 1;

/** Indices of the set pixels of `mask`, ascending, or null when there are more than `limit`. */
function setPixels(mask: Int32Array, limit: number): Int32Array | null {
  let out = new Int32Array(Math.min(limit, 1024));
  let n = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 0) continue;
    if (n === limit) return null;
    if (n === out.length) {
      const grown = new Int32Array(Math.min(limit, 2 * n));
      grown.set(out);
      out = grown;
    }
    out[n++] = i;
  }
  return out.subarray(0, n);
}
