/**
 * Reading the FFT windows of a tile plan (tiles.ts) into real n*n buffers for RealFft2
 * (fft-real.ts): one tile per real FFT, with the band of rows that lies in the image (the
 * forward transform skips the rest) and the band the tile writes (the inverse computes only those).
 */
import type { ImageF, Plane } from '../image/plane.js';
import type { Tile } from './tiles.js';

/**
 * Copies the window of `tile` from `plane` into `dst` (n*n, row-major; 0 outside the image, at
 * non-finite pixels and, given `zero`, where its mask has any of its bits) and returns the window
 * rows [y0, y1) that lie in the image; rows outside that band are left as they were.
 */
export function loadTile(
  plane: ImageF,
  tile: Tile,
  n: number,
  dst: Float64Array,
  zero?: { mask: Plane<Int32Array>; bits: number },
): [number, number] {
  const y0 = Math.max(0, tile.wy),
    y1 = Math.min(plane.height, tile.wy + n);
  const x0 = Math.max(0, tile.wx),
    x1 = Math.min(plane.width, tile.wx + n);
  const lead = x0 - tile.wx,
    tail = tile.wx + n - x1;
  for (let y = y0; y < y1; y++) {
    const row = plane.row(y);
    const base = (y - tile.wy) * n;
    if (lead > 0) dst.fill(0, base, base + lead);
    if (tail > 0) dst.fill(0, base + n - tail, base + n);
    let o = base + lead;
    for (let x = x0; x < x1; x++, o++) {
      const v = row[x];
      dst[o] = Number.isFinite(v) ? v : 0;
    }
    if (zero) {
      const m = zero.mask.row(y);
      for (let x = x0, o = base + lead; x < x1; x++, o++) if (m[x] & zero.bits) dst[o] = 0;
    }
  }
  return [y0 - tile.wy, y1 - tile.wy];
}

/** The window rows [r0, r1) that `tile` writes (its blended output region). */
export function outputRows(tile: Tile): [number, number] {
  return [tile.oy - tile.wy, tile.oy + tile.oh - tile.wy];
}
