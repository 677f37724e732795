/**
 * Bogus kinds the simulator does not make, added by the training-set generator to a science
 * image after it has been characterized (so that, like the defects a real pipeline misses, they
 * are not masked):
 * - `unmasked_cr`: a cosmic-ray track (1 px wide, 2-14 px long, sharper than any PSF) that
 *   escaped cosmic-ray rejection;
 * - `unmasked_hot`: a hot pixel or a 2-pixel pair missing from the defect map;
 * - `dipole`: misregistration of a star, flux * (PSF(x + d) - PSF(x)) with |d| 0.15-0.8 px
 *   (astrometric error between template and science, as Rubin's dipoles);
 * - `psf_residual`: a bright-star residual of a PSF-matching error, flux * eps * (G(sigma) -
 *   G(1.3 sigma)) (a core with a ring of the other sign, either sign), eps 2-8 %;
 * - `edge_glow`: amplifier glow at a detector edge, an exponential ramp 2-6 px deep along
 *   20-80 px of the edge.
 * Training nights may add more shapes of the first two kinds (`ExtraDefectConfig`): hot-pixel
 * clusters, tracks deposited at sub-pixel positions (short and long), and defects beside bright
 * stars; they are drawn after the others, so a configuration without them draws what it drew before.
 * Every position is recorded so detections can be labelled.
 */
import type { Exposure } from '../image/exposure.js';
import type { Rng } from '../sim/random.js';

export type ArtifactKind = 'unmasked_cr' | 'unmasked_hot' | 'dipole' | 'psf_residual' | 'edge_glow';

export interface InjectedArtifact {
  kind: ArtifactKind;
  /** 0-based science pixels (edge_glow: the middle of its stretch of edge). */
  x: number;
  y: number;
  /** Half-extent of the artifact, px: detections within this of (x, y) are attributed to it. */
  radius: number;
}

export interface ArtifactConfig {
  /** Per square megapixel per science visit. */
  unmaskedCrPerMegapixel: number;
  unmaskedHotPerMegapixel: number;
  /** Dipoles and residuals are placed on measured stars, up to these rates. */
  dipolesPerMegapixel: number;
  psfResidualsPerMegapixel: number;
  /** Edge glows per image. */
  edgeGlowsPerImage: number;
  /** No artifact within this distance of a real change, px (so labels stay clean). */
  clearOfRealPx: number;
  /** More shapes of unmasked defects (training nights only; absent: none). */
  extra?: ExtraDefectConfig;
}

/** Unmasked cosmic rays and hot pixels of other shapes than the single track or pixel (per square megapixel per visit). */
export interface ExtraDefectConfig {
  /** 2-4 connected hot pixels: a pair along any of the 8 directions, an L, a 2 x 2 block. */
  hotClustersPerMegapixel: number;
  /** Tracks 1-8 px long at any angle, deposited bilinearly (so 1-3 px wide), brightness varying along them. */
  shortTracksPerMegapixel: number;
  /** The same, 14-40 px long. */
  longTracksPerMegapixel: number;
  /** A hot-pixel cluster or short track 2-8 px from a bright star (on its wing), up to the stars measured. */
  besideStarsPerMegapixel: number;
  /** A hot-pixel cluster or short track 1-6 px from an image edge (its cutouts partly off the image). */
  nearEdgePerMegapixel: number;
  /** Peak value per pixel, ADU, drawn log-uniform (as many faint defects near the detection limit per decade as bright ones). */
  peakAdu: [number, number];
}

export const DEFAULT_ARTIFACT_CONFIG: ArtifactConfig = {
  unmaskedCrPerMegapixel: 25,
  unmaskedHotPerMegapixel: 15,
  dipolesPerMegapixel: 25,
  psfResidualsPerMegapixel: 15,
  edgeGlowsPerImage: 3,
  clearOfRealPx: 15,
};

