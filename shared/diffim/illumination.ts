/**
 * Illumination that is not flat (issue 15 item 2): vignetting, unflattened response, diffuse light.
 *
 * (1) matchResponse: the response is modelled, not thresholded. Each image's relative response is
 * read from its own sky on a fine mesh (relativeResponse: sky and sources are dimmed alike where
 * the optics vignette), relative to a plane fitted over its clear field (so a sky gradient is not
 * taken for response) and capped at 1 (brighter-than-plane sky is diffuse light, not response).
 * With the template's mapped onto the science grid, the warped template is multiplied by the
 * ratio rs / rt (its variance by the square): a star then has the same flux ratio to the science
 * everywhere, also along a fall-off edge seen at two pointings, and one smooth kernel matches it
 * (flat-fielding as ISR does, here relative to the science so the difference keeps its units).
 * Only where either response is too low to use (below minResponse) are pixels masked NO_DATA.
 * A vignetted field of view is read as a radial response instead (readIllumination,
 * radial-response.ts), which also becomes the image's background.
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
import {
  estimateBackground,
  finishMesh,
  measureMesh,
  meshCells,
  meshSurface,
} from '../characterize/background.js';
import type { CharacterizeOverrides, CharacterizeResult } from '../characterize/characterize.js';
import { findCosmicRays, type CosmicRayConfig } from '../characterize/cosmic-rays.js';
import { measureCellsAsync } from '../characterize/background-async.js';
import { eitherSignSourceMaskAsync } from '../characterize/source-mask-async.js';
import { fitRadialSky, radialMaps, type RadialSky } from './radial-response.js';
import { addTrendRow, fitCellTrend, trendAt, usableCentroids } from './residual-trend.js';
import type { Exposure } from '../image/exposure.js';
import { MaskPlane, UNUSABLE } from '../image/mask.js';
import { Plane, type ImageF, type MaskI } from '../image/plane.js';
import { median } from '../util/stats.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';
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
  /** The clear field, over which each image's sky plane is fitted, is the sky within 1 +- (1 - lowResponse) of that plane (default 0.8). */
  lowResponse: number;
  /** Pixels where either image's relative response is below this are too dim to use and masked NO_DATA (default 0.1). */
  minResponse: number;
  /** A vignetted frame is modelled as a radial response when it fits the fine sky to this rms fraction (default 0.05; 0: never, always the mesh). */
  radialTolerance: number;
  /**
   * Mesh of the difference's residual background, PSF FWHMs (default 4; 0 turns the step off). 8 left 0.3-0.8 sigma
   * of curved sky under the independent pairs' broad PSFs (shared/diffim/README.md).
   */
  residualMeshFwhm: number;
  /** Smallest residual-background mesh, pixels (default 32). */
  residualMeshMinPx: number;
  /** Subtract the residual background only when a cell deviates by more than this many of its sigmas (default 5)... */
  residualSigma: number;
  /**
   * ...a cell's sigmas scaled to cells of this many PSF FWHMs (default 8; the mesh's side at least), since a cell's
   * median noise goes as 1 / its side: a finer mesh does not change which differences are corrected.
   */
  residualSignificanceFwhm: number;
  /**
   * Order of the polynomial trend fitted to the residual mesh's cells (default 2; residual-trend.ts): the mesh's median
   * filter and its fill of empty cells act on the deviations from it, so a curved sky is followed to the frame's edges.
   */
  residualTrendOrder: number;
}

