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
}

export const DEFAULT_ARTIFACT_CONFIG: ArtifactConfig = {
  unmaskedCrPerMegapixel: 25,
  unmaskedHotPerMegapixel: 15,
  dipolesPerMegapixel: 25,
  psfResidualsPerMegapixel: 15,
  edgeGlowsPerImage: 3,
  clearOfRealPx: 15,
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
  return out;
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
