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

/** A star's peak pixel (whole pixels) and amplitude. */
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
 * The profile's position u (nodes from r0, clamped below the last) of each offset (|dx|, |dy|)
 * up to `reach` from a star's peak pixel, at (|dy| * (reach + 1) + |dx|); NaN outside [r0, r1].
 * The stars sit on whole pixels, so every ring reads its positions here, computed once.
 */
function ringPositions(reach: number, r0: number, r1: number, nb: number): Float64Array {
  const side = reach + 1;
  const step = (r1 - r0) / (nb - 1);
  const table = new Float64Array(side * side);
  for (let b = 0; b < side; b++)
    for (let a = 0; a < side; a++) {
      const r = Math.hypot(a, b);
      table[b * side + a] =
        r < r0 || r > r1 ? Number.NaN : Math.min(nb - 1 - 1e-9, (r - r0) / step);
    }
  return table;
}

/** Pixels each star's ring covers in the fit: index, node and weight of the two nodes (linear interpolation). */
interface Ring {
  idx: Int32Array;
  node: Int32Array;
  frac: Float32Array;
}

/** A ring's arrays as it is found: at most (R + 1)^2 fit pixels (every FIT_STEP-th of 2R + 1 per axis). */
function ringScratch(reach: number): Ring {
  const most = (reach + 1) ** 2;
  return { idx: new Int32Array(most), node: new Int32Array(most), frac: new Float32Array(most) };
}

/**
 * Star `s`'s ring on every FIT_STEP-th pixel of each axis (the profile is smooth over a FWHM; 1/4
 * of the cost): its usable pixels of positive variance within `reach` (R) whose position
 * (ringPositions) is on the profile; indices on the fit's grid.
 */
function ringOf(
  s: HaloStar,
  mask: MaskI,
  variance: ImageF,
  position: Float64Array,
  reach: number,
  scratch: Ring,
): Ring {
  const { width: w, height: h } = mask;
  const sw = Math.ceil(w / FIT_STEP);
  const side = reach + 1;
  const { idx, node, frac } = scratch;
  let n = 0;
  const [ys, xs] = [Math.max(0, s.y - reach), Math.max(0, s.x - reach)];
  const [y1, x1] = [Math.min(h - 1, s.y + reach), Math.min(w - 1, s.x + reach)];
  for (let y = ys + ((FIT_STEP - (ys % FIT_STEP)) % FIT_STEP); y <= y1; y += FIT_STEP) {
    const m = mask.row(y);
    const vr = variance.row(y);
    const row = Math.abs(y - s.y) * side;
    for (let x = xs + ((FIT_STEP - (xs % FIT_STEP)) % FIT_STEP); x <= x1; x += FIT_STEP) {
      const u = position[row + Math.abs(x - s.x)];
      if (Number.isNaN(u) || m[x] & UNUSABLE || !(vr[x] > 0)) continue;
      idx[n] = (y / FIT_STEP) * sw + x / FIT_STEP;
      node[n] = Math.floor(u);
      frac[n++] = u - Math.floor(u);
    }
  }
  return { idx: idx.slice(0, n), node: node.slice(0, n), frac: frac.slice(0, n) };
}

/** Star `s`'s amplitude times the ring's value at each offset (NaN: off the ring) off its usable pixels within `reach`. */
function subtractRing(
  image: ImageF,
  mask: MaskI,
  s: HaloStar,
  reach: number,
  ringValue: Float64Array,
): void {
  const side = reach + 1;
  const [x0, x1] = [Math.max(0, s.x - reach), Math.min(image.width - 1, s.x + reach)];
  for (let y = Math.max(0, s.y - reach); y <= Math.min(image.height - 1, s.y + reach); y++) {
    const m = mask.row(y);
    const io = image.row(y);
    const row = Math.abs(y - s.y) * side;
    for (let x = x0; x <= x1; x++) {
      const value = ringValue[row + Math.abs(x - s.x)];
      if (Number.isNaN(value) || m[x] & UNUSABLE) continue;
      io[x] -= s.amp * value;
    }
  }
}

/**
 * The profile's weighted normal equations, added into `ata` and `atb` (zeros), from the design
 * `rows` (nb a pixel), data `d` and weights `wt` of the pixels not `clipped`; returns their chi^2
 * about 0. A function of its own: the fit's rounds share its optimized code.
 */
function normalEquations(
  rows: Float32Array,
  nb: number,
  d: Float64Array,
  wt: Float64Array,
  clipped: Uint8Array,
  ata: Float64Array,
  atb: Float64Array,
): number {
  const nodes = new Int32Array(nb);
  let chi2 = 0;
  for (let c = 0; c < d.length; c++) {
    if (clipped[c]) continue;
    chi2 += wt[c] * d[c] * d[c];
    const o = c * nb;
    // A pixel's row is 0 but at the nodes of the rings over it, and a 0 term leaves a sum as it was.
    let k = 0;
    for (let p = 0; p < nb; p++) if (rows[o + p] !== 0) nodes[k++] = p;
    for (let a = 0; a < k; a++) {
      const p = nodes[a];
      const u = rows[o + p];
      atb[p] += wt[c] * u * d[c];
      for (let b = 0; b < k; b++) ata[p * nb + nodes[b]] += wt[c] * u * rows[o + nodes[b]];
    }
  }
  return chi2;
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
  const stars = found ?? haloStars(matched, fwhmPx, cfg);
  if (stars.length < 3) return { ...none, stars: stars.length };
  for (const s of stars) s.amp = 1;
  const { width: w, height: h } = image;
  const R = Math.ceil(r1);
  const position = ringPositions(R, r0, r1, nb);
  const sw = Math.ceil(w / FIT_STEP);
  const scratch = ringScratch(R);
  const rings = stars.map((s) => ringOf(s, mask, variance, position, R, scratch));
  if (!image.contiguous || !variance.contiguous) return none;
  const data = image.data;
  const vdata = variance.data;
  // The pixels the rings cover, each once (rings overlap): compact index, data, weight, model.
  // slot[i]: 1 + the compact index of fit pixel i, 0 until seen (a new array is zeros: no fill pass).
  const slot = new Int32Array(sw * Math.ceil(h / FIT_STEP));
  const pixels = new Int32Array(rings.reduce((sum, g) => sum + g.idx.length, 0));
  let n = 0;
  const entry = rings.map((g) => {
    const e = new Int32Array(g.idx.length);
    for (let k = 0; k < e.length; k++) {
      const i = g.idx[k];
      if (slot[i] === 0) {
        pixels[n] = i;
        slot[i] = ++n;
      }
      e[k] = slot[i] - 1;
    }
    return e;
  });
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
    chi0 = normalEquations(rows, nb, d, wt, clipped, ata, atb);
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
  // The model at every usable pixel of each ring (the fit saw one in FIT_STEP^2): the profile at
  // each offset once, then per star its amplitude times that.
  const ringValue = position.map((u) => {
    if (Number.isNaN(u)) return u;
    const j = Math.floor(u);
    return (1 - (u - j)) * profile[j] + (u - j) * profile[j + 1];
  });
  for (const s of stars) subtractRing(image, mask, s, R, ringValue);
  return { applied: true, stars: stars.length, significance, profile: out };
}