export const DEFAULT_ILLUMINATION_CONFIG: IlluminationConfig = {
  minSkySigmas: 3,
  responseMeshPx: 16,
  structuredSky: 0.2,
  structuredMeshPx: 16,
  responseMaskGrowPx: 16,
  lowResponse: 0.8,
  minResponse: 0.1,
  radialTolerance: 0.05,
  residualMeshFwhm: 4,
  residualMeshMinPx: 32,
  residualSigma: 5,
  residualSignificanceFwhm: 8,
  residualTrendOrder: 2,
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
 * A smooth template-frame map (e.g. its response) on the science grid: sampled every SAMPLE_STEP
 * pixels through the two WCSs (or pixel for pixel without them) and interpolated bilinearly
 * between samples (a block held constant would step by ~7 % across a steep fall-off edge); next
 * to a sample off the template (NaN) the nearest sample is taken.
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
  const at = (i: number): number => i * SAMPLE_STEP + SAMPLE_STEP / 2;
  const xs = new Float64Array(nx * ny);
  const ys = new Float64Array(nx * ny);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      xs[j * nx + i] = at(i);
      ys[j * nx + i] = at(j);
    }
  const t =
    scienceWcs && templateWcs
      ? templateWcs.skyToPixel(scienceWcs.pixelToSky({ x: xs, y: ys }))
      : { x: xs, y: ys };
  const value = new Float32Array(nx * ny);
  for (let k = 0; k < value.length; k++)
    value[k] = Number.isFinite(t.x[k]) ? bilinear(map, t.x[k], t.y[k]) : Number.NaN;
  // Column weights once: sample index below each x and the fraction towards the next.
  const i0 = new Int32Array(width);
  const fx = new Float32Array(width);
  for (let x = 0; x < width; x++) {
    const u = Math.min(nx - 1, Math.max(0, (x - SAMPLE_STEP / 2) / SAMPLE_STEP));
    i0[x] = Math.min(nx - 2, Math.floor(u));
    fx[x] = nx > 1 ? u - i0[x] : 0;
  }
  for (let y = 0; y < height; y++) {
    const v = Math.min(ny - 1, Math.max(0, (y - SAMPLE_STEP / 2) / SAMPLE_STEP));
    const j0 = Math.max(0, Math.min(ny - 2, Math.floor(v)));
    const fy = ny > 1 ? v - j0 : 0;
    const j1 = Math.min(ny - 1, j0 + 1);
    const row = out.row(y);
    for (let x = 0; x < width; x++) {
      const a = Math.max(0, i0[x]);
      const b = Math.min(nx - 1, a + 1);
      const v00 = value[j0 * nx + a];
      const v01 = value[j0 * nx + b];
      const v10 = value[j1 * nx + a];
      const v11 = value[j1 * nx + b];
      const r =
        (1 - fy) * ((1 - fx[x]) * v00 + fx[x] * v01) + fy * ((1 - fx[x]) * v10 + fx[x] * v11);
      row[x] = Number.isFinite(r) ? r : value[(fy < 0.5 ? j0 : j1) * nx + (fx[x] < 0.5 ? a : b)];
    }
  }
  return out;
}

/**
 * Whether an image's sky (raw, before characterization) is structured: its sky pedestal is read
 * (hasSkyPedestal) and its 64 px cells spread (10th to 90th percentile) by more than structuredSky
 * of their median, as vignetting or diffuse light make it; a default sky gradient does not.
 */
export function isStructuredSky(
  exposure: Pick<Exposure, 'image'>,
  config: Partial<IlluminationConfig> = {},
): boolean {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const mesh = measureMesh(exposure.image, null, { meshSize: 64, sampleStep: 4, filterSize: 1 });
  const cells = Array.from(mesh.meshSky)
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (cells.length < 4) return false;
  const at = (q: number): number => cells[Math.floor(q * (cells.length - 1))];
  const level = at(0.5);
  const pixelSigma = median(Array.from(mesh.meshSigma).filter(Number.isFinite));
  return hasSkyPedestal(level, pixelSigma, cfg) && (at(0.9) - at(0.1)) / level > cfg.structuredSky;
}

/**
 * Characterization overrides of a structured sky: a structuredMeshPx background mesh; else as given.
 */
export function characterizeOverridesFor(
  structured: boolean,
  overrides: CharacterizeOverrides,
  config: Partial<IlluminationConfig> = {},
): CharacterizeOverrides {
  if (!structured) return overrides;
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  return {
    ...overrides,
    background: {
      ...overrides.background,
      meshSize: Math.min(cfg.structuredMeshPx, overrides.background?.meshSize ?? Infinity),
    },
  };
}

/**
 * Replaces a characterized exposure's subtracted background by its fine sky (fineSky): on a
 * structured sky the characterization's source mask, found on a first coarse pass, can swallow a
 * whole fall-off edge and leave its cells filled from their neighbours (a step of hundreds of ADU
 * along the edge), where the fine sky, clipped cell by cell, follows the edge. `background` is
 * updated to the sky, so image plus background stays the raw image. What the characterization
 * derived from its background follows: a variance plane from the CCD equation gets the new sky
 * term, and the cosmic-ray test runs again on the new residual (the test compares a pixel with
 * its neighbours' mean: a sky offset B lifts that mean by B and the scaled pixel by only ~B/3, so
 * charge on the edge went unflagged and became false detections).
 */
