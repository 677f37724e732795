/**
 * fit-psf.ts's per-star and per-pixel work in bands shared with a helper thread when one is free
 * (../util/shared-bands.ts): the stars' stamps live on SharedArrayBuffers (a StarStore), each star
 * is recentred and refitted on its own (bands of stars), and each model pixel's normal equations
 * sum the stars in their order (bands of model rows), so the values are those of one thread.
 * @example
 *   const store = newStarStore(stars.length, padded); // extracted by fit-psf.ts
 *   recentreStars(store, size, false, helper);        // then solveBasis, refitStars
 */
import { LANCZOS_A, shiftImage } from './lanczos.js';
import { PixelPsf, type PixelPsfFrame } from './pixel-psf.js';
import { solveSymmetric } from '../util/linalg.js';
import { poolTask } from '../util/pool-task.js';
import { runClaimed, shareBands, type BandClaim, type Helper } from '../util/shared-bands.js';

/** Per star in StarStore.pos: centroid x, y; sub-pixel offset dx, dy of the centroid from the stamp centre. */
export const POS = 4;
/** Per star in StarStore.fit: flux, fluxErr, chi2, dof, used (1 or 0). */
export const FIT = 5;
export const FLUX = 0;
export const FLUX_ERR = 1;
export const CHI2 = 2;
export const DOF = 3;
export const USED = 4;
/** Stars per band (a star's recentring or refit is ~0.05 ms). */
const STAR_BAND = 16;

/** The fitted stars: a padded stamp each (padded^2 values, star k at k * padded^2), on shared memory. */
export interface StarStore {
  count: number;
  padded: number;
  pos: Float64Array;
  data: Float64Array;
  variance: Float64Array;
  /** Non-zero on pixels left out of the star (unusable, neighbours, clipped). */
  bad: Uint8Array;
  /** The last model drawn at each star (refitStars'), shifted to its phase and normalised. */
  model: Float64Array;
  /** The star recentred on its stamp (unusable pixels filled first), and the pixels solveBasis leaves out. */
  centered: Float64Array;
  guard: Uint8Array;
  fit: Float64Array;
}

const sharedOf = <T>(make: new (b: SharedArrayBuffer) => T, bytes: number): T =>
  new make(new SharedArrayBuffer(bytes));

/** A store of `count` stars with padded stamps of side `padded` (zeros). */
export function newStarStore(count: number, padded: number): StarStore {
  const n = count * padded * padded;
  return {
    count,
    padded,
    pos: sharedOf(Float64Array, 8 * POS * count),
    data: sharedOf(Float64Array, 8 * n),
    variance: sharedOf(Float64Array, 8 * n),
    bad: sharedOf(Uint8Array, n),
    model: sharedOf(Float64Array, 8 * n),
    centered: sharedOf(Float64Array, 8 * n),
    guard: sharedOf(Uint8Array, n),
    fit: sharedOf(Float64Array, 8 * FIT * count),
  };
}

/** Star k's stamp of one of the store's planes. */
const stampOf = <T extends Float64Array | Uint8Array>(plane: T, store: StarStore, k: number): T =>
  plane.subarray(k * store.padded ** 2, (k + 1) * store.padded ** 2) as T;

/** True when star k takes part in the basis fit. */
const fitted = (fit: Float64Array, k: number): boolean =>
  fit[FIT * k + USED] === 1 && fit[FIT * k + FLUX] > 0;

interface RecentreJob {
  store: StarStore;
  /** Unusable pixels take the current model's value (false: zero, with a 1-px guard). */
  withModel: boolean;
}

function recentreBand(job: RecentreJob, band: number): void {
  const { store, withModel } = job;
  const p2 = store.padded ** 2;
  const filled = new Float64Array(p2);
  for (let k = band * STAR_BAND, end = Math.min(store.count, k + STAR_BAND); k < end; k++) {
    if (!fitted(store.fit, k)) continue;
    const f = store.fit[FIT * k + FLUX];
    const bad = stampOf(store.bad, store, k);
    const model = stampOf(store.model, store, k);
    const guard = stampOf(store.guard, store, k);
    filled.set(stampOf(store.data, store, k));
    guard.set(bad);
    for (let i = 0; i < p2; i++) if (bad[i]) filled[i] = withModel ? f * model[i] : 0;
    if (!withModel) growBad(guard, store.padded);
    const dx = store.pos[POS * k + 2];
    const dy = store.pos[POS * k + 3];
    stampOf(store.centered, store, k).set(shiftImage(filled, store.padded, -dx, -dy));
  }
}

/** Helper side of recentreStars. */
export function recentreTask(job: RecentreJob & { claim: BandClaim }): void {
  runClaimed(job.claim, (b) => recentreBand(job, b));
}

