/**
 * Illumination that is not flat (issue 15 item 2): vignetting, unflattened response, diffuse light.
 *
 * (1) maskResponseMismatch: each image's relative response is read from its own background map
 * (the sky over its median: sky and sources are dimmed alike where the optics vignette). Where
 * either image is clearly dimmed (below lowResponse) and the two responses at the same sky point
 * differ by more than responseMismatch, stars cannot be matched by a smooth kernel (their flux
 * ratio jumps there), so those pixels are masked NO_DATA, as Rubin's ISR masks vignetted pixels.
 * Regions dimmed alike in both images (the same pointing) are kept: nothing is masked needlessly,
 * and brighter-than-median sky (diffuse light, gradients) is never masked.
 *
 * (2) subtractResidualBackground: what the images' own background models could not follow
 * (diffuse light, an illumination edge sharper than their mesh) is left in the difference as
 * smooth structure; it is measured on a mesh of residualMeshFwhm PSF widths with both positive
 * and negative sources excluded, and subtracted only when some cell deviates by more than
 * residualSigma of its own noise, so that a clean difference is left untouched (ip_diffim's
 * post-subtraction background, made conditional).
 *
 * Both (1) and the finer mesh for structured skies read the illumination from the sky pedestal, so
 * they apply only where there is one: a sky-subtracted image (a calibrated mosaic in MJy/sr, sky
 * ~0) carries no response in its sky, and its "relative response" would be noise over noise.
 */
import { measureMesh, meshSurface, type BackgroundMesh } from '../characterize/background.js';
import type { CharacterizeOverrides } from '../characterize/characterize.js';
import { measureMeshAsync, sourceMaskAsync } from '../characterize/background-async.js';
import { detectPeaks } from '../characterize/detect-peaks.js';
import type { Exposure } from '../image/exposure.js';
import { MaskPlane, UNUSABLE } from '../image/mask.js';
import { Plane, type ImageF, type MaskI } from '../image/plane.js';
import { median } from '../util/stats.js';
import { solveSymmetric } from '../util/linalg.js';
import type { Wcs } from '../wcs/types.js';
import { dilateMask } from '../warp/resample.js';
import type { WorkerPool } from '../util/worker-pool.js';

export interface IlluminationConfig {
  /** The sky pedestal (median sky) must exceed this many pixel noise sigmas for the illumination to be read from it (default 3; see hasSkyPedestal). */
  minSkySigmas: number;
  /** Mesh of the response maps, pixels (default 16: fine enough to follow a vignetting edge; a cell's median of 256 sky pixels is good to ~0.2 %). */
  responseMeshPx: number;
  /** An image whose sky varies by more than this fraction of its median (10th to 90th percentile of 64 px cells) is structured (default 0.2)... */
  structuredSky: number;
  /** ...and is characterized with this background mesh, pixels (default 32), to follow vignetting edges and diffuse light. */
  structuredMeshPx: number;
  /** The response mask is grown by this many pixels (default 16), past the reach of the matching kernel and the decorrelation filter. */
  responseMaskGrowPx: number;
  /** A pixel whose relative response (its background over the median) is below this is dimmed (default 0.8). */
  lowResponse: number;
  /** Mask dimmed pixels where the two images' relative responses differ by more than this fraction (default 0.03). */
  responseMismatch: number;
  /** Mesh of the difference's residual background, PSF FWHMs (default 8; 0 turns the step off). */
  residualMeshFwhm: number;
  /** Smallest residual-background mesh, pixels (default 32). */
  residualMeshMinPx: number;
  /** Subtract the residual background only when a cell deviates by more than this many of its sigmas (default 5). */
  residualSigma: number;
}

export const DEFAULT_ILLUMINATION_CONFIG: IlluminationConfig = {
  minSkySigmas: 3,
  responseMeshPx: 16,
  structuredSky: 0.2,
  structuredMeshPx: 16,
  responseMaskGrowPx: 16,
  lowResponse: 0.8,
  responseMismatch: 0.03,
  residualMeshFwhm: 8,
  residualMeshMinPx: 32,
  residualSigma: 5,
};

