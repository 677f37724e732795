// What a band of output rows needs and gives back, and the row positions both resamplers
// (resample-js.ts, resample-wasm.ts) start from.
import type { PixelMapping } from './mapping.js';
import type { KernelName } from './lanczos.js';
import { CELL_SIZE, PHASE_BINS } from './noise-correlation.js';

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

/** Template position and area ratio along output row y, bilinear between the mapping's nodes. */
export function interpolateRow(
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
