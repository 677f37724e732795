/**
 * The difference image's PSF as stamps on a regular grid of image positions, bilinearly
 * interpolated in between: the form `ap diff` stores (extension PSF, see README.md) and
 * detection reads back with `readDiffPsf`.
 */
import { psfCardNumber, type PsfHeaderLookup } from '../psf/persist.js';
import type { Psf, PsfStamp } from '../psf/types.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';

/** Gaussian-equivalent sigma of a stamp from adaptive (Gaussian-weighted) second moments. */
export function stampSigma(data: ArrayLike<number>, size: number): number {
  const c = (size - 1) / 2;
  let cx = c,
    cy = c,
    sw = 2;
  let sigma2 = 4;
  for (let it = 0; it < 30; it++) {
    let s = 0,
      sx = 0,
      sy = 0,
      sxx = 0,
      syy = 0;
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        const dx = u - cx,
          dy = v - cy;
        const w = data[v * size + u] * Math.exp(-(dx * dx + dy * dy) / (2 * sw * sw));
        s += w;
        sx += w * dx;
        sy += w * dy;
        sxx += w * dx * dx;
        syy += w * dy * dy;
      }
    }
    if (!(s > 0)) break;
    cx += sx / s;
    cy += sy / s;
    const m2 = Math.max(1e-6, 0.5 * (sxx / s + syy / s - (sx / s) ** 2 - (sy / s) ** 2));
    const next = Math.min(size, Math.sqrt(2 * m2));
    sigma2 = 2 * m2;
    if (Math.abs(next - sw) < 1e-6) break;
    sw = next;
  }
  return Math.sqrt(sigma2);
}

export function stampFwhm(data: ArrayLike<number>, size: number): number {
  return FWHM_PER_SIGMA * stampSigma(data, size);
}

function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (Math.abs(x) >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** A centred stamp moved by (dx, dy) pixels (|d| <= 0.5) with Lanczos-3 interpolation, renormalised. */
function shiftStamp(src: Float32Array, size: number, dx: number, dy: number): Float32Array {
  const out = new Float32Array(size * size);
  const wx = [-3, -2, -1, 0, 1, 2, 3].map((k) => lanczos3(k + dx));
  const wy = [-3, -2, -1, 0, 1, 2, 3].map((k) => lanczos3(k + dy));
  let total = 0;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      let acc = 0;
      for (let b = 0; b < 7; b++) {
        const sv = v + b - 3;
        if (sv < 0 || sv >= size) continue;
        for (let a = 0; a < 7; a++) {
          const su = u + a - 3;
          if (su >= 0 && su < size) acc += wy[b] * wx[a] * src[sv * size + su];
        }
      }
      out[v * size + u] = acc;
      total += acc;
    }
  }
  if (total !== 0) for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

export class GridPsf implements Psf {
  constructor(
    /** Grid columns' x positions, increasing (0-based image pixels). */
    readonly xs: number[],
    /** Grid rows' y positions, increasing. */
    readonly ys: number[],
    /** stamps[j * xs.length + i] is the centred PSF at (xs[i], ys[j]), each stampSize^2, unit sum. */
    readonly stamps: Float32Array[],
    readonly stampSize: number,
  ) {
    if (stamps.length !== xs.length * ys.length)
      throw new RangeError(`${stamps.length} stamps for a ${xs.length}x${ys.length} grid`);
  }

  private centred(x: number, y: number): Float32Array {
    const locate = (grid: number[], v: number): [number, number] => {
      if (grid.length === 1 || v <= grid[0]) return [0, 0];
      if (v >= grid[grid.length - 1]) return [grid.length - 1, 0];
      let i = 0;
      while (grid[i + 1] < v) i++;
      return [i, (v - grid[i]) / (grid[i + 1] - grid[i])];
    };
    const [i, fx] = locate(this.xs, x);
    const [j, fy] = locate(this.ys, y);
    const nx = this.xs.length;
    const out = new Float32Array(this.stampSize * this.stampSize);
    const corners: Array<[number, number, number]> = [
      [i, j, (1 - fx) * (1 - fy)],
      [i + 1, j, fx * (1 - fy)],
      [i, j + 1, (1 - fx) * fy],
      [i + 1, j + 1, fx * fy],
    ];
    for (const [ci, cj, w] of corners) {
      if (w === 0) continue;
      const s = this.stamps[cj * nx + ci];
      for (let k = 0; k < out.length; k++) out[k] += w * s[k];
    }
    return out;
  }

  stampAt(x: number, y: number, centered = false): PsfStamp {
    const base = this.centred(x, y);
    if (centered) return { size: this.stampSize, data: base };
    return {
      size: this.stampSize,
      data: shiftStamp(base, this.stampSize, x - Math.round(x), y - Math.round(y)),
    };
  }

  sigmaAt(x: number, y: number): number {
    return stampSigma(this.centred(x, y), this.stampSize);
  }

  fwhmAt(x: number, y: number): number {
    return FWHM_PER_SIGMA * this.sigmaAt(x, y);
  }
}

/** The FITS form of a GridPsf: a mosaic image and its header cards (see README.md). */
export interface DiffPsfHdu {
  width: number;
  height: number;
  /** Mosaic pixels, row-major: stamp (i, j) fills columns i*size.., rows j*size... */
  data: Float32Array;
  cards: Array<[keyword: string, value: string | number]>;
}

export function diffPsfToHdu(psf: GridPsf): DiffPsfHdu {
  const size = psf.stampSize;
  const nx = psf.xs.length,
    ny = psf.ys.length;
  const width = nx * size,
    height = ny * size;
  const data = new Float32Array(width * height);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const s = psf.stamps[j * nx + i];
      for (let v = 0; v < size; v++)
        data.set(s.subarray(v * size, (v + 1) * size), (j * size + v) * width + i * size);
    }
  }
  const cards: Array<[string, string | number]> = [
    ['EXTNAME', 'PSF'],
    ['PSFMODEL', 'GRID'],
    ['PSFSIZE', size],
    ['PSFNX', nx],
    ['PSFNY', ny],
  ];
  psf.xs.forEach((x, i) => cards.push([`PSFX${i}`, x]));
  psf.ys.forEach((y, j) => cards.push([`PSFY${j}`, y]));
  return { width, height, data, cards };
}

/**
 * The difference PSF from the `PSF` extension written by `ap diff`: its header cards
 * (through `get`) and its pixels (row-major, width x height).
 * @example
 *   const psf = readDiffPsf((k) => hdu.header.get(k), hdu.data, hdu.width, hdu.height);
 *   const stamp = psf.stampAt(812.3, 1020.7); // interpolated between grid positions
 */
export function readDiffPsf(
  get: PsfHeaderLookup,
  data: ArrayLike<number>,
  width: number,
  height: number,
): GridPsf {
  const num = (k: string): number => psfCardNumber(get, k);
  const size = num('PSFSIZE'),
    nx = num('PSFNX'),
    ny = num('PSFNY');
  if (width !== nx * size || height !== ny * size)
    throw new Error(`PSF extension: ${width}x${height} pixels for ${nx}x${ny} stamps of ${size}`);
  const xs = Array.from({ length: nx }, (_v, i) => num(`PSFX${i}`));
  const ys = Array.from({ length: ny }, (_v, j) => num(`PSFY${j}`));
  const stamps: Float32Array[] = [];
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      const s = new Float32Array(size * size);
      for (let v = 0; v < size; v++)
        for (let u = 0; u < size; u++)
          s[v * size + u] = data[(j * size + v) * width + i * size + u];
      stamps.push(s);
    }
  }
  return new GridPsf(xs, ys, stamps, size);
}
