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
import { estimateBackground, measureMesh } from '../characterize/background.js';
import type { CharacterizeOverrides } from '../characterize/characterize.js';
import { estimateBackgroundAsync, sourceMaskAsync } from '../characterize/background-async.js';
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

/** Bilinear value of a plane at a fractional position (clamped to the plane). */
function bilinear(p: ImageF, x: number, y: number): number {
  const cx = Math.min(p.width - 1.000001, Math.max(0, x));
  const cy = Math.min(p.height - 1.000001, Math.max(0, y));
  const x0 = Math.floor(cx);
  const y0 = Math.floor(cy);
  const fx = cx - x0;
  const fy = cy - y0;
  const r0 = p.row(y0);
  const r1 = p.row(Math.min(p.height - 1, y0 + 1));
  const x1 = Math.min(p.width - 1, x0 + 1);
  return (1 - fy) * ((1 - fx) * r0[x0] + fx * r0[x1]) + fy * ((1 - fx) * r1[x0] + fx * r1[x1]);
}

/**
 * A smooth template-frame map (e.g. its background) on the science grid: sampled every SAMPLE_STEP
 * pixels through the two WCSs (or pixel for pixel without them) and held constant between samples.
 */
export function mapOntoScience(
  map: ImageF,
  width: number,
  height: number,
  scienceWcs: Wcs | null,
  templateWcs: Wcs | null,
): ImageF {
  const out = Plane.zeros(Float32Array, width, height);
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
  // Each sample's value is read once and spread over its block.
  const value = new Float32Array(nx * ny);
  for (let k = 0; k < value.length; k++)
    value[k] = Number.isFinite(t.x[k]) ? bilinear(map, t.x[k], t.y[k]) : Number.NaN;
  for (let y = 0; y < height; y++) {
    const row = out.row(y);
    const j = Math.min(ny - 1, Math.floor(y / SAMPLE_STEP));
    for (let x = 0; x < width; x++)
      row[x] = value[j * nx + Math.min(nx - 1, Math.floor(x / SAMPLE_STEP))];
  }
  return out;
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

/** A background map over its median where usable (the relative response); null if the median is not positive. */
function relativeResponse(background: ImageF, mask: MaskI): ImageF | null {
  const sample: number[] = [];
  const step = Math.max(1, Math.floor(Math.sqrt((background.width * background.height) / 40000)));
  for (let y = 0; y < background.height; y += step) {
    const b = background.row(y);
    const m = mask.row(y);
    for (let x = 0; x < background.width; x += step)
      if (!(m[x] & UNUSABLE) && Number.isFinite(b[x])) sample.push(b[x]);
  }
  const level = median(sample);
  if (!(level > 0)) return null;
  const out = Plane.zeros(Float32Array, background.width, background.height);
  for (let y = 0; y < background.height; y++) {
    const b = background.row(y);
    const o = out.row(y);
    for (let x = 0; x < background.width; x++) o[x] = b[x] / level;
  }
  return out;
}

/** The sky of a characterized exposure (its image plus the background it had subtracted) on a fine mesh: what the response map is read from. */
export function fineSky(
  exposure: Pick<Exposure, 'width' | 'height' | 'image' | 'mask'>,
  background: ImageF,
  meshPx: number,
): ImageF {
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
  return estimateBackground(sky, exclude, { meshSize: meshPx, filterSize: 1 }).map;
}

/** Least-squares plane a + b x + c y of the response ratio rs / rt over pixels clear in both (sampled every 8 px); [1, 0, 0] without any. */
function clearRatioPlane(rs: ImageF, rt: ImageF, clear: number): [number, number, number] {
  const ata = new Float64Array(9);
  const atb = new Float64Array(3);
  let n = 0;
  for (let y = 0; y < rs.height; y += SAMPLE_STEP) {
    const s = rs.row(y);
    const t = rt.row(y);
    for (let x = 0; x < rs.width; x += SAMPLE_STEP) {
      if (!(s[x] >= clear && t[x] >= clear)) continue;
      const row = [1, x, y];
      const r = s[x] / t[x];
      for (let i = 0; i < 3; i++) {
        atb[i] += row[i] * r;
        for (let j = 0; j < 3; j++) ata[i * 3 + j] += row[i] * row[j];
      }
      n++;
    }
  }
  if (n < 10) return [1, 0, 0];
  const c = solveSymmetric(ata, atb);
  return [c[0], c[1], c[2]];
}

/**
 * Masks NO_DATA (in the science mask) the dimmed pixels where the science's and the warped
 * template's relative responses differ (see the module comment); returns the fraction masked.
 * `scienceBackground` is on the science grid, `templateBackground` the template's mapped onto it.
 */
export function maskResponseMismatch(
  science: Exposure,
  scienceBackground: ImageF,
  templateBackground: ImageF,
  config: Partial<IlluminationConfig> = {},
): number {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const rs = relativeResponse(scienceBackground, science.mask);
  const rt = relativeResponse(templateBackground, science.mask);
  if (!rs || !rt) return 0;
  const { width: w, height: h } = science;
  // The two skies' own gradients differ: the ratio is taken relative to a plane fitted where both are clear.
  const plane = clearRatioPlane(rs, rt, cfg.lowResponse);
  const flags = new Int32Array(w * h);
  let any = false;
  for (let y = 0; y < h; y++) {
    const s = rs.row(y);
    const t = rt.row(y);
    for (let x = 0; x < w; x++) {
      const dimmed = Math.min(s[x], t[x]) < cfg.lowResponse;
      if (
        dimmed &&
        Math.abs(s[x] / t[x] / (plane[0] + plane[1] * x + plane[2] * y) - 1) > cfg.responseMismatch
      ) {
        flags[y * w + x] = MaskPlane.NO_DATA;
        any = true;
      }
    }
  }
  if (!any) return 0;
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
      plus[i] = bad ? 0 : io[x];
      minus[i] = -plus[i];
      if (!bad && (i & 63) === 0) sigmas.push(Math.sqrt(vo[x]));
    }
  }
  const sigma = median(sigmas);
  if (!(sigma > 0)) return { applied: false, meshPx, maxCellSigma: 0 };
  const mesh = { meshSize: meshPx, filterSize: 3 };
  // Sources are found on what a first, unmasked pass leaves (the smooth residual itself is no source).
  const first = await estimateBackgroundAsync(image, exclude, mesh, pool);
  for (let i = 0; i < plus.length; i++) {
    plus[i] = exclude[i] ? 0 : plus[i] - first.map.data[i];
    minus[i] = -plus[i];
  }
  const negative = sourceMaskAsync(minus, w, h, sigma, {}, pool);
  negative.catch(() => {}); // awaited after the positive sources
  const positive = detectPeaks(plus, w, h, sigma).sourceMask;
  for (const sourceMask of [positive, await negative])
    for (let i = 0; i < exclude.length; i++) exclude[i] |= sourceMask[i];
  let usable = 0;
  for (let i = 0; i < exclude.length; i++) usable += exclude[i] ? 0 : 1;
  const bg = await estimateBackgroundAsync(image, exclude, mesh, pool);
  // A cell's median over n usable pixels has noise 1.2533 sigma / sqrt(n); the 3x3 median filter is ignored (conservative).
  const perCell = Math.max(1, (usable / (w * h)) * bg.meshSize * bg.meshSize);
  let maxCellSigma = 0;
  for (let k = 0; k < bg.meshSky.length; k++) {
    const noise = (1.2533 * bg.meshSigma[k]) / Math.sqrt(perCell);
    if (noise > 0) maxCellSigma = Math.max(maxCellSigma, Math.abs(bg.meshSky[k]) / noise);
  }
  if (!(maxCellSigma > cfg.residualSigma))
    return { applied: false, meshPx: bg.meshSize, maxCellSigma };
  for (let y = 0; y < h; y++) {
    const io = image.row(y);
    const b = bg.map.row(y);
    const mo = mask.row(y);
    for (let x = 0; x < w; x++) if (!(mo[x] & MaskPlane.NO_DATA)) io[x] -= b[x];
  }
  return { applied: true, meshPx: bg.meshSize, maxCellSigma };
}
