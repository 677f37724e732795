/**
 * A PSF model's spectrum made smooth beyond the band its stars constrain. An empirical pixel
 * model carries a white error floor (its per-pixel noise) that, where the true PSF has no power,
 * is all the model holds; ZOGY (Zackay, Ofek & Gal-Yam 2016, eq. 13) divides by the PSF spectra
 * there and would amplify that noise. Following the Wiener filter, each frequency keeps the model
 * in proportion to its signal-to-noise and otherwise takes a Moffat (Moffat 1969) fitted to the
 * model: P = W P_model + (1 - W) P_moffat, W = |P_moffat|^2 / (|P_moffat|^2 + e^2), where e^2 is
 * the mean power of P_model - P_moffat above HIGH_K (cycles per pixel), the model's error floor.
 */
import type { PsfStamp } from '../psf/types.js';
import { fitProfile } from '../psf/profile-fit.js';
import { Fft2, kernelSpectrum, nextPow2 } from '../util/fft.js';

/** Frequencies above this (cycles per pixel) measure the model's error floor. */
const HIGH_K = 0.35;
/** Sub-samples per pixel side when drawing the Moffat. */
const SUB = 5;

/** A circular Moffat of the given alpha and beta, pixel-integrated on a size x size stamp, unit sum. */
function moffatStamp(alpha: number, beta: number, size: number): Float64Array {
  const out = new Float64Array(size * size);
  const c = (size - 1) / 2;
  let total = 0;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      let s = 0;
      for (let j = 0; j < SUB; j++) {
        for (let i = 0; i < SUB; i++) {
          const dx = u - c + (i + 0.5) / SUB - 0.5, dy = v - c + (j + 0.5) / SUB - 0.5;
          s += Math.pow(1 + (dx * dx + dy * dy) / (alpha * alpha), -beta);
        }
      }
      out[v * size + u] = s;
      total += s;
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/** The smoothed spectrum of `stamp` (centred, unit sum) on fft's n x n grid. */
export function smoothPsfSpectrum(fft: Fft2, stamp: PsfStamp): Float64Array {
  const model = kernelSpectrum(fft, stamp.data, stamp.size);
  const c = (stamp.size - 1) / 2;
  const peak = stamp.data[c * stamp.size + c];
  const fwhmGuess = Math.max(1, 2 * Math.sqrt(1 / (Math.PI * Math.max(peak, 1e-6)) * Math.LN2));
  const fit = fitProfile(stamp.data, stamp.size, fwhmGuess, 'moffat');
  if (!Number.isFinite(fit.alpha) || !Number.isFinite(fit.beta)) return model;
  const smooth = kernelSpectrum(fft, moffatStamp(fit.alpha, fit.beta, stamp.size), stamp.size);
  const n = fft.n;
  const k2 = (i: number): number => {
    const u = i % n, v = (i - u) / n;
    return (Math.min(u, n - u) ** 2 + Math.min(v, n - v) ** 2) / (n * n);
  };
  let floor = 0, count = 0;
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
export function smoothPsfStamp(stamp: PsfStamp): PsfStamp {
  const fft = new Fft2(nextPow2(2 * stamp.size));
  const spec = smoothPsfSpectrum(fft, stamp);
  fft.inverse(spec);
  const n = fft.n, half = (stamp.size - 1) / 2;
  const data = new Float32Array(stamp.size * stamp.size);
  let total = 0;
  for (let v = -half; v <= half; v++) {
    for (let u = -half; u <= half; u++) {
      const val = spec[2 * (((v + n) % n) * n + ((u + n) % n))];
      data[(v + half) * stamp.size + u + half] = val;
      total += val;
    }
  }
  for (let i = 0; i < data.length; i++) data[i] /= total;
  return { size: stamp.size, data };
}
