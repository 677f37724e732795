/**
 * Bright stars' unmatched wings on a difference (issue 15 item 7). A PSF-matching kernel reaches a
 * few of its widest basis sigmas; where the two PSFs' wings differ beyond that (a Moffat of low
 * beta, a halo: the real/bogus bench's independent pairs), every bright star leaves a ring on the
 * difference, negative or positive, of tens of sigma in the matched filter, that no smooth
 * background follows. The ring's shape is the same for every star and its amplitude goes as the
 * star's flux, so it is fitted as one radial profile h(r) (linear between `bins` radii from
 * `innerFwhm` to `outerFwhm` PSF FWHMs, 0 beyond) times a free amplitude per star (alternating
 * least squares: saturated cores make aperture fluxes unreliable), over the difference's usable
 * pixels with outliers (sources) clipped, and subtracted only when it is significant: a
 * difference whose stars match leaves it untouched. The core (within innerFwhm) is never
 * touched, so a variable star or a transient on it stays.
 */
import { MaskPlane, UNUSABLE } from '../image/mask.js';
import type { Exposure } from '../image/exposure.js';
import type { ImageF, MaskI } from '../image/plane.js';
import { solveSymmetric } from '../util/linalg.js';
import { poolTask } from '../util/pool-task.js';
import { planeDataOf, planeOf, sharedOrCopy, type PlaneData } from '../util/shared-plane.js';
import type { WorkerPool } from '../util/worker-pool.js';

export interface StarHaloConfig {
  /** Inner and outer radius of the fitted profile, PSF FWHMs (default 2 and 12; 0 outer: off). */
  innerFwhm: number;
  outerFwhm: number;
  /** Profile nodes between them (default 10). */
  bins: number;
  /** Stars whose peak in the matched image exceeds this many pixel sigmas (default 200), the brightest `maxStars` (default 150). */
  minPeakSigma: number;
  maxStars: number;
  /** Subtract only when the fit's chi-square improvement exceeds this many sigmas of chi-square noise per node (default 10). */
  minSignificance: number;
  /** Pixels beyond this many sigmas of the model are clipped from the fit (default 4). */
  clipSigma: number;
}

export const DEFAULT_STAR_HALO_CONFIG: StarHaloConfig = {
  innerFwhm: 2,
  outerFwhm: 12,
  bins: 10,
  minPeakSigma: 200,
  maxStars: 150,
  minSignificance: 10,
  clipSigma: 4,
};

export interface StarHalos {
  applied: boolean;
  stars: number;
  /** Chi-square improvement of the fit over its noise, per profile node (sigmas). */
  significance: number;
  /** The fitted profile at its nodes, per unit star amplitude. */
  profile: number[];
}

/** A peak on these bits is charge or a defect, not a star (a saturated core is one). */
const NOT_A_STAR = MaskPlane.CR | MaskPlane.BAD | MaskPlane.NO_DATA;

/** The fit takes every FIT_STEP-th pixel along each axis. */
const FIT_STEP = 2;
/** Rounds of profile, amplitudes and clipping. */
const FIT_ROUNDS = 3;
/** Gauss-Seidel sweeps over the stars' amplitudes per round. */
const AMPLITUDE_SWEEPS = 2;

export interface HaloStar {
  x: number;
  y: number;
  amp: number;
}

