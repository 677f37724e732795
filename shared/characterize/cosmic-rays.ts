/**
 * Cosmic rays and hot pixels: pixels sharper than the PSF allows (Lupton's test in SDSS photo
 * and Rubin's meas_algorithms CR.cc; cf. van Dokkum 2001, PASP 113, 1420, whose fine-structure
 * ratio plays the same role). A pixel is a CR if it stands minSigma above the background and,
 * along some direction, its two neighbours' mean lies below what the PSF predicts:
 *   (p - c2 sigma_p) * P(d)/P(0) / c3 > mean_d + c2 sigma_mean_d.
 * Flagged pixels then grow into neighbours that stand growSigma above the median of their own
 * unflagged neighbours and are sharper than the PSF by growFac (charge at a track's edge, not the
 * core of a star next to it).
 * Values are never interpolated.
 */
import { MaskPlane } from '../image/mask.js';
import type { MaskI } from '../image/plane.js';
import { forEachComponent8 } from '../util/components.js';
import { poolTask } from '../util/pool-task.js';
import { runClaimed, shareBands, type BandClaim, type Helper } from '../util/shared-bands.js';

export interface CosmicRayConfig {
  /** A CR pixel exceeds the background by this many sigma (Rubin's minSigma, default 6). */
  minSigma: number;
  /** Sharpness contrast factor c3 (Rubin's cond3_fac, default 2.5). */
  cond3Fac: number;
  /** Noise allowance c2 in sigma (Rubin's cond3_fac2, default 0.6). */
  cond3Fac2: number;
  /** Neighbours of a CR this many sigma above their local level join it (default 2.5). */
  growSigma: number;
  /** Growth passes (default 2). */
  growIterations: number;
  /** A grown pixel p needs p * P(d)/P(0) / growFac above its neighbours' median (default 1.5). */
  growFac: number;
}

export const DEFAULT_COSMIC_RAY_CONFIG: CosmicRayConfig = {
  minSigma: 6,
  cond3Fac: 2.5,
  cond3Fac2: 0.6,
  growSigma: 2.5,
  growIterations: 2,
  growFac: 1.5,
};

/** PSF covariance (px^2) at a position: [ixx, iyy, ixy]. */
export type PsfCovariance = (x: number, y: number) => [number, number, number];

export interface CosmicRayResult {
  /** Connected CR groups (8-connectivity) flagged in this call. */
  count: number;
  /** Pixels newly flagged CR. */
  nPixels: number;
  /**
   * The pixels minSigma above the background and not COSMIC_RAY_SKIP masked (ascending indices): the only ones a
   * later call on the same residual, variance and minSigma can flag as seeds (`bright`), whatever its PSF.
   */
  bright: Int32Array;
  /** The pixels flagged in this call (some may have been CR already). */
  pixels: Int32Array;
}

/** Pixels never judged nor grown into. */
export const COSMIC_RAY_SKIP = MaskPlane.SAT | MaskPlane.NO_DATA | MaskPlane.BAD;
/** Neighbour pairs: horizontal, vertical, the two diagonals. */
const DIRS: Array<[number, number]> = [
  [1, 0],
  [0, 1],
  [1, 1],
  [1, -1],
];

/**
 * Flags CR pixels in `mask` (in place). `residual` is image minus background and `variance` the
 * variance plane, both contiguous width*height. `bright`, a previous call's (same residual, variance,
 * minSigma and COSMIC_RAY_SKIP bits; CR bits may have been added), restricts the seed search to those pixels:
 * the same result without a pass over the whole image (the second pass of characterize.ts).
 * `scratch` (width*height zeros), when given, serves as the call's flag bytes and is left all zero
 * again (a fresh 16 MB array for a 4096^2 image is 4096 page faults). The seed test is shared with
 * `helper` when it is free and the planes and `scratch` are on SharedArrayBuffers (shared-bands.ts):
 * each candidate is tested on its own, so the seeds are the same.
 */