/**
 * The training nights' defects (rb-v6 on): the default kinds and rates, with twice the unmasked cosmic
 * rays and hot pixels and every extra shape (down to 100 ADU a pixel: night 9002's passing tracks are
 * 150-800 ADU a pixel, one at the image's edge), since fine-tunings let night 9002's unmasked defects through
 * (shared/rb/README.md). Never on a night the figures are quoted on.
 */
export const TRAINING_ARTIFACT_CONFIG: ArtifactConfig = {
  ...DEFAULT_ARTIFACT_CONFIG,
  unmaskedCrPerMegapixel: 50,
  unmaskedHotPerMegapixel: 30,
  extra: {
    hotClustersPerMegapixel: 20,
    shortTracksPerMegapixel: 25,
    longTracksPerMegapixel: 6,
    besideStarsPerMegapixel: 15,
    nearEdgePerMegapixel: 15,
    peakAdu: [100, 8000],
  },
};

/** Bright, isolated stars of the science image (science pixels, flux in ADU). */
export interface StarPosition {
  x: number;
  y: number;
  flux: number;
}

/**
 * Adds the artifacts to `science.image` in place and returns where they are. `real` lists the
 * positions of real changes to keep clear of.
 */
export function injectArtifacts(
  science: Exposure,
  stars: readonly StarPosition[],
  real: ReadonlyArray<{ x: number; y: number }>,
  rng: Rng,
  config: ArtifactConfig = DEFAULT_ARTIFACT_CONFIG,
): InjectedArtifact[] {
  const { width, height } = science;
  const mp = (width * height) / 1e6;
  const out: InjectedArtifact[] = [];
  const clear = (x: number, y: number): boolean =>
    real.every((r) => Math.hypot(r.x - x, r.y - y) > config.clearOfRealPx) &&
    out.every((a) => Math.hypot(a.x - x, a.y - y) > a.radius + 10);
  const img = science.image;
  const add = (x: number, y: number, v: number): void => {
    if (x >= 0 && y >= 0 && x < width && y < height) img.set(x, y, img.get(x, y) + v);
  };
  const count = (rate: number): number => Math.floor(rate * mp + rng.uniform());

  for (let k = count(config.unmaskedCrPerMegapixel); k > 0; k--) {
    const x = rng.between(10, width - 10);
    const y = rng.between(10, height - 10);
    if (!clear(x, y)) continue;
    const length = rng.between(2, 14);
    const angle = rng.between(0, Math.PI);
    const perPixel = rng.between(150, 2500);
    for (let s = -length / 2; s <= length / 2; s += 0.5)
      add(Math.round(x + s * Math.cos(angle)), Math.round(y + s * Math.sin(angle)), perPixel / 2);
    out.push({ kind: 'unmasked_cr', x, y, radius: length / 2 + 1 });
  }
  for (let k = count(config.unmaskedHotPerMegapixel); k > 0; k--) {
    const x = Math.round(rng.between(5, width - 5));
    const y = Math.round(rng.between(5, height - 5));
    if (!clear(x, y)) continue;
    const value = rng.between(80, 5000);
    add(x, y, value);
    if (rng.uniform() < 0.3) add(x + 1, y, value * rng.between(0.2, 1));
    out.push({ kind: 'unmasked_hot', x, y, radius: 2 });
  }
  const psf = science.psf;
  const shuffled = [...stars];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
  }
  let dipoles = count(config.dipolesPerMegapixel);
  let residuals = count(config.psfResidualsPerMegapixel);
  for (const star of shuffled) {
    if (!psf || (dipoles <= 0 && residuals <= 0)) break;
    if (!clear(star.x, star.y)) continue;
    if (dipoles > 0) {
      dipoles--;
      const d = rng.between(0.15, 0.8);
      const a = rng.between(0, 2 * Math.PI);
      addStamp(
        add,
        psf.stampAt(star.x + d * Math.cos(a), star.y + d * Math.sin(a)),
        star.x + d * Math.cos(a),
        star.y + d * Math.sin(a),
        star.flux,
      );
      addStamp(add, psf.stampAt(star.x, star.y), star.x, star.y, -star.flux);
      out.push({ kind: 'dipole', x: star.x, y: star.y, radius: 4 });
    } else {
      residuals--;
      const sigma = psf.sigmaAt(star.x, star.y);
      const amp = star.flux * rng.between(0.02, 0.08) * (rng.uniform() < 0.5 ? -1 : 1);
      addRing(add, star.x, star.y, sigma, amp);
      out.push({ kind: 'psf_residual', x: star.x, y: star.y, radius: 4 * sigma });
    }
  }
  for (let k = 0; k < config.edgeGlowsPerImage; k++) {
    const side = rng.int(4);
    const along = rng.between(40, (side < 2 ? width : height) - 40);
    const length = rng.between(20, 80);
    const depth = rng.between(2, 6);
    const amp = rng.between(100, 2000);
    const [x, y] = glowCentre(side, along, width, height);
    if (!clear(x, y)) continue;
    for (let s = Math.round(along - length / 2); s <= along + length / 2; s++) {
      for (let e = 0; e < 4 * depth; e++) {
        const v = amp * Math.exp(-e / depth);
        if (side === 0) add(s, e, v);
        else if (side === 1) add(s, height - 1 - e, v);
        else if (side === 2) add(e, s, v);
        else add(width - 1 - e, s, v);
      }
    }
    out.push({ kind: 'edge_glow', x, y, radius: length / 2 + 4 * depth });
  }
  if (config.extra)
    injectExtraDefects(config.extra, shuffled, out, clear, add, width, height, mp, rng);
  return out;
}

