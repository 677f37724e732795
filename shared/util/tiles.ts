/**
 * Overlap-save FFT filtering of whole images in square tiles, with optional blending
 * of neighbouring tiles so that a filter that changes from tile to tile (a spatially
 * varying PSF or decorrelation kernel) changes smoothly.
 *
 * Tiles sit on a regular grid of cores (step x step pixels). Each tile owns its core
 * grown by `blend` pixels on every side, weighted by a trapezoid that ramps over the
 * 2*blend pixels shared with a neighbour, so the weights of all tiles sum to 1 at every
 * pixel. The FFT window adds `halo` pixels beyond that, which the filter's circular
 * wrap-around may spoil: halo must be at least the filter's reach (kernel half-width).
 * Each tile goes through a half-spectrum real FFT (fft-real.ts, real-tiles.ts).
 * @example
 *   const plan = planTiles(4096, 4096, { fftSize: 512, halo: 16, blend: 0 });
 *   for (const t of plan.tiles) {
 *     fft.forward(window, spectrum, ...loadTile(image, t, 512, window));
 *     multiplySpectra(spectrum, k, spectrum);
 *     fft.inverse(spectrum, window, ...outputRows(t));
 *     accumulate(t, 512, window, out);
 *   }
 */
import type { ImageF } from '../image/plane.js';

export interface TileOptions {
  /** FFT side, a power of two. */
  fftSize: number;
  /** Pixels of context on each side that the filter may spoil (>= its half-width). */
  halo: number;
  /** Half-width of the blending ramp between neighbouring tiles, pixels (0: hard edges). */
  blend: number;
}

export interface Tile {
  /** Image pixel of the FFT window's (0, 0); the window may extend past the image. */
  wx: number;
  wy: number;
  /** The region this tile writes (core grown by blend, clipped to the image). */
  ox: number;
  oy: number;
  ow: number;
  oh: number;
  /** Blend weights of the region's columns (length ow) and rows (length oh). */
  weightX: Float64Array;
  weightY: Float64Array;
  /** Centre of the tile's core, image pixels. */
  cx: number;
  cy: number;
}

export interface TilePlan extends TileOptions {
  width: number;
  height: number;
  tiles: Tile[];
}

/** 1-D layout: cores of equal length covering [0, length), with their blend weights. */
function axisTiles(
  length: number,
  room: number,
  blend: number,
): Array<{ start: number; end: number; weights: Float64Array; core: [number, number] }> {
  const count = Math.max(1, Math.ceil(length / room));
  const step = Math.ceil(length / count);
  const out = [];
  for (let i = 0; i < count; i++) {
    const c0 = i * step;
    const c1 = Math.min(length, (i + 1) * step);
    const start = Math.max(0, c0 - blend);
    const end = Math.min(length, c1 + blend);
    const weights = new Float64Array(end - start);
    for (let x = start; x < end; x++) {
      const left = i === 0 ? 1 : Math.min(1, Math.max(0, (x - (c0 - blend) + 0.5) / (2 * blend)));
      const right =
        i === count - 1 ? 1 : Math.min(1, Math.max(0, (c1 + blend - x - 0.5) / (2 * blend)));
      weights[x - start] = left * right;
    }
    out.push({ start, end, weights, core: [c0, c1] as [number, number] });
  }
  return out;
}

export function planTiles(width: number, height: number, options: TileOptions): TilePlan {
  const { fftSize, halo, blend } = options;
  const room = fftSize - 2 * halo - 2 * blend;
  if (room < Math.max(1, 2 * blend)) {
    throw new RangeError(`fftSize ${fftSize} leaves no room for halo ${halo} and blend ${blend}`);
  }
  const xs = axisTiles(width, room, blend);
  const ys = axisTiles(height, room, blend);
  const tiles: Tile[] = [];
  for (const ty of ys) {
    for (const tx of xs) {
      tiles.push({
        wx: tx.start - halo,
        wy: ty.start - halo,
        ox: tx.start,
        oy: ty.start,
        ow: tx.end - tx.start,
        oh: ty.end - ty.start,
        weightX: tx.weights,
        weightY: ty.weights,
        cx: 0.5 * (tx.core[0] + tx.core[1] - 1),
        cy: 0.5 * (ty.core[0] + ty.core[1] - 1),
      });
    }
  }
  return { ...options, width, height, tiles };
}

/** Adds a tile output, weighted by the tile's blend weights, into `out` (same grid as the plan). */
export function accumulate(
  tile: Tile,
  n: number,
  values: Float64Array,
  out: ImageF,
  scale = 1,
): void {
  for (let j = 0; j < tile.oh; j++) {
    const y = tile.oy + j;
    const row = out.row(y);
    const wy = tile.weightY[j] * scale;
    const base = (y - tile.wy) * n - tile.wx;
    for (let i = 0; i < tile.ow; i++) {
      const x = tile.ox + i;
      row[x] += wy * tile.weightX[i] * values[base + x];
    }
  }
}

/** Multiplies complex spectra elementwise: out = a * b (out may alias a). */
export function multiplySpectra(
  a: Float64Array,
  b: Float64Array,
  out: Float64Array = new Float64Array(a.length),
): Float64Array {
  for (let i = 0; i < a.length; i += 2) {
    const re = a[i] * b[i] - a[i + 1] * b[i + 1];
    const im = a[i] * b[i + 1] + a[i + 1] * b[i];
    out[i] = re;
    out[i + 1] = im;
  }
  return out;
}

/**
 * Splits a plan's tiles into `parts` contiguous runs (whole pairs), for threads.
 * @example tileShares(plan, 2) // [[0, 1, ..., k], [k + 1, ...]]
 */
export function tileShares(plan: TilePlan, parts: number): number[][] {
  const count = plan.tiles.length;
  const pairs = Math.ceil(count / 2);
  const out: number[][] = [];
  for (let p = 0; p < parts; p++) {
    const a = 2 * Math.floor((p * pairs) / parts),
      b = Math.min(count, 2 * Math.floor(((p + 1) * pairs) / parts));
    out.push(Array.from({ length: Math.max(0, b - a) }, (_v, i) => a + i));
  }
  return out;
}