export function findCosmicRays(
  residual: Float32Array,
  variance: Float32Array,
  mask: MaskI,
  psfCov: PsfCovariance,
  config: Partial<CosmicRayConfig> = {},
  bright?: Int32Array,
  scratch?: Uint8Array,
  helper: Helper | null = null,
): CosmicRayResult {
  const cfg = { ...DEFAULT_COSMIC_RAY_CONFIG, ...config };
  const w = mask.width;
  const h = mask.height;
  const m = mask.contiguous ? mask.data : mask.clone().data;
  // Zeros on return: the groups' flood fill (markAndCount) clears every pixel flagged.
  const flagged = scratch ?? new Uint8Array(w * h);
  // P(d)/P(0) for the four directions, then their maximum, per cell of 64 px (the PSF varies slowly):
  // five values a cell at ratios[5 * cell ..], computed when first asked for (NaN until then).
  const cell = 64;
  const cellsX = Math.ceil(w / cell);
  const ratios = new Float64Array(new SharedArrayBuffer(8 * 5 * cellsX * Math.ceil(h / cell))).fill(
    Number.NaN,
  );
  const ratiosAt = (x: number, y: number): number => {
    const r = ratioIndex(x, y, cell, cellsX);
    if (Number.isNaN(ratios[r + 4])) {
      const cx = Math.floor(x / cell);
      const cy = Math.floor(y / cell);
      const [ixx, iyy, ixy] = psfCov((cx + 0.5) * cell, (cy + 0.5) * cell);
      const det = ixx * iyy - ixy * ixy;
      const each = DIRS.map(([dx, dy]) =>
        Math.exp((-0.5 * (iyy * dx * dx - 2 * ixy * dx * dy + ixx * dy * dy)) / det),
      );
      ratios.set([...each, Math.max(...each)], r);
    }
    return r;
  };
  const candidates = bright ?? brightPixels(residual, variance, m, w, h, cfg.minSigma);
  // Each candidate's cell first, so that the seed test only reads the table (on either thread).
  for (let k = 0; k < candidates.length; k++) {
    const x = candidates[k] % w;
    ratiosAt(x, (candidates[k] - x) / w);
  }
  const helps =
    helper && [residual, variance, m, flagged].every((a) => a.buffer instanceof SharedArrayBuffer);
  const job: SeedJob = {
    residual,
    variance,
    mask: m,
    width: w,
    cell,
    ratios,
    candidates: helps ? onShared(candidates) : candidates,
    flagged,
    cond3Fac: cfg.cond3Fac,
    cond3Fac2: cfg.cond3Fac2,
  };
  shareBands(
    helps ? helper : null,
    poolTask(import.meta.url, { seedTask }),
    job,
    Math.ceil(candidates.length / SEED_BAND),
    (b) => flagSeeds(job, b),
  );
  const seeds: number[] = [];
  for (let k = 0; k < candidates.length; k++) if (flagged[candidates[k]]) seeds.push(candidates[k]);
  const all = seeds.slice();
  let frontier = seeds;
  for (let it = 0; it < cfg.growIterations && frontier.length; it++) {
    const next: number[] = [];
    for (const i of frontier) {
      const x = i % w;
      const y = (i - x) / w;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const j = yy * w + xx;
          if (flagged[j] || m[j] & COSMIC_RAY_SKIP) continue;
          const v = residual[j];
          const level = localLevel(residual, flagged, m, w, h, xx, yy);
          const rMax = ratios[ratiosAt(xx, yy) + 4];
          if (
            !(v - level > cfg.growSigma * Math.sqrt(variance[j])) ||
            !((v * rMax) / cfg.growFac > level)
          )
            continue;
          flagged[j] = 1;
          next.push(j);
          all.push(j);
        }
      }
    }
    frontier = next;
  }
  return {
    ...markAndCount(flagged, all, mask, w, h),
    bright: candidates,
    pixels: Int32Array.from(all),
  };
}

/** Candidates per band of the seed test (~1 ms of work each). */
const SEED_BAND = 4096;

/** The seed test's inputs: findCosmicRays' planes, the direction ratios of each candidate's cell, its flags. */
interface SeedJob {
  residual: Float32Array;
  variance: Float32Array;
  mask: Int32Array;
  width: number;
  /** Side of the ratios' cells, px. */
  cell: number;
  /** P(d)/P(0) of the four directions, then their maximum, per cell (five values a cell). */
  ratios: Float64Array;
  candidates: Int32Array;
  /** Receives 1 at each seed. */
  flagged: Uint8Array;
  cond3Fac: number;
  cond3Fac2: number;
}

/** Index of the five ratios of the cell holding (x, y). */
const ratioIndex = (x: number, y: number, cell: number, cellsX: number): number =>
  5 * (Math.floor(y / cell) * cellsX + Math.floor(x / cell));

