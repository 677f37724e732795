/** The real DECam frames of test/data/decam-mini as Exposures (primary HDU, GAIN, RDNOISE, SATURATE). */
import { readFileSync } from 'node:fs';
import { DECAM_DIR } from '../helpers/data.js';
import { readFits } from '../../shared/fits/index.js';
import { Exposure } from '../../shared/image/exposure.js';
import { Plane } from '../../shared/image/plane.js';

/** Published median FWHM (header FWHM), px, of each frame. */
export const DECAM_FWHM: Record<string, number> = { 'DEC-OBS04a': 5.23, 'DEC-OBS18a': 3.85 };

export function readDecam(name: string): Exposure {
  const [hdu] = readFits(readFileSync(`${DECAM_DIR}${name}.mini.fits`));
  if (!hdu.data) throw new Error(`${name}: no pixels`);
  const pixels = Float32Array.from(hdu.data as Float64Array);
  const w = hdu.width;
  const h = hdu.height;
  const exposure = new Exposure(
    new Plane(pixels, w, h),
    Plane.zeros(Int32Array, w, h),
    Plane.zeros(Float32Array, w, h).fill(Number.NaN),
  );
  const card = (key: string): number => Number(hdu.header.get(key) ?? Number.NaN);
  exposure.info.gain = card('GAIN');
  exposure.info.readNoise = card('RDNOISE');
  exposure.info.saturation = card('SATURATE');
  return exposure;
}
