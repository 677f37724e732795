import { phaseHistograms, type BandStats, type ResampleJob } from './resample-job.js';
import { resampleRowsJs } from './resample-js.js';
import { wasmResampler, wasmUnavailableReason } from './resample-wasm.js';
import { engineChoice, type Engine } from '../wasm/engine.js';

export { phaseHistograms, type BandStats, type ResampleJob } from './resample-job.js';

/** Which resampler runs: WebAssembly SIMD where this engine has it, else the JavaScript (the same bits). */
export type ResampleEngine = Engine;

const choice = engineChoice('AP_WARP_RESAMPLER', 'resampler', 'JavaScript', () =>
  wasmResampler() ? '' : wasmUnavailableReason(),
);

/** The engine that runs here: `prefer`, else AP_WARP_RESAMPLER, else wasm when available. */
export const resampleEngine = choice.engine;

/**
 * What runs the warp's resampler in this process, as the logs record it (`ap diff`'s and `ap
 * process`'s summaries, processImage's `detector processed`).
 */
export const resamplerDescription = choice.describe;

/**
 * Lanczos resampling of output rows [yStart, yEnd): flux per pixel scaled by the area ratio,
 * variance by the squared weights (and squared area ratio), mask bits ORed over the footprint.
 * Kernels that hang over the template's edge are truncated and renormalised, and flagged EDGE;
 * points outside the template are NO_DATA. Both engines give the same bits.
 */
export function resampleRows(
  job: ResampleJob,
  yStart: number,
  yEnd: number,
  histograms: Pick<BandStats, 'phasesX' | 'phasesY'> = phaseHistograms(job),
  engine: ResampleEngine = resampleEngine(),
): BandStats {
  const wasm = engine === 'wasm' ? wasmResampler() : null;
  return wasm
    ? wasm.resampleRows(job, yStart, yEnd, histograms)
    : resampleRowsJs(job, yStart, yEnd, histograms);
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
  const engine = resampleEngine();
  const run = (c: number) => {
    claims.owner[c] = thread;
    const y0 = c * claims.chunkRows;
    const stats = resampleRows(job, y0, Math.min(height, y0 + claims.chunkRows), phases, engine);
    claims.covered[c] = stats.covered;
    claims.squares[c] = stats.sumSquaredWeights;
  };
  if (chunks) for (const c of chunks) run(c);
  else
    for (let c = Atomics.add(claims.claim, 0, 1); c < count; c = Atomics.add(claims.claim, 0, 1))
      run(c);
  return phases;
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