/** Flags the seeds of band `band` of the candidates: sharper than the PSF along some direction. */
function flagSeeds(job: SeedJob, band: number): void {
  const { residual, variance, mask: m, width: w, cell, ratios, candidates, flagged } = job;
  const c2 = job.cond3Fac2;
  const cellsX = Math.ceil(w / cell);
  const offsets = DIRS.map(([dx, dy]) => dy * w + dx);
  for (let k = band * SEED_BAND, end = Math.min(candidates.length, k + SEED_BAND); k < end; k++) {
    const i = candidates[k];
    if (m[i] & COSMIC_RAY_SKIP) continue;
    const x = i % w;
    const p = residual[i];
    const r = ratioIndex(x, (i - x) / w, cell, cellsX);
    const sp = Math.sqrt(variance[i]);
    for (let d = 0; d < 4; d++) {
      const o = offsets[d];
      if ((m[i - o] | m[i + o]) & COSMIC_RAY_SKIP) continue;
      const mean = 0.5 * (residual[i - o] + residual[i + o]);
      const sMean = 0.5 * Math.sqrt(variance[i - o] + variance[i + o]);
      if (((p - c2 * sp) * ratios[r + d]) / job.cond3Fac > mean + c2 * sMean) {
        flagged[i] = 1;
        break;
      }
    }
  }
}

/** Helper side of findCosmicRays' seed test: the claimed bands of candidates. */
export function seedTask(job: SeedJob & { claim: BandClaim }): void {
  runClaimed(job.claim, (b) => flagSeeds(job, b));
}

/** `values` on a SharedArrayBuffer (a copy unless they are), for a helper to read. */
function onShared(values: Int32Array): Int32Array {
  if (values.buffer instanceof SharedArrayBuffer) return values;
  const out = new Int32Array(new SharedArrayBuffer(4 * values.length));
  out.set(values);
  return out;
}

/**
 * Interior pixels (1 px from the edges) more than minSigma sigma up and not COSMIC_RAY_SKIP masked,
 * ascending; of rows [y0, y1) only when given (a band of the image, as a worker scans it).
 */
export function brightPixels(
  residual: Float32Array,
  variance: Float32Array,
  m: Int32Array,
  w: number,
  h: number,
  minSigma: number,
  y0 = 0,
  y1 = h,
): Int32Array {
  let out = new Int32Array(1024);
  let n = 0;
  // Every pixel that passes has p |p| above this times its variance (loosened against rounding): one
  // comparison, rarely true, settles the sky pixels of either sign without a branch on the sign or a
  // square root.
  const loose = minSigma * minSigma * (1 - 1e-6);
  for (let y = Math.max(1, y0); y < Math.min(h - 1, y1); y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const p = residual[i];
      if (!(p * Math.abs(p) > loose * variance[i])) continue;
      if (!(p > 0) || !(p > minSigma * Math.sqrt(variance[i])) || m[i] & COSMIC_RAY_SKIP) continue;
      if (n === out.length) {
        const grown = new Int32Array(2 * n);
        grown.set(out);
        out = grown;
      }
      out[n++] = i;
    }
  }
  return out.slice(0, n);
}

/** Median of the unflagged, usable 8-neighbours of (x, y); +Infinity if none. */
function localLevel(
  residual: Float32Array,
  flagged: Uint8Array,
  m: Int32Array,
  w: number,
  h: number,
  x: number,
  y: number,
): number {
  const values = NEIGHBOURS;
  let n = 0;
  for (let dy = -1; dy <= 1; dy++) {
    for (let dx = -1; dx <= 1; dx++) {
      const xx = x + dx;
      const yy = y + dy;
      if ((dx === 0 && dy === 0) || xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
      const j = yy * w + xx;
      if (flagged[j] || m[j] & COSMIC_RAY_SKIP) continue;
      // Insertion sort as they come (at most 8).
      const v = residual[j];
      let k = n++;
      for (; k > 0 && values[k - 1] > v; k--) values[k] = values[k - 1];
      values[k] = v;
    }
  }
  if (n === 0) return Infinity;
  const k = n >> 1;
  return n % 2 ? values[k] : 0.5 * (values[k - 1] + values[k]);
}

/** Scratch for localLevel's neighbours. */
const NEIGHBOURS = new Float64Array(8);

/** Sets CR on the flagged pixels (all listed in `list`); counts their 8-connected groups and the pixels newly flagged. */
function markAndCount(
  flagged: Uint8Array,
  list: number[],
  mask: MaskI,
  w: number,
  h: number,
): { count: number; nPixels: number } {
  let nPixels = 0;
  const count = forEachComponent8(
    flagged,
    w,
    h,
    (i) => {
      const x = i % w;
      const k = mask.index(x, (i - x) / w);
      if (!(mask.data[k] & MaskPlane.CR)) nPixels++;
      mask.data[k] |= MaskPlane.CR;
    },
    list,
  );
  return { count, nPixels };
}