/**
 * True when an image's median sky stands `minSkySigmas` pixel noise sigmas above zero: an
 * unsubtracted, photon-limited sky of S electrons does so from S >= minSkySigmas^2.
 */
export function hasSkyPedestal(
  skyLevel: number,
  pixelSigma: number,
  config: Partial<IlluminationConfig> = {},
): boolean {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  return skyLevel > cfg.minSkySigmas * pixelSigma;
}

/** Science pixels between samples of the warped template background (it is smooth on the mesh scale). */
const SAMPLE_STEP = 8;

/**
 * A sky measured on a fine mesh (fineSky): its surface, a bicubic spline through the cells
 * (background.ts meshSurface), is drawn a row at a time where it is read, never as a whole plane.
 */
export interface SkySurface {
  mesh: BackgroundMesh;
  width: number;
  height: number;
}

/** A smooth map on the science grid, constant over blocks of SAMPLE_STEP pixels: block (i, j) is values[j * nx + i]. */
export interface BlockMap {
  values: Float32Array;
  nx: number;
  ny: number;
}

/**
 * Bilinear values of a sky surface at fractional positions (clamped to it; NaN where a position is
 * not finite): the points are taken in order of their row, so each row of the surface is drawn once.
 */
function surfaceAt(sky: SkySurface, xs: Float64Array, ys: Float64Array): Float32Array {
  const { width: w, height: h } = sky;
  const out = new Float32Array(xs.length);
  const rowOf = new Int32Array(xs.length);
  const counts = new Int32Array(h + 1);
  for (let k = 0; k < xs.length; k++) {
    if (!Number.isFinite(xs[k]) || !Number.isFinite(ys[k])) {
      out[k] = Number.NaN;
      rowOf[k] = -1;
      continue;
    }
    rowOf[k] = Math.floor(Math.min(h - 1.000001, Math.max(0, ys[k])));
    counts[rowOf[k] + 1]++;
  }
  for (let y = 0; y < h; y++) counts[y + 1] += counts[y];
  const order = new Int32Array(counts[h]);
  for (let k = 0; k < xs.length; k++) if (rowOf[k] >= 0) order[counts[rowOf[k]]++] = k;
  const draw = meshSurface(sky.mesh, w, h);
  const r0 = new Float32Array(w);
  const r1 = new Float32Array(w);
  let drawn = -1;
  for (const k of order) {
    const y0 = rowOf[k];
    if (y0 !== drawn) {
      draw(y0, r0, 0);
      draw(Math.min(h - 1, y0 + 1), r1, 0);
      drawn = y0;
    }
    const cx = Math.min(w - 1.000001, Math.max(0, xs[k]));
    const cy = Math.min(h - 1.000001, Math.max(0, ys[k]));
    const x0 = Math.floor(cx);
    const fx = cx - x0;
    const fy = cy - y0;
    const x1 = Math.min(w - 1, x0 + 1);
    out[k] = (1 - fy) * ((1 - fx) * r0[x0] + fx * r0[x1]) + fy * ((1 - fx) * r1[x0] + fx * r1[x1]);
  }
  return out;
}

/**
 * A template-frame sky surface on the science grid: sampled every SAMPLE_STEP pixels through the
 * two WCSs (or pixel for pixel without them), bilinearly, and held constant between samples.
 */
export function mapOntoScience(
  sky: SkySurface,
  width: number,
  height: number,
  scienceWcs: Wcs | null,
  templateWcs: Wcs | null,
): BlockMap {
  const nx = Math.ceil(width / SAMPLE_STEP);
  const ny = Math.ceil(height / SAMPLE_STEP);
  const xs = new Float64Array(nx * ny);
  const ys = new Float64Array(nx * ny);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      xs[j * nx + i] = Math.min(width - 1, i * SAMPLE_STEP + SAMPLE_STEP / 2);
      ys[j * nx + i] = Math.min(height - 1, j * SAMPLE_STEP + SAMPLE_STEP / 2);
    }
  const t =
    scienceWcs && templateWcs
      ? templateWcs.skyToPixel(scienceWcs.pixelToSky({ x: xs, y: ys }))
      : { x: xs, y: ys };
  return { values: surfaceAt(sky, t.x, t.y), nx, ny };
}