export function resubtractFineSky(
  exposure: Pick<Exposure, 'width' | 'height' | 'image' | 'variance' | 'mask'>,
  characterization: Pick<CharacterizeResult, 'background' | 'variance' | 'psf'>,
  sky: ImageF,
  cosmicRays: Partial<CosmicRayConfig> = {},
): void {
  const background = characterization.background.map;
  const { origin, scale, gain } = characterization.variance;
  // The sky term of a CCD-equation plane per ADU of sky (computeVariance); a given plane is kept.
  const skyVariance = origin === 'ccd' ? scale / gain : 0;
  for (let y = 0; y < exposure.height; y++) {
    const io = exposure.image.row(y);
    const vo = exposure.variance.row(y);
    const b = background.row(y);
    const s = sky.row(y);
    for (let x = 0; x < exposure.width; x++) {
      io[x] += b[x] - s[x];
      vo[x] += skyVariance * (Math.max(s[x], 0) - Math.max(b[x], 0));
      b[x] = s[x];
    }
  }
  const contiguous = <T extends ImageF>(p: T): Float32Array =>
    p.contiguous ? p.data : p.clone().data;
  const sigma2 = (characterization.psf.fwhmPx / FWHM_PER_SIGMA) ** 2;
  findCosmicRays(
    contiguous(exposure.image),
    contiguous(exposure.variance),
    exposure.mask,
    () => [sigma2, sigma2, 0],
    cosmicRays,
  );
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

/** Sky samples (every SAMPLE_STEP px, usable and finite) as x, y, value. */
function skySamples(sky: ImageF, mask: MaskI | null): { x: number[]; y: number[]; v: number[] } {
  const out = { x: [] as number[], y: [] as number[], v: [] as number[] };
  for (let y = SAMPLE_STEP / 2; y < sky.height; y += SAMPLE_STEP) {
    const s = sky.row(y);
    const m = mask?.row(y);
    for (let x = SAMPLE_STEP / 2; x < sky.width; x += SAMPLE_STEP)
      if (!(m && m[x] & UNUSABLE) && Number.isFinite(s[x])) {
        out.x.push(x);
        out.y.push(y);
        out.v.push(s[x]);
      }
  }
  return out;
}

/** Least-squares plane a + b x + c y through the samples `use` selects; null with fewer than 10. */
function fitPlane(
  samples: { x: number[]; y: number[]; v: number[] },
  use: (k: number) => boolean,
): [number, number, number] | null {
  const ata = new Float64Array(9);
  const atb = new Float64Array(3);
  let n = 0;
  for (let k = 0; k < samples.v.length; k++) {
    if (!use(k)) continue;
    const row = [1, samples.x[k], samples.y[k]];
    for (let i = 0; i < 3; i++) {
      atb[i] += row[i] * samples.v[k];
      for (let j = 0; j < 3; j++) ata[i * 3 + j] += row[i] * row[j];
    }
    n++;
  }
  if (n < 10) return null;
  const c = solveSymmetric(ata, atb);
  return c.every(Number.isFinite) ? [c[0], c[1], c[2]] : null;
}

/** Refits of the clear-field plane, each keeping the samples within the clear band of the last. */
const CLEAR_PLANE_ITERATIONS = 3;
/** Quantile of the sky samples the first clear band is centred on. */
const CLEAR_START_QUANTILE = 0.8;

/**
 * The clear-field sky plane a + b x + c y of a fine sky map: fitted to the samples within
 * 1 +- (1 - lowResponse) of the last fit, refitted from the samples' 80th percentile; null without
 * a positive level.
 */
export function clearPlane(
  sky: ImageF,
  mask: MaskI | null,
  config: Partial<IlluminationConfig> = {},
): [number, number, number] | null {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const samples = skySamples(sky, mask);
  // Started from a high quantile: the clear field is the brightest sky, and need not be most of the frame.
  const sorted = Float64Array.from(samples.v).sort();
  const level = sorted[Math.floor(CLEAR_START_QUANTILE * (sorted.length - 1))];
  if (!(level > 0)) return null;
  const band = 1 - cfg.lowResponse;
  let plane: [number, number, number] = [level, 0, 0];
  for (let it = 0; it < CLEAR_PLANE_ITERATIONS; it++) {
    const [a, b, c] = plane;
    const next = fitPlane(
      samples,
      (k) => Math.abs(samples.v[k] / (a + b * samples.x[k] + c * samples.y[k]) - 1) < band,
    );
    if (!next) break;
    plane = next;
  }
  return plane;
}

/**
 * An image's relative response from its fine sky map (see the module comment): the sky over its
 * clear-field plane, capped at 1, since vignetting only dims and light above the plane is diffuse
 * light on the sky, not response. Null when the clear field has no positive level.
 */
export function relativeResponse(
  sky: ImageF,
  mask: MaskI | null,
  config: Partial<IlluminationConfig> = {},
): ImageF | null {
  const plane = clearPlane(sky, mask, config);
  if (!plane) return null;
  const [a, b, c] = plane;
  const out = Plane.zeros(Float32Array, sky.width, sky.height);
  for (let y = 0; y < sky.height; y++) {
    const s = sky.row(y);
    const o = out.row(y);
    for (let x = 0; x < sky.width; x++) {
      const p = a + b * x + c * y;
      o[x] = p > 0 ? Math.min(1, s[x] / p) : Number.NaN;
    }
  }
  return out;
}

export interface ImageIllumination {
  /** Relative response on the image's grid (1 in the clear field). */
  response: ImageF;
  /** The radial model of a vignetted field (radial-response.ts), or null: the response read from the fine mesh. */
  radial: RadialSky | null;
  /** The model's sky R(r) P(x, y) when radial (what the image's background becomes), else null. */
  sky: ImageF | null;
}

/**
 * An image's illumination from its characterization: the radial model of a vignetted field of
 * view when it holds (radial-response.ts), else the response read from the fine sky mesh. `fine`
 * is its fineSky; null when its sky has no positive level.
 */
export function readIllumination(
  exposure: Pick<Exposure, 'width' | 'height' | 'image' | 'mask'>,
  background: ImageF,
  fine: ImageF,
  config: Partial<IlluminationConfig> = {},
): ImageIllumination | null {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const plane = clearPlane(fine, exposure.mask, cfg);
  if (!plane) return null;
  const { width: w, height: h } = exposure;
  const raw = Plane.zeros(Float32Array, w, h);
  for (let y = 0; y < h; y++) {
    const io = exposure.image.row(y);
    const b = background.row(y);
    const o = raw.row(y);
    for (let x = 0; x < w; x++) o[x] = io[x] + b[x];
  }
  const radial =
    cfg.radialTolerance > 0
      ? fitRadialSky(raw, exposure.mask, fine, plane, cfg.lowResponse, cfg.radialTolerance)
      : null;
  if (radial) return { ...radialMaps(radial, w, h, plane), radial };
  const response = relativeResponse(fine, exposure.mask, cfg);
  return response && { response, radial: null, sky: null };
}

export interface ResponseMatch {
  /** Fraction of the science masked NO_DATA because either response is below minResponse. */
  maskedFraction: number;
  /** Extreme factors the warped template was scaled by (science response over the template's). */
  minFactor: number;
  maxFactor: number;
}

/**
 * Brings the warped template onto the science's illumination (see the module comment): its image
 * is multiplied by rs / rt and its variance by the square, so that every star has the same flux
 * ratio to the science and a smooth kernel matches it; where either response is below
 * minResponse (too dim to use) the science is masked NO_DATA, grown by responseMaskGrowPx.
 * `scienceResponse` and `templateResponse` are relative responses (relativeResponse) on the
 * science grid, the template's mapped onto it.
 */
export function matchResponse(
  science: Exposure,
  warpedTemplate: Exposure,
  scienceResponse: ImageF,
  templateResponse: ImageF,
  config: Partial<IlluminationConfig> = {},
): ResponseMatch {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const { width: w, height: h } = science;
  const flags = new Int32Array(w * h);
  let any = false;
  let minFactor = 1;
  let maxFactor = 1;
  for (let y = 0; y < h; y++) {
    const s = scienceResponse.row(y);
    const t = templateResponse.row(y);
    const io = warpedTemplate.image.row(y);
    const vo = warpedTemplate.variance.row(y);
    for (let x = 0; x < w; x++) {
      if (!(Math.min(s[x], t[x]) >= cfg.minResponse)) {
        // Too dim to use (or unread: off the template): masked, left as it is.
        if (Number.isFinite(s[x]) && Number.isFinite(t[x])) {
          flags[y * w + x] = MaskPlane.NO_DATA;
          any = true;
        }
        continue;
      }
      const f = s[x] / t[x];
      io[x] *= f;
      vo[x] *= f * f;
      minFactor = Math.min(minFactor, f);
      maxFactor = Math.max(maxFactor, f);
    }
  }
  if (!any) return { maskedFraction: 0, minFactor, maxFactor };
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
  return { maskedFraction: masked / (w * h), minFactor, maxFactor };
}

export interface ResidualBackground {
  /** True when the residual background was significant and subtracted. */
  applied: boolean;
  /** Mesh side used, pixels. */
  meshPx: number;
  /** Largest |cell| over its noise. */
  maxCellSigma: number;
}

/** The pixels the residual background may use: `exclude` (1 where not) and the pixel noise sigma. */
export interface ResidualSky {
  exclude: Uint8Array;
  sigma: number;
}

/** Fraction of the usable pixels (1 in SIGMA_SAMPLE, by flat index) whose sigma enters the noise estimate. */
const SIGMA_SAMPLE = 64;

/**
 * Marks in `exclude` (flat, the image's size) the pixels of rows [y0, y1) the residual background
 * may not use (unusable bits, non-finite, no variance), and appends to `sigmas` the noise sigma of
 * the sampled usable ones, in order. With `zeroNoData` (the output's no-data pass, output.ts), each
 * pixel is first cleaned as the difference is written: non-finite and NO_DATA image pixels set to 0
 * (and flagged NO_DATA), a non-finite variance to 0. Returns the non-finite image pixels zeroed.
 */
export function excludeRows(
  image: ImageF,
  mask: MaskI,
  variance: ImageF,
  exclude: Uint8Array,
  y0: number,
  y1: number,
  sigmas: number[],
  zeroNoData = false,
): number {
  const w = image.width;
  let nonFinite = 0;
  for (let y = y0; y < y1; y++) {
    const io = image.row(y);
    const mo = mask.row(y);
    const vo = variance.row(y);
    for (let x = 0, i = y * w; x < w; x++, i++) {
      let m = mo[x];
      let v = vo[x];
      // p - p is 0 exactly when p is finite.
      let finite = io[x] - io[x] === 0;
      if (zeroNoData) {
        if (!finite) {
          nonFinite++;
          m |= MaskPlane.NO_DATA;
          mo[x] = m;
        }
        if (m & MaskPlane.NO_DATA) io[x] = 0;
        if (v - v !== 0) vo[x] = v = 0;
        finite = true;
      }
      const bad = (m & UNUSABLE) !== 0 || !finite || !(v > 0);
      exclude[i] = bad ? 1 : 0;
      if (!bad && i % SIGMA_SAMPLE === 0) sigmas.push(Math.sqrt(v));
    }
  }
  return nonFinite;
}

/** ResidualSky of the whole image (excludeRows over every row). */
function residualSky(image: ImageF, mask: MaskI, variance: ImageF): ResidualSky {
  const exclude = new Uint8Array(new SharedArrayBuffer(image.width * image.height));
  const sigmas: number[] = [];
  excludeRows(image, mask, variance, exclude, 0, image.height, sigmas);
  return { exclude, sigma: median(sigmas) };
}

/** What the caller of subtractResidualBackground may give it. */
export interface ResidualOptions {
  /** The usable pixels, when already at hand (else measured here). */
  sky?: ResidualSky;
  /**
   * Called just before the source mask, whose smoothing this thread and the pool's workers claim
   * band by band: work posted to the pool then is shared out with it (called once, unless the
   * step returns before).
   */
  beforeSources?: () => void;
}

/**
 * Measures the difference's smooth residual background and subtracts it from `image` when
 * significant (see the module comment). Sources of either sign and unusable pixels are excluded.
 * With `pool`, its workers share the mesh passes.
 */
export async function subtractResidualBackground(
  image: ImageF,
  mask: MaskI,
  variance: ImageF,
  fwhmPx: number,
  config: Partial<IlluminationConfig> = {},
  pool: WorkerPool | null = null,
  options: ResidualOptions = {},
): Promise<ResidualBackground> {
  const cfg = { ...DEFAULT_ILLUMINATION_CONFIG, ...config };
  const meshPx = Math.max(cfg.residualMeshMinPx, Math.round(cfg.residualMeshFwhm * fwhmPx));
  if (!(cfg.residualMeshFwhm > 0)) return { applied: false, meshPx: 0, maxCellSigma: 0 };
  const { width: w, height: h } = image;
  const { exclude, sigma } = options.sky ?? residualSky(image, mask, variance);
  if (!(sigma > 0)) return { applied: false, meshPx, maxCellSigma: 0 };
  const mesh = { meshSize: meshPx, filterSize: 3 };
  // Sources are found on what a first, unmasked pass leaves (the smooth residual itself is no source).
  // Surfaces are drawn row by row into `surfaceRow` (no full-image map).
  const surfaceRow = new Float32Array(w);
  const cells = meshCells(image, mesh);
  await measureCellsAsync(image, exclude, cells, pool);
  // The second pass measures again only the cells where sources were found: the others' pixels are the same.
  const measured = { sky: cells.sky.slice(), sig: cells.sig.slice() };
  options.beforeSources?.();
  // The residual is made row by row as the detection sums its blocks (no full-image plane), its bands shared with the pool.
  const sources = await eitherSignSourceMaskAsync(
    image,
    exclude,
    finishMesh(cells),
    sigma,
    {},
    pool,
  );
  const { nx, ny } = cells;
  const cellOfX = new Int32Array(w);
  for (let cx = 0; cx < nx; cx++)
    cellOfX.fill(cx, Math.floor((cx * w) / nx), Math.floor(((cx + 1) * w) / nx));
  const changed = new Uint8Array(nx * ny);
  // Usable pixels per column and per row: the mesh's nodes are placed at their mean position in each cell span.
  const columnUsable = new Int32Array(w);
  const rowUsable = new Int32Array(h);
  let usable = 0;
  for (let cy = 0; cy < ny; cy++) {
    for (let y = Math.floor((cy * h) / ny); y < Math.floor(((cy + 1) * h) / ny); y++) {
      const before = usable;
      for (let x = 0, i = y * w; x < w; x++, i++) {
        if (exclude[i]) continue;
        if (sources[i]) {
          exclude[i] = 1;
          changed[cy * nx + cellOfX[x]] = 1;
        } else {
          usable++;
          columnUsable[x]++;
        }
      }
      rowUsable[y] = usable - before;
    }
  }
  const again = { ...cells, ...measured };
  await measureCellsAsync(image, exclude, again, pool, changed);
  const xs = usableCentroids(columnUsable, nx, w);
  const ys = usableCentroids(rowUsable, ny, h);
  // The cells' trend first: the median filter and the fill of empty cells then see only the deviations from it.
  const trend = fitCellTrend(again.sky, nx, ny, xs, ys, w, h, cfg.residualTrendOrder);
  const trendOf = (k: number): number => (trend ? trendAt(trend, xs[k % nx], ys[(k / nx) | 0]) : 0);
  for (let k = 0; k < again.sky.length; k++) again.sky[k] -= trendOf(k);
  const bg = finishMesh(again);
  // A cell's median over n usable pixels has noise 1.2533 sigma / sqrt(n); the 3x3 median filter is ignored (conservative).
  const perCell = Math.max(1, (usable / (w * h)) * bg.meshSize * bg.meshSize);
  let maxCellSigma = 0;
  for (let k = 0; k < bg.meshSky.length; k++) {
    const noise = (1.2533 * bg.meshSigma[k]) / Math.sqrt(perCell);
    if (noise > 0)
      maxCellSigma = Math.max(maxCellSigma, Math.abs(bg.meshSky[k] + trendOf(k)) / noise);
  }
  const significanceScale =
    Math.max(bg.meshSize, Math.round(cfg.residualSignificanceFwhm * fwhmPx)) / bg.meshSize;
  maxCellSigma *= significanceScale;
  if (!(maxCellSigma > cfg.residualSigma))
    return { applied: false, meshPx: bg.meshSize, maxCellSigma };
  const surface = meshSurface(bg, w, h, xs, ys);
  for (let y = 0; y < h; y++) {
    const io = image.row(y);
    const b = surfaceRow;
    surface(y, b, 0);
    if (trend) addTrendRow(trend, y, b);
    const mo = mask.row(y);
    for (let x = 0; x < w; x++) if (!(mo[x] & MaskPlane.NO_DATA)) io[x] -= b[x];
  }
  return { applied: true, meshPx: bg.meshSize, maxCellSigma };
}