/** The brightest peaks of `matched` (local maxima over 3 x 3, saturated plateaus once), at least `minSeparation` apart. */
function brightStars(
  matched: ImageF,
  variance: ImageF,
  matchedMask: MaskI,
  cfg: StarHaloConfig,
  minSeparation: number,
): HaloStar[] {
  const { width: w, height: h } = matched;
  const peaks: HaloStar[] = [];
  const k2 = cfg.minPeakSigma ** 2;
  for (let y = 1; y < h - 1; y++) {
    const r0 = matched.row(y - 1);
    const r1 = matched.row(y);
    const r2 = matched.row(y + 1);
    const vr = variance.row(y);
    const mr = matchedMask.row(y);
    for (let x = 1; x < w - 1; x++) {
      const v = r1[x];
      // v |v| > k2 var holds for every peak and fails on most of the sky, half of it below zero: one
      // comparison without a branch on the sign settles those.
      if (!(v * Math.abs(v) > k2 * vr[x]) || !(v > 0) || mr[x] & NOT_A_STAR) continue;
      if (v < r1[x - 1] || v < r1[x + 1] || v < r0[x] || v < r2[x]) continue;
      if (v < r0[x - 1] || v < r0[x + 1] || v < r2[x - 1] || v < r2[x + 1]) continue;
      peaks.push({ x, y, amp: v });
    }
  }
  peaks.sort((a, b) => b.amp - a.amp);
  const out: HaloStar[] = [];
  const d2 = minSeparation * minSeparation;
  for (const p of peaks) {
    if (out.length >= cfg.maxStars) break;
    if (out.some((o) => (o.x - p.x) ** 2 + (o.y - p.y) ** 2 < d2)) continue;
    out.push(p);
  }
  return out;
}

type Matched = Pick<Exposure, 'image' | 'variance' | 'mask'>;

/**
 * The stars whose rings are fitted: the brightest peaks of `matched` (the template on the
 * science grid: deeper), at least the profile's inner radius apart. `fwhmPx`: the difference PSF's.
 */
export function haloStars(
  matched: Matched,
  fwhmPx: number,
  config: Partial<StarHaloConfig> = {},
): HaloStar[] {
  const cfg = { ...DEFAULT_STAR_HALO_CONFIG, ...config };
  return brightStars(matched.image, matched.variance, matched.mask, cfg, cfg.innerFwhm * fwhmPx);
}

/** haloStars' arguments as they cross to a pool worker (planes on shared memory). */
export interface HaloStarsJob {
  image: PlaneData<Float32Array>;
  variance: PlaneData<Float32Array>;
  mask: PlaneData<Int32Array>;
  fwhmPx: number;
  config: Partial<StarHaloConfig>;
}

/** Worker side of haloStarsAsync. */
export function haloStarsTask(job: HaloStarsJob): HaloStar[] {
  const matched = {
    image: planeOf(job.image),
    variance: planeOf(job.variance),
    mask: planeOf(job.mask),
  };
  return haloStars(matched, job.fwhmPx, job.config);
}

/** haloStars on `pool`'s worker (here without one): it reads only the matched image. */
export function haloStarsAsync(
  matched: Matched,
  fwhmPx: number,
  config: Partial<StarHaloConfig>,
  pool: WorkerPool | null,
): Promise<HaloStar[]> {
  if (!pool || pool.size === 0) return Promise.resolve(haloStars(matched, fwhmPx, config));
  return pool.runTask(poolTask(import.meta.url, { haloStarsTask }), {
    image: planeDataOf(sharedOrCopy(matched.image)),
    variance: planeDataOf(sharedOrCopy(matched.variance)),
    mask: planeDataOf(sharedOrCopy(matched.mask)),
    fwhmPx,
    config,
  });
}

/**
 * Math.hypot(dx, dy), read from a table for integers within `reach` of 0 (a star's pixels about
 * its peak pixel): the same numbers (hypot sees only |dx| and |dy|), without its cost per pixel.
 */
function radii(reach: number): (dx: number, dy: number) => number {
  const side = reach + 1;
  const table = new Float64Array(side * side);
  for (let a = 0; a < side; a++)
    for (let b = 0; b < side; b++) table[a * side + b] = Math.hypot(a, b);
  return (dx, dy) => {
    const a = Math.abs(dx),
      b = Math.abs(dy);
    return Number.isInteger(a) && Number.isInteger(b) && a < side && b < side
      ? table[a * side + b]
      : Math.hypot(dx, dy);
  };
}

/**
 * Fits and (when significant) subtracts the stars' common ring from `image` in place (see the
 * module comment). The stars are found on `matched` (haloStars, unless given as `found`),
 * `variance` is the difference's, `fwhmPx` its PSF's.
 */