/** Fractional offsets of a hot-pixel cluster's pixels from its first one: pairs in 8 directions, L shapes, a 2 x 2 block. */
const CLUSTERS: ReadonlyArray<ReadonlyArray<readonly [number, number]>> = [
  [[1, 0]],
  [[0, 1]],
  [[1, 1]],
  [[1, -1]],
  [
    [1, 0],
    [0, 1],
  ],
  [
    [1, 0],
    [1, 1],
  ],
  [
    [0, 1],
    [1, 1],
  ],
  [
    [1, 0],
    [0, 1],
    [1, 1],
  ],
];

/** The extra defect shapes of `extra`, appended to `out` (see ExtraDefectConfig). */
function injectExtraDefects(
  extra: ExtraDefectConfig,
  stars: readonly StarPosition[],
  out: InjectedArtifact[],
  clear: (x: number, y: number) => boolean,
  add: (x: number, y: number, v: number) => void,
  width: number,
  height: number,
  mp: number,
  rng: Rng,
): void {
  const count = (rate: number): number => Math.floor(rate * mp + rng.uniform());
  const [lo, hi] = extra.peakAdu.map(Math.log);
  const peak = (): number => Math.exp(rng.between(lo, hi));
  const cluster = (x: number, y: number): void => {
    const p = peak();
    add(x, y, p);
    for (const [dx, dy] of CLUSTERS[rng.int(CLUSTERS.length)])
      add(x + dx, y + dy, p * rng.between(0.15, 1));
    out.push({ kind: 'unmasked_hot', x, y, radius: 3 });
  };
  const track = (x: number, y: number, length: number): void => {
    const angle = rng.between(0, Math.PI);
    const p = peak();
    const slope = rng.between(-0.6, 0.6);
    const step = 0.25;
    for (let s = -length / 2; s <= length / 2; s += step) {
      const px = x + s * Math.cos(angle);
      const py = y + s * Math.sin(angle);
      const v = p * step * (1 + (slope * s) / Math.max(length / 2, 1));
      const [ix, iy] = [Math.floor(px), Math.floor(py)];
      const [fx, fy] = [px - ix, py - iy];
      add(ix, iy, v * (1 - fx) * (1 - fy));
      add(ix + 1, iy, v * fx * (1 - fy));
      add(ix, iy + 1, v * (1 - fx) * fy);
      add(ix + 1, iy + 1, v * fx * fy);
    }
    out.push({ kind: 'unmasked_cr', x, y, radius: length / 2 + 1.5 });
  };
  const anywhere = (margin: number): [number, number] => [
    Math.round(rng.between(margin, width - margin)),
    Math.round(rng.between(margin, height - margin)),
  ];
  for (let k = count(extra.hotClustersPerMegapixel); k > 0; k--) {
    const [x, y] = anywhere(5);
    if (clear(x, y)) cluster(x, y);
  }
  for (let k = count(extra.shortTracksPerMegapixel); k > 0; k--) {
    const [x, y] = anywhere(8);
    const length = rng.between(1, 8);
    if (clear(x, y)) track(x, y, length);
  }
  for (let k = count(extra.longTracksPerMegapixel); k > 0; k--) {
    const [x, y] = anywhere(25);
    const length = rng.between(14, 40);
    if (clear(x, y)) track(x, y, length);
  }
  let beside = count(extra.besideStarsPerMegapixel);
  for (const star of stars) {
    if (beside <= 0) break;
    const d = rng.between(2, 8);
    const a = rng.between(0, 2 * Math.PI);
    const x = Math.round(star.x + d * Math.cos(a));
    const y = Math.round(star.y + d * Math.sin(a));
    if (x < 5 || y < 5 || x >= width - 5 || y >= height - 5 || !clear(x, y)) continue;
    beside--;
    if (rng.uniform() < 0.5) cluster(x, y);
    else track(x, y, rng.between(1, 8));
  }
  for (let k = count(extra.nearEdgePerMegapixel); k > 0; k--) {
    const side = rng.int(4);
    const along = Math.round(rng.between(10, (side < 2 ? width : height) - 10));
    const depth = Math.round(rng.between(1, 6));
    const [x, y] = [
      [along, depth],
      [along, height - 1 - depth],
      [depth, along],
      [width - 1 - depth, along],
    ][side];
    if (!clear(x, y)) continue;
    if (rng.uniform() < 0.5) cluster(x, y);
    else track(x, y, rng.between(1, 8));
  }
}

