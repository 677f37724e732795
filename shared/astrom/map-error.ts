/**
 * How far a registration's science -> template pixel map is from another (e.g. the simulator's
 * true WCSs): the rms over a 17 x 17 grid spanning the science image, pixels.
 */
import type { Wcs } from '../wcs/types.js';

const GRID = 16;

/** rms distance between the template pixels the two WCS pairs send the science grid to; NaN without WCSs. */
export function pixelMapError(
  science: Wcs | null,
  template: Wcs | null,
  trueScience: Wcs,
  trueTemplate: Wcs,
  width: number,
  height: number,
): number {
  if (!science || !template) return Number.NaN;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let j = 0; j <= GRID; j++)
    for (let i = 0; i <= GRID; i++) {
      xs.push((i * (width - 1)) / GRID);
      ys.push((j * (height - 1)) / GRID);
    }
  const p = { x: Float64Array.from(xs), y: Float64Array.from(ys) };
  const a = template.skyToPixel(science.pixelToSky(p));
  const b = trueTemplate.skyToPixel(trueScience.pixelToSky(p));
  let sum = 0;
  for (let k = 0; k < xs.length; k++) sum += (a.x[k] - b.x[k]) ** 2 + (a.y[k] - b.y[k]) ** 2;
  return Math.sqrt(sum / xs.length);
}