export function subtractStarHalos(
  image: ImageF,
  mask: MaskI,
  variance: ImageF,
  matched: Matched,
  fwhmPx: number,
  config: Partial<StarHaloConfig> = {},
  found?: HaloStar[],
): StarHalos {
  const cfg = { ...DEFAULT_STAR_HALO_CONFIG, ...config };
  const none: StarHalos = { applied: false, stars: 0, significance: 0, profile: [] };
  if (!(cfg.outerFwhm > cfg.innerFwhm) || cfg.bins < 2) return none;
  const r0 = cfg.innerFwhm * fwhmPx;
  const r1 = cfg.outerFwhm * fwhmPx;
  const nb = cfg.bins;
  const step = (r1 - r0) / (nb - 1);
  const stars = found ?? haloStars(matched, fwhmPx, cfg);
  if (stars.length < 3) return { ...none, stars: stars.length };
  for (const s of stars) s.amp = 1;
  const { width: w, height: h } = image;
  const R = Math.ceil(r1);
  const radius = radii(R);
  const sw = Math.ceil(w / FIT_STEP);
  // Pixels each star's ring covers: index, node and weight of the two nodes (linear interpolation).
  interface Ring {
    idx: Int32Array;
    node: Int32Array;
    frac: Float32Array;
  }
  const rings: Ring[] = stars.map((s) => {
    const idx: number[] = [];
    const node: number[] = [];
    const frac: number[] = [];
    // Fitted on every FIT_STEP-th pixel of each axis (the profile is smooth over a FWHM; 1/4 of the cost).
    const [ys, xs] = [Math.max(0, s.y - R), Math.max(0, s.x - R)];
    for (
      let y = ys + ((FIT_STEP - (ys % FIT_STEP)) % FIT_STEP);
      y <= Math.min(h - 1, s.y + R);
      y += FIT_STEP
    ) {
      const m = mask.row(y);
      const vr = variance.row(y);
      for (
        let x = xs + ((FIT_STEP - (xs % FIT_STEP)) % FIT_STEP);
        x <= Math.min(w - 1, s.x + R);
        x += FIT_STEP
      ) {
        const r = radius(x - s.x, y - s.y);
        if (r < r0 || r > r1 || m[x] & UNUSABLE || !(vr[x] > 0)) continue;
        const u = Math.min(nb - 1 - 1e-9, (r - r0) / step);
        idx.push((y / FIT_STEP) * sw + x / FIT_STEP);
        node.push(Math.floor(u));
        frac.push(u - Math.floor(u));
      }
    }
    return {
      idx: Int32Array.from(idx),
      node: Int32Array.from(node),
      frac: Float32Array.from(frac),
    };
  });
  if (!image.contiguous || !variance.contiguous) return none;
  const data = image.data;
  const vdata = variance.data;
  // The pixels the rings cover, each once (rings overlap): compact index, data, weight, model.
  // slot[i]: 1 + the compact index of fit pixel i, 0 until seen (a new array is zeros: no fill pass).
  const slot = new Int32Array(sw * Math.ceil(h / FIT_STEP));
  const pixels: number[] = [];
  const entry = rings.map((g) =>
    Int32Array.from(g.idx, (i) => {
      if (slot[i] === 0) slot[i] = pixels.push(i);
      return slot[i] - 1;
    }),
  );
  const n = pixels.length;
  const d = new Float64Array(n);
  const wt = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    const full = Math.floor(pixels[c] / sw) * FIT_STEP * w + (pixels[c] % sw) * FIT_STEP;
    d[c] = data[full];
    wt[c] = 1 / vdata[full];
  }
  const model = new Float64Array(n);
  const clipped = new Uint8Array(n);
  let profile = new Float64Array(nb);
  const at = (g: Ring, k: number): number =>
    (1 - g.frac[k]) * profile[g.node[k]] + g.frac[k] * profile[g.node[k] + 1];
  const drawModel = (): void => {
    model.fill(0);
    rings.forEach((g, s) => {
      const e = entry[s];
      const a = stars[s].amp;
      for (let k = 0; k < e.length; k++) model[e[k]] += a * at(g, k);
    });
  };
  let chi0 = 0;
  let chi1 = 0;
  // A chi-square drop over the noise of a chi-square of as many free parameters.
  const significanceOf = (drop: number): number =>
    (drop - (nb + stars.length)) / Math.sqrt(2 * (nb + stars.length));
  const rows = new Float32Array(n * nb);
  for (let it = 0; it < FIT_ROUNDS; it++) {
    // Profile, amplitudes fixed (the first round: every star alike): each pixel's design row sums its rings.
    rows.fill(0);
    rings.forEach((g, s) => {
      const e = entry[s];
      const a = stars[s].amp;
      for (let k = 0; k < e.length; k++) {
        const o = e[k] * nb + g.node[k];
        rows[o] += a * (1 - g.frac[k]);
        rows[o + 1] += a * g.frac[k];
      }
    });
    const ata = new Float64Array(nb * nb);
    const atb = new Float64Array(nb);
    chi0 = 0;
    for (let c = 0; c < n; c++) {
      if (clipped[c]) continue;
      chi0 += wt[c] * d[c] * d[c];
      const o = c * nb;
      for (let p = 0; p < nb; p++) {
        const u = rows[o + p];
        if (u === 0) continue;
        atb[p] += wt[c] * u * d[c];
        for (let q = 0; q < nb; q++) ata[p * nb + q] += wt[c] * u * rows[o + q];
      }
    }
    for (let p = 0; p < nb; p++) ata[p * nb + p] += 1e-9 * (ata[p * nb + p] || 1);
    profile = Float64Array.from(solveSymmetric(ata, atb));
    if (!profile.every(Number.isFinite)) return { ...none, stars: stars.length };
    // Amplitudes, profile fixed: Gauss-Seidel sweeps over the stars on the residual.
    drawModel();
    for (let sweep = 0; sweep < AMPLITUDE_SWEEPS; sweep++)
      rings.forEach((g, s) => {
        const e = entry[s];
        let [num, den] = [0, 0];
        for (let k = 0; k < e.length; k++) {
          const c = e[k];
          if (clipped[c]) continue;
          const b = at(g, k);
          num += wt[c] * b * (d[c] - model[c]);
          den += wt[c] * b * b;
        }
        if (!(den > 0)) return;
        const delta = num / den;
        stars[s].amp += delta;
        for (let k = 0; k < e.length; k++) model[e[k]] += delta * at(g, k);
      });
    // The fit's chi-square over the same pixels, then the next round's clipping.
    chi1 = 0;
    for (let c = 0; c < n; c++) {
      if (clipped[c]) continue;
      const r2 = wt[c] * (d[c] - model[c]) ** 2;
      chi1 += r2;
      if (r2 > cfg.clipSigma ** 2) clipped[c] = 1;
    }
    // Stars that match are seen in the first round: the others are not fitted.
    if (!(significanceOf(chi0 - chi1) > cfg.minSignificance)) break;
  }
  const significance = significanceOf(chi0 - chi1);
  const out = Array.from(profile);
  if (!(significance > cfg.minSignificance))
    return { applied: false, stars: stars.length, significance, profile: out };
  // The model at every usable pixel of each ring (the fit saw one in FIT_STEP^2).
  for (const s of stars) {
    for (let y = Math.max(0, s.y - R); y <= Math.min(h - 1, s.y + R); y++) {
      const m = mask.row(y);
      const io = image.row(y);
      for (let x = Math.max(0, s.x - R); x <= Math.min(w - 1, s.x + R); x++) {
        const r = radius(x - s.x, y - s.y);
        if (r < r0 || r > r1 || m[x] & UNUSABLE) continue;
        const u = Math.min(nb - 1 - 1e-9, (r - r0) / step);
        const j = Math.floor(u);
        io[x] -= s.amp * ((1 - (u - j)) * profile[j] + (u - j) * profile[j + 1]);
      }
    }
  }
  return { applied: true, stars: stars.length, significance, profile: out };
}