/** Each fitted star recentred on its sub-pixel centroid by a Lanczos-3 shift (store.centered, store.guard). */
export function recentreStars(store: StarStore, withModel: boolean, helper: Helper | null): void {
  const job: RecentreJob = { store, withModel };
  shareBands(
    helper,
    poolTask(import.meta.url, { recentreTask }),
    job,
    Math.ceil(store.count / STAR_BAND),
    (b) => recentreBand(job, b),
  );
}

/**
 * The foreign-light term is solved only where the flux lever arm separates it from the PSF: its
 * column (1 / f) must keep at least this fraction of its weighted norm once projected off the
 * constant (0.3-0.6 with the spread of star fluxes of simulated fields; 0 when all fluxes are equal).
 */
const MIN_FOREIGN_LEVER = 0.1;

interface BasisJob {
  store: StarStore;
  size: number;
  nT: number;
  /** The polynomial terms' values at each star (nT a star). */
  terms: Float64Array;
  accuracy: number;
  foreignRadius: number;
  /** Receives the basis: nT images of size^2. */
  basis: Float64Array;
}

/** The model pixels of row `j`: each one's normal equations summed over the fitted stars in order, then solved. */
function basisRow(job: BasisJob, j: number): void {
  const { store, size, nT, terms, accuracy, foreignRadius, basis } = job;
  const { padded, fit } = store;
  const p2 = padded * padded;
  const off = LANCZOS_A;
  const ata = new Float64Array(size * nT * nT);
  const atb = new Float64Array(size * nT);
  // Per pixel, the weighted sums of 1 / f, 1 / f^2 and d / f (the weight and d sums are ata's and atb's constant term).
  const sz = new Float64Array(size);
  const szz = new Float64Array(size);
  const szd = new Float64Array(size);
  for (let s = 0; s < store.count; s++) {
    if (!fitted(fit, s)) continue;
    const f = fit[FIT * s + FLUX];
    const p = terms.subarray(nT * s, nT * s + nT);
    const row = s * p2 + (j + off) * padded + off;
    for (let i = 0; i < size; i++) {
      const k = row + i;
      if (store.guard[k]) continue;
      const c = store.centered[k];
      // PSFEx's PSF_ACCURACY: a floor on each pixel's relative error, so that a few bright stars
      // do not carry the spatial fit alone.
      const floor = accuracy * Math.max(0, c);
      const wgt = (f * f) / (store.variance[k] + floor * floor);
      const d = c / f;
      const base = i * nT * nT;
      for (let a = 0; a < nT; a++) {
        const wa = wgt * p[a];
        atb[i * nT + a] += wa * d;
        for (let b = a; b < nT; b++) ata[base + a * nT + b] += wa * p[b];
      }
      sz[i] += wgt / f;
      szz[i] += wgt / (f * f);
      szd[i] += (wgt * d) / f;
    }
  }
  const n = size * size;
  const a = new Float64Array(nT * nT);
  const b = new Float64Array(nT);
  const half = (size - 1) / 2;
  for (let i = 0; i < size; i++) {
    for (let r = 0; r < nT; r++) {
      for (let c = r; c < nT; c++) a[r * nT + c] = a[c * nT + r] = ata[i * nT * nT + r * nT + c];
      b[r] = atb[i * nT + r];
    }
    const x = solveSymmetric(a, b);
    if (Math.hypot(i - half, j - half) >= foreignRadius) {
      // d / f = psf + b / f over the stars: b's least-squares slope, then the stack loses its weighted mean of b / f.
      const sw = ata[i * nT * nT];
      const meanZ = sz[i] / sw;
      const lever = szz[i] - sz[i] * meanZ;
      if (lever > MIN_FOREIGN_LEVER * szz[i])
        x[0] -= ((szd[i] - atb[i * nT] * meanZ) / lever) * meanZ;
    }
    for (let t = 0; t < nT; t++) basis[t * n + j * size + i] = x[t];
  }
}

/** Helper side of solveBasis. */
export function basisTask(job: BasisJob & { claim: BandClaim }): void {
  runClaimed(job.claim, (j) => basisRow(job, j));
}

/**
 * One weighted least-squares polynomial per model pixel (of side `size`) over the recentred fitted
 * stars (`terms`: the nT polynomial terms' values at each star). Beyond foreignRadius (px; Infinity:
 * nowhere) the foreign light b is fitted per pixel against the mean PSF, and the constant term loses the
 * stars' weighted mean of b / f: the spatial terms are left alone, as a slope in 1 / f across the
 * detector would be noise. Returns nT basis images of size^2, concatenated.
 */