/** How an image's sky looks on COARSE_MESH_PX cells: the overrides to characterize it with, and whether its response may be dimmed anywhere. */
export interface SkyLook {
  /** A finer background mesh when its sky is structured (see structuredSky), else the overrides as given. */
  overrides: CharacterizeOverrides;
  /**
   * Some cell's sky is below lowResponse + DIMMED_MARGIN of the median (with a sky pedestal):
   * only then can the response masking mask anything, so only then are the fine response maps read.
   */
  dimmed: boolean;
}

/** Cells of the first look at an image's sky, px (sampled every COARSE_STEP px: 256 samples a cell). */
const COARSE_MESH_PX = 64;
const COARSE_STEP = 4;
/**
 * A cell this far above lowResponse still counts as possibly dimmed: a cell's median is its
 * majority's sky, so a dimmed patch wider than a cell pulls some cell below lowResponse, and a
 * vignetting edge's slope the cells beside it below lowResponse + 0.1.
 */
const DIMMED_MARGIN = 0.1;

/**
 * The first look at an image's sky, raw before characterization (`background` null) or as
 * characterized (its image plus the background it had subtracted): a 64 px mesh every 4th pixel.
 */
export function lookAtSky(
  image: ImageF,
  background: ImageF | null,
  overrides: CharacterizeOverrides,
  config: Partial<IlluminationConfig> = {},
): SkyLook {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const sky = background ? skyPlane(image, background) : image;
  const mesh = measureMesh(sky, null, {
    meshSize: COARSE_MESH_PX,
    sampleStep: COARSE_STEP,
    filterSize: 1,
  });
  const cells = Array.from(mesh.meshSky)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (cells.length < 4) return { overrides, dimmed: false };
  const at = (q: number): number => cells[Math.floor(q * (cells.length - 1))];
  const level = at(0.5);
  const pixelSigma = median(Array.from(mesh.meshSigma).filter(Number.isFinite));
  if (!hasSkyPedestal(level, pixelSigma, cfg)) return { overrides, dimmed: false };
  const dimmed = cells[0] / level < cfg.lowResponse + DIMMED_MARGIN;
  if ((at(0.9) - at(0.1)) / level <= cfg.structuredSky) return { overrides, dimmed };
  const meshSize = Math.min(cfg.structuredMeshPx, overrides.background?.meshSize ?? Infinity);
  return { overrides: { ...overrides, background: { ...overrides.background, meshSize } }, dimmed };
}

/** image + background. */
function skyPlane(image: ImageF, background: ImageF): ImageF {
  const out = Plane.zeros(Float32Array, image.width, image.height);
  for (let y = 0; y < image.height; y++) {
    const io = image.row(y);
    const b = background.row(y);
    const o = out.row(y);
    for (let x = 0; x < image.width; x++) o[x] = io[x] + b[x];
  }
  return out;
}

/**
 * The sky of a characterized exposure (its image plus the background it had subtracted) measured
 * on a fine mesh: what the response map is read from.
 */
export function fineSky(
  exposure: Pick<Exposure, 'width' | 'height' | 'image' | 'mask'>,
  background: ImageF,
  meshPx: number,
): SkySurface {
  const { width: w, height: h } = exposure;
  const sky = Plane.zeros(Float32Array, w, h);
  const exclude = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    const io = exposure.image.row(y);
    const b = background.row(y);
    const m = exposure.mask.row(y);
    const o = sky.row(y);
    for (let x = 0; x < w; x++) {
      o[x] = io[x] + b[x];
      exclude[y * w + x] = m[x] & UNUSABLE || !Number.isFinite(o[x]) ? 1 : 0;
    }
  }
  return {
    mesh: measureMesh(sky, exclude, { meshSize: meshPx, filterSize: 1 }),
    width: w,
    height: h,
  };
}

