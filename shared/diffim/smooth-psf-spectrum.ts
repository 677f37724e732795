/**
 * A PSF model's spectrum made smooth beyond the band its stars constrain. An empirical pixel
 * model carries a white error floor (its per-pixel noise) that, where the true PSF has no power,
 * is all the model holds; ZOGY (Zackay, Ofek & Gal-Yam 2016, eq. 13) divides by the PSF spectra
 * there and would amplify that noise. Following the Wiener filter, each frequency keeps the model
 * in proportion to its signal-to-noise and otherwise takes a Moffat (Moffat 1969) fitted to the
 * model: P = W P_model + (1 - W) P_moffat, W = |P_moffat|^2 / (|P_moffat|^2 + e^2), where e^2 is
 * the mean power of P_model - P_moffat above HIGH_K (cycles per pixel), the model's error floor.
 * The Moffat's alpha and beta vary slowly over an image: fitted on a coarse grid (moffatPriorField)
 * and interpolated, they save a profile fit per stamp.
 */
import type { Psf, PsfStamp } from '../psf/types.js';
import { fitProfile } from '../psf/profile-fit.js';
import { cropCentred, Fft2, kernelSpectrum, nextPow2 } from '../util/fft.js';

/** Frequencies above this (cycles per pixel) measure the model's error floor. */
const HIGH_K = 0.35;
/** Sub-samples per pixel side when drawing the Moffat. */
const SUB = 5;

/** A circular Moffat's alpha (px) and beta. */
export interface MoffatPrior {
  alpha: number;
  beta: number;
}

/** The Moffat fitted to a centred, unit-sum stamp, or null where the fit fails. */
function fitMoffat(stamp: PsfStamp): MoffatPrior | null {
  const c = (stamp.size - 1) / 2;
  const peak = stamp.data[c * stamp.size + c];
  const fwhmGuess = Math.max(1, 2 * Math.sqrt((1 / (Math.PI * Math.max(peak, 1e-6))) * Math.LN2));
  const fit = fitProfile(stamp.data, stamp.size, fwhmGuess, 'moffat');
  return Number.isFinite(fit.alpha) && Number.isFinite(fit.beta)
    ? { alpha: fit.alpha, beta: fit.beta }
    : null;
}

/**
 * The Moffat fitted to `psf` on a grid x grid of positions over a width x height image,
 * bilinearly interpolated in between (null where any grid fit failed).
 * @example
 *   const prior = moffatPriorField(psf, 4096, 4096);
 *   const smoothed = smoothPsfStamp(psf.stampAt(812, 1020, true), prior(812, 1020));
 */
export function moffatPriorField(
  psf: Psf,
  width: number,
  height: number,
  grid = 3,
): (x: number, y: number) => MoffatPrior | null {
  if (grid < 2) throw new RangeError(`grid ${grid}: at least 2 positions per side`);
  const at = (i: number, extent: number): number => (i * (extent - 1)) / (grid - 1);
  const fits: Array<MoffatPrior | null> = [];
  for (let j = 0; j < grid; j++)
    for (let i = 0; i < grid; i++)
      fits.push(fitMoffat(psf.stampAt(at(i, width), at(j, height), true)));
  if (fits.some((f) => f === null)) return () => null;
  const known = fits as MoffatPrior[];
  // Grid cell and fraction within it along one axis.
  const locate = (v: number, extent: number): [number, number] => {
    const f = Math.min(grid - 1, Math.max(0, (v / (extent - 1)) * (grid - 1)));
    const i = Math.min(grid - 2, Math.floor(f));
    return [i, f - i];
  };
  return (x, y) => {
    const [i, fx] = locate(x, width),
      [j, fy] = locate(y, height);
    const c00 = known[j * grid + i],
      c10 = known[j * grid + i + 1],
      c01 = known[(j + 1) * grid + i],
      c11 = known[(j + 1) * grid + i + 1];
    const mix = (k: keyof MoffatPrior): number =>
      (1 - fy) * ((1 - fx) * c00[k] + fx * c10[k]) + fy * ((1 - fx) * c01[k] + fx * c11[k]);
    return { alpha: mix('alpha'), beta: mix('beta') };
  };
}

/**
 * A PSF model with the Moffat prior field of its smoothing over a width x height image: what ZOGY
 * takes for each input, so that its tiles and its difference PSF are smoothed alike.
 * @example
 *   const science = new SmoothedPsf(sciencePsf, 4096, 4096);
 *   const stamp = science.stampAt(812, 1020); // centred, spectrum smoothed, unit sum
 */