function glowCentre(side: number, along: number, width: number, height: number): [number, number] {
  if (side === 0) return [along, 0];
  if (side === 1) return [along, height - 1];
  if (side === 2) return [0, along];
  return [width - 1, along];
}

function addStamp(
  add: (x: number, y: number, v: number) => void,
  stamp: { size: number; data: Float32Array },
  x: number,
  y: number,
  flux: number,
): void {
  const half = (stamp.size - 1) / 2;
  const cx = Math.round(x);
  const cy = Math.round(y);
  for (let j = 0; j < stamp.size; j++) {
    for (let i = 0; i < stamp.size; i++)
      add(cx - half + i, cy - half + j, flux * stamp.data[j * stamp.size + i]);
  }
}

function addRing(
  add: (x: number, y: number, v: number) => void,
  x: number,
  y: number,
  sigma: number,
  amp: number,
): void {
  const wide = 1.3 * sigma;
  const r = Math.ceil(5 * wide);
  const cx = Math.round(x);
  const cy = Math.round(y);
  for (let j = -r; j <= r; j++) {
    for (let i = -r; i <= r; i++) {
      const d2 = (cx + i - x) ** 2 + (cy + j - y) ** 2;
      const narrow = Math.exp(-d2 / (2 * sigma * sigma)) / (2 * Math.PI * sigma * sigma);
      const broad = Math.exp(-d2 / (2 * wide * wide)) / (2 * Math.PI * wide * wide);
      add(cx + i, cy + j, amp * (narrow - broad));
    }
  }
}