export function solveBasis(
  store: StarStore,
  size: number,
  nT: number,
  terms: Float64Array,
  accuracy: number,
  foreignRadius: number,
  helper: Helper | null,
): Float64Array {
  const basis = sharedOf(Float64Array, 8 * nT * size * size);
  const job: BasisJob = { store, size, nT, terms, accuracy, foreignRadius, basis };
  shareBands(helper, poolTask(import.meta.url, { basisTask }), job, size, (j) => basisRow(job, j));
  return Float64Array.from(basis);
}

interface RefitJob {
  store: StarStore;
  /** The model (PixelPsf's arguments: the helper draws it itself). */
  size: number;
  degree: number;
  basis: Float64Array;
  frame: PixelPsfFrame;
  clip: number;
  minSnr: number;
}

function refitBand(job: RefitJob, band: number, psf: PixelPsf): void {
  const { store } = job;
  for (let k = band * STAR_BAND, end = Math.min(store.count, k + STAR_BAND); k < end; k++)
    refitStar(store, k, psf, job.clip, job.minSnr);
}

/** Helper side of refitStars. */
export function refitTask(job: RefitJob & { claim: BandClaim }): void {
  const psf = new PixelPsf(job.size, job.degree, job.basis, job.frame);
  runClaimed(job.claim, (b) => refitBand(job, b, psf));
}

/** refitStar of every star (fitted or not), shared with `helper`. */
export function refitStars(
  store: StarStore,
  psf: PixelPsf,
  clip: number,
  minSnr: number,
  helper: Helper | null,
): void {
  const basis = sharedOf(Float64Array, 8 * psf.basis.length);
  basis.set(psf.basis);
  const job: RefitJob = {
    store,
    size: psf.stampSize,
    degree: psf.degree,
    basis,
    frame: { width: psf.frame.width, height: psf.frame.height },
    clip,
    minSnr,
  };
  shareBands(
    helper,
    poolTask(import.meta.url, { refitTask }),
    job,
    Math.ceil(store.count / STAR_BAND),
    (b) => refitBand(job, b, psf),
  );
}

/**
 * Linear flux fit to the model, then chi^2 and pixel clipping over the unpadded stamp; the clip
 * allows a 5% model error so that bright cores are not cut while the model is still rough. The
 * model drawn at the star is kept in store.model.
 */
function refitStar(store: StarStore, k: number, psf: PixelPsf, clip: number, minSnr: number): void {
  const { padded } = store;
  const model = stampOf(store.model, store, k);
  const data = stampOf(store.data, store, k);
  const variance = stampOf(store.variance, store, k);
  const bad = stampOf(store.bad, store, k);
  const stamp = psf.stampAt(store.pos[POS * k], store.pos[POS * k + 1]);
  const size = psf.stampSize;
  const off = (padded - size) / 2;
  model.fill(0);
  for (let j = 0; j < size; j++)
    for (let i = 0; i < size; i++) model[(j + off) * padded + i + off] = stamp.data[j * size + i];
  let smm = 0;
  let sdm = 0;
  for (let j = off; j < off + size; j++) {
    for (let i = off; i < off + size; i++) {
      const q = j * padded + i;
      if (bad[q]) continue;
      smm += (model[q] * model[q]) / variance[q];
      sdm += (data[q] * model[q]) / variance[q];
    }
  }
  const flux = sdm / smm;
  let chi2 = 0;
  let ngood = 0;
  for (let j = off; j < off + size; j++) {
    for (let i = off; i < off + size; i++) {
      const q = j * padded + i;
      if (bad[q]) continue;
      const d = data[q] - flux * model[q];
      const d2 = d * d;
      const r2 = d2 / variance[q];
      const floor = 0.05 * flux * model[q];
      if (d2 > clip * clip * (variance[q] + floor * floor)) {
        bad[q] = 1;
        continue;
      }
      chi2 += r2;
      ngood++;
    }
  }
  const fit = store.fit;
  fit[FIT * k + FLUX] = flux;
  fit[FIT * k + FLUX_ERR] = 1 / Math.sqrt(smm);
  fit[FIT * k + CHI2] = chi2;
  fit[FIT * k + DOF] = Math.max(1, ngood - 1);
  if (!(flux * Math.sqrt(smm) >= minSnr)) fit[FIT * k + USED] = 0;
}

function growBad(bad: Uint8Array, size: number): void {
  const src = bad.slice();
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      if (!src[j * size + i]) continue;
      for (let dj = -1; dj <= 1; dj++) {
        for (let di = -1; di <= 1; di++) {
          const jj = j + dj;
          const ii = i + di;
          if (jj >= 0 && ii >= 0 && jj < size && ii < size) bad[jj * size + ii] = 1;
        }
      }
    }
  }
}
