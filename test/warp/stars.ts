// Test helpers: render Gaussian star fields through a WCS, measure centroids and fluxes, a Gaussian PSF.
import { Exposure } from '../../shared/image/exposure.js';
import type { Psf, PsfStamp } from '../../shared/psf/types.js';
import type { Wcs } from '../../shared/wcs/types.js';

export interface Star {
  ra: number;
  dec: number;
  flux: number;
}

/** Stars on a grid jittered by +-spacing/8, `spacing` from the edges of a size x size image, at the sky positions its WCS gives. */
export function starField(wcs: Wcs, size: number, spacing: number, seed = 1): Star[] {
  let s = seed;
  const uniform = () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = spacing; y <= size - spacing; y += spacing) {
    for (let x = spacing; x <= size - spacing; x += spacing) {
      xs.push(x + (uniform() - 0.5) * spacing * 0.25);
      ys.push(y + (uniform() - 0.5) * spacing * 0.25);
    }
  }
  const sky = wcs.pixelToSky({ x: Float64Array.from(xs), y: Float64Array.from(ys) });
  return xs.map((_, i) => ({ ra: sky.ra[i], dec: sky.dec[i], flux: 1000 + 9000 * uniform() }));
}

/** An exposure with circular Gaussian stars (sigma in pixels) at the stars' positions in its WCS. */
export function renderStars(wcs: Wcs, size: number, stars: Star[], sigma: number): Exposure {
  const exp = Exposure.blank(size, size);
  exp.wcs = wcs;
  exp.variance.fill(1);
  const pix = wcs.skyToPixel({
    ra: Float64Array.from(stars.map((s) => s.ra)),
    dec: Float64Array.from(stars.map((s) => s.dec)),
  });
  const r = Math.ceil(6 * sigma);
  stars.forEach((star, k) => {
    const cx = pix.x[k];
    const cy = pix.y[k];
    const norm = star.flux / (2 * Math.PI * sigma * sigma);
    for (
      let y = Math.max(0, Math.round(cy) - r);
      y <= Math.min(size - 1, Math.round(cy) + r);
      y++
    ) {
      for (
        let x = Math.max(0, Math.round(cx) - r);
        x <= Math.min(size - 1, Math.round(cx) + r);
        x++
      ) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        exp.image.data[y * size + x] += norm * Math.exp(-d2 / (2 * sigma * sigma));
      }
    }
  });
  return exp;
}

/** First moments and sum inside a square of half-width `radius` around (x, y). */
export function measure(
  exp: Exposure,
  x: number,
  y: number,
  radius: number,
): { x: number; y: number; flux: number } {
  let sum = 0;
  let sx = 0;
  let sy = 0;
  for (let yy = Math.round(y) - radius; yy <= Math.round(y) + radius; yy++) {
    for (let xx = Math.round(x) - radius; xx <= Math.round(x) + radius; xx++) {
      const v = exp.image.get(xx, yy);
      sum += v;
      sx += v * xx;
      sy += v * yy;
    }
  }
  return { x: sx / sum, y: sy / sum, flux: sum };
}

/** An elliptical Gaussian PSF: second moments sxx, syy, sxy in pixels^2, the same everywhere. */
export class GaussianPsf implements Psf {
  constructor(
    readonly sxx: number,
    readonly syy: number,
    readonly sxy: number,
    readonly stampSize = 25,
  ) {}

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const size = this.stampSize;
    const half = (size - 1) / 2;
    const px = centered ? 0 : x - Math.round(x);
    const py = centered ? 0 : y - Math.round(y);
    const det = this.sxx * this.syy - this.sxy * this.sxy;
    const data = new Float32Array(size * size);
    let sum = 0;
    for (let row = 0; row < size; row++) {
      for (let col = 0; col < size; col++) {
        const dx = col - half - px;
        const dy = row - half - py;
        const q = (this.syy * dx * dx - 2 * this.sxy * dx * dy + this.sxx * dy * dy) / det;
        data[row * size + col] = Math.exp(-q / 2);
        sum += data[row * size + col];
      }
    }
    for (let i = 0; i < data.length; i++) data[i] /= sum;
    return { size, data };
  }

  sigmaAt(): number {
    return Math.sqrt((this.sxx + this.syy) / 2);
  }

  fwhmAt(): number {
    return 2 * Math.sqrt(2 * Math.log(2)) * this.sigmaAt();
  }
}

/** Second moments (xx, yy, xy) of a stamp about its centre. */
export function stampMoments(stamp: PsfStamp): [number, number, number] {
  const half = (stamp.size - 1) / 2;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let row = 0; row < stamp.size; row++) {
    for (let col = 0; col < stamp.size; col++) {
      const w = stamp.data[row * stamp.size + col];
      xx += w * (col - half) ** 2;
      yy += w * (row - half) ** 2;
      xy += w * (col - half) * (row - half);
    }
  }
  return [xx, yy, xy];
}
