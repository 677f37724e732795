/**
 * The stars registration works on: the characterization's measured candidates when at hand, else
 * found afresh on a background-subtracted exposure (e.g. a template read back prepared).
 */
import type { Candidate } from '../characterize/star-select.js';
import { findPeaks } from '../characterize/detect-peaks.js';
import { adaptiveMoments } from '../characterize/moments.js';
import type { Exposure } from '../image/exposure.js';
import type { ImageF } from '../image/plane.js';
import { MaskPlane } from '../image/mask.js';
import { median } from '../util/stats.js';
import type { AstromSource } from './register.js';

/** Fewest moments signal-to-noise of a star found afresh. */
const MIN_SNR = 20;
/** At most this many peaks, the most significant, are measured. */
const MAX_PEAKS = 2000;
const UNUSABLE = MaskPlane.NO_DATA | MaskPlane.SAT | MaskPlane.BAD | MaskPlane.CR | MaskPlane.EDGE;

/** A centroid's error from adaptive moments: about sqrt(ixx + iyy) / SNR pixels. */
export function fromCandidates(candidates: readonly Candidate[]): AstromSource[] {
  return candidates.map((c) => ({
    x: c.x,
    y: c.y,
    flux: c.flux,
    sigmaPx: Math.sqrt(c.ixx + c.iyy) / c.snr,
  }));
}

/**
 * Bright sources of a background-subtracted exposure with a variance plane, measured by adaptive
 * moments. With `response` (the image's relative response, diffim/illumination.ts) they are
 * measured on the image divided by it, as flat-fielding would leave it: a star on a fall-off edge
 * whose response changes by g per px has its light-weighted centroid pulled by ~g sigma_psf^2
 * (0.05 px on an 80 px edge), by another amount in an image taken at another pointing.
 */
export function findSources(exposure: Exposure, response: ImageF | null = null): AstromSource[] {
  const { width: w, height: h } = exposure;
  const data = new Float32Array(w * h);
  const bad = new Uint8Array(w * h);
  const variance = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    const img = exposure.image.row(y);
    const msk = exposure.mask.row(y);
    const vr = exposure.variance.row(y);
    const rr = response?.row(y);
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const r = rr ? rr[x] : 1;
      const unusable = (msk[x] & UNUSABLE) !== 0 || !Number.isFinite(img[x]) || !(r > 0);
      bad[i] = unusable ? 1 : 0;
      data[i] = unusable ? 0 : img[x] / r;
      variance[i] = Number.isFinite(vr[x]) && !unusable ? vr[x] / (r * r) : 0;
    }
  }
  const step = Math.max(1, Math.floor((w * h) / 100000));
  const sample: number[] = [];
  for (let i = 0; i < variance.length; i += step)
    if (!bad[i] && variance[i] > 0) sample.push(variance[i]);
  const sigma = Math.sqrt(median(sample));
  if (!(sigma > 0)) return [];
  const peaks = findPeaks(data, w, h, sigma);
  const src = { data, width: w, height: h, bad, variance };
  const out: AstromSource[] = [];
  for (const p of [...peaks].sort((a, b) => b.significance - a.significance).slice(0, MAX_PEAKS)) {
    const m = adaptiveMoments(src, p.x, p.y, 2);
    if (m.ok && m.snr >= MIN_SNR && m.flux > 0)
      out.push({ x: m.x, y: m.y, flux: m.flux, sigmaPx: Math.sqrt(m.ixx + m.iyy) / m.snr });
  }
  return out;
}
