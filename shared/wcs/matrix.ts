/** A 2x2 matrix [[m00, m01], [m10, m11]] (row, column). */
import { ARCSEC_PER_DEG } from '../util/numeric.js';
export type Matrix2 = readonly [readonly [number, number], readonly [number, number]];

export function det2(m: Matrix2): number {
  return m[0][0] * m[1][1] - m[0][1] * m[1][0];
}

/** Inverse of a 2x2 matrix; throws on a singular one (|det| below 1e-12 of the entries' scale squared). */
export function invert2(m: Matrix2, what = 'matrix'): Matrix2 {
  const d = det2(m);
  const scale = Math.max(
    Math.abs(m[0][0]),
    Math.abs(m[0][1]),
    Math.abs(m[1][0]),
    Math.abs(m[1][1]),
  );
  if (!Number.isFinite(d) || Math.abs(d) <= 1e-12 * scale * scale || scale === 0) {
    throw new Error(`singular ${what} ${JSON.stringify(m)}`);
  }
  return [
    [m[1][1] / d, -m[0][1] / d],
    [-m[1][0] / d, m[0][0] / d],
  ];
}

/**
 * The CD matrix (degrees per pixel) of an image with square pixels of `scaleArcsec`, whose +y axis
 * points `rotationDeg` east of north; `eastLeft` (default, the sky as seen) makes +x point west at
 * rotation 0, i.e. a negative determinant as most cameras write.
 * @example cdMatrix(0.2, 0) // [[-0.2/3600, 0], [0, 0.2/3600]]
 */
export function cdMatrix(scaleArcsec: number, rotationDeg: number, eastLeft = true): Matrix2 {
  const s = scaleArcsec / ARCSEC_PER_DEG;
  const c = Math.cos((rotationDeg * Math.PI) / 180);
  const n = Math.sin((rotationDeg * Math.PI) / 180);
  const flip = eastLeft ? -1 : 1;
  return [
    [flip * s * c, s * n],
    [-flip * s * n, s * c],
  ];
}