/**
 * Masks NO_DATA (in the science mask) the dimmed pixels where the science's and the warped
 * template's relative responses differ (see the module comment); returns the fraction masked.
 * A relative response is a sky over its median on a sparse lattice of usable science pixels;
 * `scienceSky` is on the science grid, `templateSky` the template's mapped onto it. The science's
 * surface is drawn one row at a time: no image-sized plane is made unless pixels are masked.
 */
export function maskResponseMismatch(
  science: Exposure,
  scienceSky: SkySurface,
  templateSky: BlockMap,
  config: Partial<IlluminationConfig> = {},
): number {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const { width: w, height: h } = science;
  const draw = meshSurface(scienceSky.mesh, w, h);
  const row = new Float32Array(w);
  const blockRow = (y: number): number =>
    Math.min(templateSky.ny - 1, Math.floor(y / SAMPLE_STEP)) * templateSky.nx;
  const templateAt = (y: number, x: number): number =>
    templateSky.values[blockRow(y) + Math.min(templateSky.nx - 1, Math.floor(x / SAMPLE_STEP))];
  const step = Math.max(1, Math.floor(Math.sqrt((w * h) / 40000)));
  const sampleS: number[] = [];
  const sampleT: number[] = [];
  for (let y = 0; y < h; y += step) {
    draw(y, row, 0);
    const m = science.mask.row(y);
    for (let x = 0; x < w; x += step) {
      if (m[x] & UNUSABLE) continue;
      if (Number.isFinite(row[x])) sampleS.push(row[x]);
      if (Number.isFinite(templateAt(y, x))) sampleT.push(templateAt(y, x));
    }
  }
  const levelS = median(sampleS);
  const levelT = median(sampleT);
  if (!(levelS > 0) || !(levelT > 0)) return 0;
  // The relative responses as Float32, as a response plane would hold them.
  const rs = (x: number): number => Math.fround(row[x] / levelS);
  const rt = (y: number, x: number): number => Math.fround(templateAt(y, x) / levelT);
  // The two skies' own gradients differ: the ratio is taken relative to a plane a + b x + c y
  // fitted by least squares where both are clear (sampled every SAMPLE_STEP px).
  const ata = new Float64Array(9);
  const atb = new Float64Array(3);
  let n = 0;
  for (let y = 0; y < h; y += SAMPLE_STEP) {
    draw(y, row, 0);
    for (let x = 0; x < w; x += SAMPLE_STEP) {
      const [s, t] = [rs(x), rt(y, x)];
      if (!(s >= cfg.lowResponse && t >= cfg.lowResponse)) continue;
      const terms = [1, x, y];
      for (let i = 0; i < 3; i++) {
        atb[i] += terms[i] * (s / t);
        for (let j = 0; j < 3; j++) ata[i * 3 + j] += terms[i] * terms[j];
      }
      n++;
    }
  }
  const plane = n < 10 ? [1, 0, 0] : solveSymmetric(ata, atb);
  let flags: Int32Array | null = null;
  for (let y = 0; y < h; y++) {
    draw(y, row, 0);
    for (let i = 0; i < templateSky.nx; i++) {
      const t = rt(y, i * SAMPLE_STEP);
      for (let x = i * SAMPLE_STEP; x < Math.min(w, (i + 1) * SAMPLE_STEP); x++) {
        const s = rs(x);
        if (
          Math.min(s, t) < cfg.lowResponse &&
          Math.abs(s / t / (plane[0] + plane[1] * x + plane[2] * y) - 1) > cfg.responseMismatch
        )
          (flags ??= new Int32Array(w * h))[y * w + x] = MaskPlane.NO_DATA;
      }
    }
  }
  if (!flags) return 0;
  const grown =
    cfg.responseMaskGrowPx > 0
      ? dilateMask(flags, w, h, Math.round(cfg.responseMaskGrowPx), new Int32Array(w * h))
      : flags;
  let masked = 0;
  for (let y = 0; y < h; y++) {
    const m = science.mask.row(y);
    for (let x = 0; x < w; x++) {
      if (grown[y * w + x]) masked++;
      m[x] |= grown[y * w + x];
    }
  }
  return masked / (w * h);
}

export interface ResidualBackground {
  /** True when the residual background was significant and subtracted. */
  applied: boolean;
  /** Mesh side used, pixels. */
  meshPx: number;
  /** Largest |cell| over its noise. */
  maxCellSigma: number;
}