export class SmoothedPsf {
  readonly prior: (x: number, y: number) => MoffatPrior | null;

  constructor(
    readonly psf: Psf,
    width: number,
    height: number,
  ) {
    this.prior = moffatPriorField(psf, width, height);
  }

  get stampSize(): number {
    return this.psf.stampSize;
  }

  /** The centred model stamp at (x, y) with its spectrum smoothed. */
  stampAt(x: number, y: number): PsfStamp {
    return smoothPsfStamp(this.psf.stampAt(x, y, true), this.prior(x, y));
  }
}

/**
 * A circular Moffat of the given alpha and beta, pixel-integrated on a size x size stamp, unit sum.
 * Sub-pixel (i, j) of pixel (u, v) and sub-pixel (j, i) of pixel (v, u) have the same squared radius
 * (the same sum of the same two squares), so each profile value is computed once for both pixels,
 * and each pixel sums its own values in its own order: the stamp is that of one pixel at a time.
 */
function moffatStamp(alpha: number, beta: number, size: number): Float64Array {
  const out = new Float64Array(size * size);
  const c = (size - 1) / 2;
  // Squared sub-pixel offsets from the centre along one axis: pixel u, sub-pixel i at u * SUB + i.
  const d2 = new Float64Array(size * SUB);
  for (let u = 0; u < size; u++) {
    for (let i = 0; i < SUB; i++) {
      const d = u - c + (i + 0.5) / SUB - 0.5;
      d2[u * SUB + i] = d * d;
    }
  }
  const profile = new Float64Array(SUB * SUB);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u <= v; u++) {
      // profile[j * SUB + i]: sub-pixel (i, j) of pixel (u, v).
      for (let j = 0; j < SUB; j++)
        for (let i = 0; i < SUB; i++)
          profile[j * SUB + i] = Math.pow(
            1 + (d2[u * SUB + i] + d2[v * SUB + j]) / (alpha * alpha),
            -beta,
          );
      let s = 0,
        t = 0;
      for (let j = 0; j < SUB; j++) {
        for (let i = 0; i < SUB; i++) {
          s += profile[j * SUB + i];
          t += profile[i * SUB + j];
        }
      }
      out[u * size + v] = t;
      out[v * size + u] = s; // on the diagonal, the pixel's own order
    }
  }
  let total = 0;
  for (let i = 0; i < out.length; i++) total += out[i];
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/** The smoothed spectrum of `stamp` (centred, unit sum) on fft's n x n grid; the Moffat fitted to it unless given. */
export function smoothPsfSpectrum(
  fft: Fft2,
  stamp: PsfStamp,
  prior: MoffatPrior | null = fitMoffat(stamp),
): Float64Array {
  const model = kernelSpectrum(fft, stamp.data, stamp.size);
  if (!prior) return model;
  const smooth = kernelSpectrum(fft, moffatStamp(prior.alpha, prior.beta, stamp.size), stamp.size);
  const n = fft.n;
  const k2 = (i: number): number => {
    const u = i % n,
      v = (i - u) / n;
    return (Math.min(u, n - u) ** 2 + Math.min(v, n - v) ** 2) / (n * n);
  };
  let floor = 0,
    count = 0;
  for (let i = 0; i < n * n; i++) {
    if (k2(i) < HIGH_K * HIGH_K) continue;
    floor += (model[2 * i] - smooth[2 * i]) ** 2 + (model[2 * i + 1] - smooth[2 * i + 1]) ** 2;
    count++;
  }
  const e2 = count ? floor / count : 0;
  const out = new Float64Array(model.length);
  for (let i = 0; i < n * n; i++) {
    const s2 = smooth[2 * i] ** 2 + smooth[2 * i + 1] ** 2;
    const w = s2 + e2 > 0 ? s2 / (s2 + e2) : 1;
    out[2 * i] = w * model[2 * i] + (1 - w) * smooth[2 * i];
    out[2 * i + 1] = w * model[2 * i + 1] + (1 - w) * smooth[2 * i + 1];
  }
  return out;
}

/** The PSF stamp with its spectrum smoothed (smoothPsfSpectrum), same size, unit sum. */
export function smoothPsfStamp(
  stamp: PsfStamp,
  prior: MoffatPrior | null = fitMoffat(stamp),
): PsfStamp {
  const fft = new Fft2(nextPow2(2 * stamp.size));
  const spec = smoothPsfSpectrum(fft, stamp, prior);
  fft.inverse(spec);
  return { size: stamp.size, data: cropCentred(spec, fft.n, stamp.size) };
}
