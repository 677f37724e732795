/**
 * Shape figures of a sampled PSF stamp: pixel-free FWHM from a pixel-integrated Moffat fit
 * (see profile-fit.ts), Gaussian-equivalent sigma and distortion from adaptive second moments
 * (Bernstein & Jarvis 2002, AJ 123, 583).
 */
import { adaptiveMoments } from '../characterize/moments.js';
import { fitProfile } from './profile-fit.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';

export interface StampShape {
  /** FWHM of the PSF before pixelisation (pixel-integrated Moffat fit), px. */
  fwhm: number;
  /** FWHM of a Gaussian fitted to the pixel values (as SExtractor and survey headers quote it), px; NaN unless asked for. */
  fwhmGauss: number;
  /** sqrt((ixx + iyy) / 2) of the adaptive moments (pixelised), px. */
  sigma: number;
  /** Distortion |(ixx - iyy, 2 ixy)| / (ixx + iyy). */
  ellipticity: number;
  ixx: number;
  iyy: number;
  ixy: number;
}

/** Shape of an odd-sized stamp with the PSF near its central pixel; `withGauss` adds the Gaussian-core FWHM. */
export function measureStamp(
  data: Float32Array | Float64Array,
  size: number,
  withGauss = false,
): StampShape {
  const c = (size - 1) / 2;
  const f32 = data instanceof Float32Array ? data : Float32Array.from(data);
  const m = adaptiveMoments(
    { data: f32, width: size, height: size, bad: null, variance: 1 },
    c,
    c,
    Math.max(1, size / 10),
  );
  const t = m.ixx + m.iyy;
  const sigma = Math.sqrt(t / 2);
  const guess = m.ok ? FWHM_PER_SIGMA * sigma : size / 5;
  return {
    fwhm: fitProfile(data, size, guess, 'moffat').fwhm,
    fwhmGauss: withGauss ? fitProfile(data, size, guess, 'gaussian').fwhm : Number.NaN,
    sigma,
    ellipticity: Math.hypot(m.ixx - m.iyy, 2 * m.ixy) / t,
    ixx: m.ixx,
    iyy: m.iyy,
    ixy: m.ixy,
  };
}