/**
 * Measures the difference's smooth residual background and subtracts it from `image` when
 * significant (see the module comment). Sources of either sign and unusable pixels are excluded.
 * With `pool`, its workers share the mesh and find the negative sources.
 */
export async function subtractResidualBackground(
  image: ImageF,
  mask: MaskI,
  variance: ImageF,
  fwhmPx: number,
  config: Partial<IlluminationConfig> = {},
  pool: WorkerPool | null = null,
): Promise<ResidualBackground> {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const meshPx = Math.max(cfg.residualMeshMinPx, Math.round(cfg.residualMeshFwhm * fwhmPx));
  if (!(cfg.residualMeshFwhm > 0)) return { applied: false, meshPx: 0, maxCellSigma: 0 };
  const { width: w, height: h } = image;
  const exclude = new Uint8Array(new SharedArrayBuffer(w * h));
  const plus = new Float32Array(w * h);
  const minus = new Float32Array(new SharedArrayBuffer(4 * w * h));
  const sigmas: number[] = [];
  for (let y = 0; y < h; y++) {
    const io = image.row(y);
    const mo = mask.row(y);
    const vo = variance.row(y);
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const bad = (mo[x] & UNUSABLE) !== 0 || !Number.isFinite(io[x]) || !(vo[x] > 0);
      exclude[i] = bad ? 1 : 0;
      if (!bad && (i & 63) === 0) sigmas.push(Math.sqrt(vo[x]));
    }
  }
  const sigma = median(sigmas);
  if (!(sigma > 0)) return { applied: false, meshPx, maxCellSigma: 0 };
  const mesh = { meshSize: meshPx, filterSize: 3 };
  // Sources are found on what a first, unmasked pass leaves (the smooth residual itself is no source).
  // The passes' surfaces are drawn a row at a time (background.ts meshSurface), the second only if subtracted.
  const surfaceRow = new Float32Array(w);
  const firstRow = meshSurface(await measureMeshAsync(image, exclude, mesh, pool), w, h);
  for (let y = 0; y < h; y++) {
    const io = image.row(y);
    firstRow(y, surfaceRow, 0);
    for (let x = 0, i = y * w; x < w; x++, i++) {
      plus[i] = exclude[i] ? 0 : io[x] - surfaceRow[x];
      minus[i] = -plus[i];
    }
  }
  const negative = sourceMaskAsync(minus, w, h, sigma, {}, pool);
  negative.catch(() => {}); // awaited after the positive sources
  const positive = detectPeaks(plus, w, h, sigma).sourceMask;
  const negativeMask = await negative;
  let usable = 0;
  for (let i = 0; i < exclude.length; i++) {
    exclude[i] |= positive[i] | negativeMask[i];
    usable += exclude[i] ? 0 : 1;
  }
  const bg = await measureMeshAsync(image, exclude, mesh, pool);
  // A cell's median over n usable pixels has noise 1.2533 sigma / sqrt(n); the 3x3 median filter is ignored (conservative).
  const perCell = Math.max(1, (usable / (w * h)) * bg.meshSize * bg.meshSize);
  let maxCellSigma = 0;
  for (let k = 0; k < bg.meshSky.length; k++) {
    const noise = (1.2533 * bg.meshSigma[k]) / Math.sqrt(perCell);
    if (noise > 0) maxCellSigma = Math.max(maxCellSigma, Math.abs(bg.meshSky[k]) / noise);
  }
  if (!(maxCellSigma > cfg.residualSigma))
    return { applied: false, meshPx: bg.meshSize, maxCellSigma };
  const bgRow = meshSurface(bg, w, h);
  for (let y = 0; y < h; y++) {
    const io = image.row(y);
    const mo = mask.row(y);
    bgRow(y, surfaceRow, 0);
    for (let x = 0; x < w; x++) if (!(mo[x] & MaskPlane.NO_DATA)) io[x] -= surfaceRow[x];
  }
  return { applied: true, meshPx: bg.meshSize, maxCellSigma };
}
