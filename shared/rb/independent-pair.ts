/**
 * A held-out world for the real/bogus model: a template/science pair drawn by code that shares
 * nothing with `shared/sim` (`ap simulate`) but the random-number generator, so that the
 * model's completeness is checked on images its training never saw. It differs from the
 * simulator where real cameras do (as the issue's independent simulator did):
 * - PSF: an elliptical Moffat of low beta (1.8-2.8; shared/sim draws 3-4.5) plus a round halo
 *   (beta 1.6, three times as wide) carrying 4-15 % of the light: extended wings;
 * - pixel scale 0.3-0.45"/px and FWHM 2.2-7 px, template and science in either seeing order;
 * - a sky with a gradient and curvature; correlated pixel noise is a knob (`noiseCorrelation`, a
 *   3 x 3 kernel as resampled frames have) left at 0 in INDEPENDENT_PAIR: with any correlation
 *   (0.12 tried) runDiff returns an all-masked, all-zero difference with a non-finite PSF today;
 * - faint transients near the 6-sigma limit (60 % with expected S/N 4.5-8) and variable stars
 *   that dim as often as they brighten;
 * - cosmic rays and hot pixels for the pipeline to mask.
 * The pair is written as FITS (TAN WCS, GAIN, RDNOISE, SATURATE, PHOTZP, MJD-OBS) and read back
 * as `ap diff` reads it, then goes through `ap diff`'s runDiff and `ap detect`'s detection, so the
 * cutouts are the pipeline's real inputs; DIASources are labelled like the training nights
 * (dataset.ts labelOf).
 */
import { DEFAULT_DETECT_CONFIG, detectDiaSources } from '../detect/detect.js';
import type { SubtractMethodChoice } from '../diffim/config.js';
import { runDiff, type DiffResult } from '../diffim/pipeline.js';
import type { DiaSourceRecord } from '../detect/types.js';
import { readExposureFromHdus, readFitsNamed } from '../fits/exposure.js';
import { FitsHeader, writeFits } from '../fits/index.js';
import type { Exposure } from '../image/exposure.js';
import { Rng } from '../sim/random.js';
import { ARCSEC_PER_DEG, DEG_PER_RAD } from '../util/numeric.js';
import { cutTriplets } from './cutouts.js';
import { cachedSet, labelOf, TRAINING_NIGHT, type ChangeTruth } from './dataset.js';
import type { LabelledSet } from './labelled-set.js';

export interface IndependentPairConfig {
  size: number;
  pixelScaleArcsec: [number, number];
  /** PSF FWHM range of either image, pixels. */
  fwhmPx: [number, number];
  moffatBeta: [number, number];
  /** Fraction of a star's light in the halo. */
  haloFraction: [number, number];
  /** 1 - b/a of the PSF core. */
  ellipticity: [number, number];
  /** Weight of the 4 nearest neighbours in the noise kernel (corners get its square). */
  noiseCorrelation: number;
  skyAdu: [number, number];
  /** Peak-to-peak fractional change of the sky: linear gradient, then curvature. */
  skyGradient: number;
  skyCurvature: number;
  gain: number;
  readNoise: number;
  saturation: number;
  /** Template exposure in science exposures (its noise is 1/sqrt of this). */
  templateDepth: number;
  starsPerMegapixel: number;
  /** Star fluxes, ADU, log-uniform between these (the bright end saturates). */
  starFluxAdu: [number, number];
  galaxiesPerMegapixel: number;
  transientsPerMegapixel: number;
  /** Fraction of transients on a galaxy. */
  hostFraction: number;
  variablesPerMegapixel: number;
  /** Fraction of changes with expected S/N in faintSnr (the others log-uniform in brightSnr). */
  faintFraction: number;
  faintSnr: [number, number];
  brightSnr: [number, number];
  cosmicRaysPerMegapixel: number;
  hotPixelsPerMegapixel: number;
  /** Template-to-science pointing offset, pixels per axis, and rotation, degrees. */
  shiftPx: number;
  rotationDeg: number;
  method: SubtractMethodChoice;
}

/** The held-out configuration quoted in shared/rb/README.md. */
export const INDEPENDENT_PAIR: IndependentPairConfig = {
  size: 512,
  pixelScaleArcsec: [0.3, 0.45],
  fwhmPx: [2.2, 7],
  moffatBeta: [1.8, 2.8],
  haloFraction: [0.04, 0.15],
  ellipticity: [0, 0.25],
  noiseCorrelation: 0,
  skyAdu: [300, 2500],
  skyGradient: 0.15,
  skyCurvature: 0.05,
  gain: 2.2,
  readNoise: 7,
  saturation: 60000,
  templateDepth: 5,
  starsPerMegapixel: 1200,
  starFluxAdu: [300, 3e6],
  galaxiesPerMegapixel: 150,
  transientsPerMegapixel: 120,
  hostFraction: 0.4,
  variablesPerMegapixel: 60,
  faintFraction: 0.6,
  faintSnr: [4.5, 8],
  brightSnr: [8, 60],
  cosmicRaysPerMegapixel: 60,
  hotPixelsPerMegapixel: 20,
  shiftPx: 25,
  rotationDeg: 0.2,
  method: 'auto',
};

interface PsfShape {
  /** Moffat alpha of the core along its major axis, its beta, axis ratio b/a, position angle. */
  alpha: number;
  beta: number;
  q: number;
  angle: number;
  halo: number;
}

interface Star {
  x: number;
  y: number;
  flux: number;
}

interface Galaxy extends Star {
  /** Exponential scale length along the major axis (px), axis ratio, angle. */
  h: number;
  q: number;
  angle: number;
}

interface Scene {
  stars: Star[];
  galaxies: Galaxy[];
}

/** Samples per pixel axis where the PSF is steep (within CORE_RADIUS_ALPHAS Moffat alphas of the centre). */
const SUB = 3;
const CORE_RADIUS_ALPHAS = 1.5;

function drawPsf(rng: Rng, cfg: IndependentPairConfig, fwhm: number): PsfShape {
  const beta = rng.between(...cfg.moffatBeta);
  return {
    alpha: fwhm / (2 * Math.sqrt(2 ** (1 / beta) - 1)),
    beta,
    q: 1 - rng.between(...cfg.ellipticity),
    angle: rng.between(0, Math.PI),
    halo: rng.between(...cfg.haloFraction),
  };
}

/** The PSF's value per unit flux at offset (dx, dy), analytically normalised (wings beyond a stamp are lost, as in real data). */
function psfAt(p: PsfShape, dx: number, dy: number): number {
  const c = Math.cos(p.angle);
  const s = Math.sin(p.angle);
  const u = c * dx + s * dy;
  const v = (-s * dx + c * dy) / p.q;
  const core = (p.beta - 1) / (Math.PI * p.alpha * p.alpha * p.q);
  const ah = 3 * p.alpha;
  const halo = 0.6 / (Math.PI * ah * ah);
  return (
    (1 - p.halo) * core * (1 + (u * u + v * v) / (p.alpha * p.alpha)) ** -p.beta +
    p.halo * halo * (1 + (dx * dx + dy * dy) / (ah * ah)) ** -1.6
  );
}

/** Pixel-integrated PSF (SUB x SUB samples) of a source at (x, y), over a square of half-side r. */
function stamp(
  p: PsfShape,
  x: number,
  y: number,
  r: number,
): { x0: number; y0: number; n: number; v: Float64Array } {
  const x0 = Math.round(x) - r;
  const y0 = Math.round(y) - r;
  const n = 2 * r + 1;
  const v = new Float64Array(n * n);
  for (let j = 0; j < n; j++)
    for (let i = 0; i < n; i++) {
      const [dx, dy] = [x0 + i - x, y0 + j - y];
      if (dx * dx + dy * dy > CORE_RADIUS_ALPHAS ** 2 * p.alpha * p.alpha) {
        v[j * n + i] = psfAt(p, dx, dy);
        continue;
      }
      let sum = 0;
      for (let b = 0; b < SUB; b++)
        for (let a = 0; a < SUB; a++)
          sum += psfAt(p, dx + (a + 0.5) / SUB - 0.5, dy + (b + 0.5) / SUB - 0.5);
      v[j * n + i] = sum / (SUB * SUB);
    }
  return { x0, y0, n, v };
}

function drawScene(rng: Rng, cfg: IndependentPairConfig): Scene {
  const mp = (cfg.size * cfg.size) / 1e6;
  const [lo, hi] = cfg.starFluxAdu.map(Math.log);
  const stars = Array.from({ length: Math.round(cfg.starsPerMegapixel * mp) }, () => ({
    x: rng.between(-20, cfg.size + 20),
    y: rng.between(-20, cfg.size + 20),
    // Steeper than log-uniform: most stars are faint.
    flux: Math.exp(lo + (hi - lo) * rng.uniform() ** 2),
  }));
  const galaxies = Array.from({ length: Math.round(cfg.galaxiesPerMegapixel * mp) }, () => ({
    x: rng.between(0, cfg.size),
    y: rng.between(0, cfg.size),
    flux: Math.exp(Math.log(2e3) + Math.log(100) * rng.uniform() ** 1.5),
    h: rng.between(0.8, 3),
    q: rng.between(0.3, 1),
    angle: rng.between(0, Math.PI),
  }));
  return { stars, galaxies };
}

interface ImageSpec {
  psf: PsfShape;
  sky: number;
  /** Flux scale (transparency). */
  scale: number;
  /** Science pixel -> this image's pixel. */
  toPixel: (x: number, y: number) => [number, number];
  depth: number;
}

/** Noise-free image of the scene (ADU, sky included). */
function renderModel(
  cfg: IndependentPairConfig,
  spec: ImageSpec,
  scene: Scene,
  rng: Rng,
): Float64Array {
  const n = cfg.size;
  const img = new Float64Array(n * n);
  const gx = rng.between(-1, 1);
  const gy = rng.between(-1, 1);
  const curv = rng.between(-1, 1);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const u = x / n - 0.5;
      const v = y / n - 0.5;
      img[y * n + x] =
        spec.sky *
        (1 + cfg.skyGradient * (gx * u + gy * v) + cfg.skyCurvature * curv * 4 * (u * u + v * v));
    }
  const add = (s: ReturnType<typeof stamp>, flux: number): void => {
    for (let j = 0; j < s.n; j++) {
      const yy = s.y0 + j;
      if (yy < 0 || yy >= n) continue;
      for (let i = 0; i < s.n; i++) {
        const xx = s.x0 + i;
        if (xx >= 0 && xx < n) img[yy * n + xx] += flux * s.v[j * s.n + i];
      }
    }
  };
  const fwhm = 2 * spec.psf.alpha * Math.sqrt(2 ** (1 / spec.psf.beta) - 1);
  for (const star of scene.stars) {
    const [x, y] = spec.toPixel(star.x, star.y);
    const flux = star.flux * spec.scale;
    const r = Math.min(90, Math.ceil(2 * fwhm + 4 * fwhm * Math.sqrt(flux / 1e5)));
    add(stamp(spec.psf, x, y, r), flux);
  }
  // Galaxies: the exponential profile (out to 5 scale lengths) convolved with the PSF by scattering each pixel's light through a stamp of it.
  const kernel = stamp(spec.psf, 0, 0, Math.ceil(2.5 * fwhm));
  const kernelSum = kernel.v.reduce((a, b) => a + b, 0);
  const kr = (kernel.n - 1) / 2;
  for (const g of scene.galaxies) {
    const [x, y] = spec.toPixel(g.x, g.y);
    const r = Math.ceil(5 * g.h);
    const c = Math.cos(g.angle);
    const s = Math.sin(g.angle);
    const light: Array<[number, number, number]> = [];
    let total = 0;
    for (let j = -r; j <= r; j++)
      for (let i = -r; i <= r; i++) {
        const [px, py] = [Math.round(x) + i, Math.round(y) + j];
        const a = c * (px - x) + s * (py - y);
        const b = (-s * (px - x) + c * (py - y)) / g.q;
        const rr = Math.hypot(a, b) / g.h;
        if (rr > 5) continue;
        const val = Math.exp(-rr);
        light.push([px, py, val]);
        total += val;
      }
    const flux = (g.flux * spec.scale) / total / kernelSum;
    for (const [px, py, val] of light)
      for (let q = 0; q < kernel.n; q++) {
        const yy = py + q - kr;
        if (yy < 0 || yy >= n) continue;
        for (let p = 0; p < kernel.n; p++) {
          const xx = px + p - kr;
          if (xx >= 0 && xx < n) img[yy * n + xx] += flux * val * kernel.v[q * kernel.n + p];
        }
      }
  }
  return img;
}

/** Model plus correlated Gaussian noise of the model's Poisson and read-noise variance, clipped at saturation. */
function addNoise(
  cfg: IndependentPairConfig,
  model: Float64Array,
  depth: number,
  rng: Rng,
): Float32Array {
  const n = cfg.size;
  const white = Float64Array.from(model, () => rng.normal());
  const b = cfg.noiseCorrelation;
  const norm = Math.sqrt(1 + 4 * b * b + 4 * b ** 4);
  const out = new Float32Array(n * n);
  const gain = cfg.gain * depth;
  const rn2 = (cfg.readNoise / cfg.gain) ** 2 / depth;
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      let c = 0;
      for (let j = -1; j <= 1; j++)
        for (let i = -1; i <= 1; i++) {
          const xx = Math.min(n - 1, Math.max(0, x + i));
          const yy = Math.min(n - 1, Math.max(0, y + j));
          c += b ** (Math.abs(i) + Math.abs(j)) * white[yy * n + xx];
        }
      const m = model[y * n + x];
      out[y * n + x] = Math.min(cfg.saturation, m + (c / norm) * Math.sqrt(m / gain + rn2));
    }
  return out;
}

/** Variance of the difference at a pixel of the science grid (both images' noise, the model's level). */
function expectedSnr(
  flux: number,
  psf: PsfShape,
  x: number,
  y: number,
  sciModel: Float64Array,
  cfg: IndependentPairConfig,
): number {
  const s = stamp(psf, x, y, Math.ceil(2 * psf.alpha) + 2);
  const n = cfg.size;
  let sum = 0;
  for (let j = 0; j < s.n; j++)
    for (let i = 0; i < s.n; i++) {
      const xx = Math.min(n - 1, Math.max(0, s.x0 + i));
      const yy = Math.min(n - 1, Math.max(0, s.y0 + j));
      const m = sciModel[yy * n + xx];
      const v = (m / cfg.gain + (cfg.readNoise / cfg.gain) ** 2) * (1 + 1 / cfg.templateDepth);
      sum += s.v[j * s.n + i] ** 2 / v;
    }
  return flux * Math.sqrt(sum);
}

function fitsOf(
  cfg: IndependentPairConfig,
  pixels: Float32Array,
  wcs: { crpix: [number, number]; cd: number[][] },
  info: { visit: number; mjd: number; depth: number; zp: number },
): Uint8Array {
  const h = new FitsHeader();
  h.set('CTYPE1', 'RA---TAN');
  h.set('CTYPE2', 'DEC--TAN');
  h.set('CRVAL1', 35.2);
  h.set('CRVAL2', -12.4);
  h.set('CRPIX1', wcs.crpix[0] + 1);
  h.set('CRPIX2', wcs.crpix[1] + 1);
  h.set('CD1_1', wcs.cd[0][0]);
  h.set('CD1_2', wcs.cd[0][1]);
  h.set('CD2_1', wcs.cd[1][0]);
  h.set('CD2_2', wcs.cd[1][1]);
  h.set('VISIT', info.visit);
  h.set('DETECTOR', 3);
  h.set('FILTER', 'i');
  h.set('EXPTIME', 60 * info.depth);
  h.set('MJD-OBS', info.mjd);
  h.set('GAIN', cfg.gain * info.depth);
  h.set('RDNOISE', cfg.readNoise / Math.sqrt(info.depth));
  h.set('SATURATE', cfg.saturation);
  h.set('PHOTZP', info.zp);
  h.set('BUNIT', 'adu');
  return writeFits([{ data: pixels, width: cfg.size, height: cfg.size, header: h }]);
}

export interface IndependentPair {
  science: Exposure;
  template: Exposure;
  scienceFits: Uint8Array;
  templateFits: Uint8Array;
  truth: ChangeTruth[];
}

/** Draws a pair (FITS bytes, read back) and the truth of its changes, in science pixels. */
export function drawIndependentPair(
  seed: number,
  cfg: IndependentPairConfig = INDEPENDENT_PAIR,
): IndependentPair {
  const rng = new Rng(seed, 'rb-independent-pair');
  const scale = rng.between(...cfg.pixelScaleArcsec) / ARCSEC_PER_DEG;
  const scene = drawScene(rng, cfg);
  const sciencePsf = drawPsf(rng, cfg, rng.between(...cfg.fwhmPx));
  const templatePsf = drawPsf(rng, cfg, rng.between(...cfg.fwhmPx));
  const c = (cfg.size - 1) / 2;
  const theta = rng.between(-cfg.rotationDeg, cfg.rotationDeg) / DEG_PER_RAD;
  const d: [number, number] = [
    rng.between(-cfg.shiftPx, cfg.shiftPx),
    rng.between(-cfg.shiftPx, cfg.shiftPx),
  ];
  const [ct, st] = [Math.cos(theta), Math.sin(theta)];
  const toTemplate = (x: number, y: number): [number, number] => [
    ct * (x - c) - st * (y - c) + c + d[0],
    st * (x - c) + ct * (y - c) + c + d[1],
  ];
  const sky = rng.between(...cfg.skyAdu);
  const transparency = rng.between(0.8, 1);
  const science: ImageSpec = {
    psf: sciencePsf,
    sky,
    scale: transparency,
    toPixel: (x, y) => [x, y],
    depth: 1,
  };
  const template: ImageSpec = {
    psf: templatePsf,
    sky,
    scale: 1,
    toPixel: toTemplate,
    depth: cfg.templateDepth,
  };
  // Static scene first: the science model sets the changes' fluxes for their target S/N.
  const staticModel = renderModel(
    cfg,
    science,
    { stars: scene.stars, galaxies: scene.galaxies },
    new Rng(seed, 'sky'),
  );
  const mp = (cfg.size * cfg.size) / 1e6;
  const targetSnr = (): number =>
    rng.uniform() < cfg.faintFraction
      ? rng.between(...cfg.faintSnr)
      : Math.exp(rng.between(Math.log(cfg.brightSnr[0]), Math.log(cfg.brightSnr[1])));
  const truth: ChangeTruth[] = [];
  const unit = (x: number, y: number): number => expectedSnr(1, sciencePsf, x, y, staticModel, cfg);
  const transients: Star[] = [];
  for (let k = Math.round(cfg.transientsPerMegapixel * mp); k > 0; k--) {
    const host =
      rng.uniform() < cfg.hostFraction && scene.galaxies.length > 0
        ? scene.galaxies[rng.int(scene.galaxies.length)]
        : null;
    const x = host ? host.x + rng.between(-2, 2) * host.h : rng.between(15, cfg.size - 15);
    const y = host ? host.y + rng.between(-2, 2) * host.h : rng.between(15, cfg.size - 15);
    if (x < 15 || y < 15 || x > cfg.size - 15 || y > cfg.size - 15) continue;
    const snr = targetSnr();
    transients.push({ x, y, flux: snr / unit(x, y) / transparency });
    truth.push({ kind: 'transient', x, y, expectedSnr: snr });
  }
  const candidates = scene.stars.filter(
    (s) =>
      s.x > 15 &&
      s.y > 15 &&
      s.x < cfg.size - 15 &&
      s.y < cfg.size - 15 &&
      s.flux > 3e3 &&
      s.flux < 2e5,
  );
  const scienceStars = scene.stars.map((s) => ({ ...s }));
  for (let k = Math.round(cfg.variablesPerMegapixel * mp); k > 0 && candidates.length; k--) {
    const star = candidates.splice(rng.int(candidates.length), 1)[0];
    const dims = rng.uniform() < 0.5;
    const u = unit(star.x, star.y) * transparency;
    // Brightening or dimming by the target S/N, at most 1.5 mag of dimming.
    const delta = Math.min(targetSnr() / u, dims ? 0.75 * star.flux : Infinity);
    const idx = scene.stars.indexOf(star);
    scienceStars[idx].flux = star.flux + (dims ? -delta : delta);
    truth.push({
      kind: 'variable',
      x: star.x,
      y: star.y,
      expectedSnr: (dims ? -delta : delta) * u,
    });
  }
  const scienceModel = renderModel(
    cfg,
    science,
    { stars: [...scienceStars, ...transients], galaxies: scene.galaxies },
    new Rng(seed, 'sky'),
  );
  const templateModel = renderModel(cfg, template, scene, new Rng(seed, 'sky-template'));
  const sciencePixels = addNoise(cfg, scienceModel, 1, rng);
  const templatePixels = addNoise(cfg, templateModel, cfg.templateDepth, rng);
  for (let k = Math.round(cfg.cosmicRaysPerMegapixel * mp); k > 0; k--) {
    const x = rng.between(5, cfg.size - 5);
    const y = rng.between(5, cfg.size - 5);
    const a = rng.between(0, Math.PI);
    const len = rng.between(1, 12);
    const e = rng.between(300, 5000);
    for (let t = 0; t <= len; t += 0.7) {
      const [px, py] = [Math.round(x + t * Math.cos(a)), Math.round(y + t * Math.sin(a))];
      if (px >= 0 && py >= 0 && px < cfg.size && py < cfg.size)
        sciencePixels[py * cfg.size + px] += e;
    }
  }
  for (let k = Math.round(cfg.hotPixelsPerMegapixel * mp); k > 0; k--)
    sciencePixels[rng.int(cfg.size * cfg.size)] += rng.between(200, 8000);
  const cd = [
    [-scale, 0],
    [0, scale],
  ];
  // Template: sky offset = CD (p_s - c) with p_s - c = R(-theta)(p_t - c - d).
  const cdT = [
    [cd[0][0] * ct, cd[0][0] * st],
    [-cd[1][1] * st, cd[1][1] * ct],
  ];
  const zp = 31;
  const scienceFits = fitsOf(
    cfg,
    sciencePixels,
    { crpix: [c, c], cd },
    { visit: 20 + (seed % 1000), mjd: 61500.1, depth: 1, zp: zp + 2.5 * Math.log10(transparency) },
  );
  const templateFits = fitsOf(
    cfg,
    templatePixels,
    { crpix: [c + d[0], c + d[1]], cd: cdT },
    { visit: 1, mjd: 61300.1, depth: cfg.templateDepth, zp },
  );
  const read = (bytes: Uint8Array, name: string): Exposure =>
    readExposureFromHdus(readFitsNamed(bytes, name), name).exposure;
  return {
    science: read(scienceFits, `independent-${seed}-science.fits`),
    template: read(templateFits, `independent-${seed}-template.fits`),
    scienceFits,
    templateFits,
    truth,
  };
}

/** An independent pair through `ap diff`'s runDiff and `ap detect`'s detection (no sky sources). */
export async function diffIndependentPair(
  seed: number,
  cfg: IndependentPairConfig = INDEPENDENT_PAIR,
): Promise<{ pair: IndependentPair; diff: DiffResult; sources: DiaSourceRecord[] }> {
  const pair = drawIndependentPair(seed, cfg);
  const diff = await runDiff(pair.science, pair.template, { subtract: { method: cfg.method } });
  const { sources } = detectDiaSources(diff.difference, diff.differencePsf, {
    ...DEFAULT_DETECT_CONFIG,
    skySources: 0,
  });
  return { pair, diff, sources };
}

/** The id of DIASource `index` of independent pair `seed` in its labelled set. */
export const independentSourceId = (seed: number, index: number): string =>
  `independent-${seed}-${index}`;

/** Labelled cutouts of every DIASource of an independent pair, through `ap diff` + `ap detect`. */
export async function independentPairSet(
  seed: number,
  cfg: IndependentPairConfig = INDEPENDENT_PAIR,
): Promise<LabelledSet> {
  const { pair, diff: r, sources } = await diffIndependentPair(seed, cfg);
  const kept: typeof sources = [];
  const label: number[] = [];
  const kind: string[] = [];
  for (const s of sources) {
    const l = labelOf(s, pair.truth, [], TRAINING_NIGHT);
    if (!l) continue;
    kept.push(s);
    label.push(l.label);
    kind.push(l.kind);
  }
  return {
    raw: cutTriplets(kept, {
      science: pair.science,
      template: r.warpedTemplate,
      difference: r.difference,
    }),
    label: Int8Array.from(label),
    snr: Float32Array.from(kept, (s) => s.snr),
    kind,
    id: kept.map((s) => independentSourceId(seed, s.index)),
  };
}

/** independentPairSet through the cache of generated nights (dataset.ts cachedSet). */
export function cachedIndependentPair(
  seed: number,
  cfg: IndependentPairConfig = INDEPENDENT_PAIR,
): Promise<LabelledSet> {
  return cachedSet(`independent-${seed}`, { seed, cfg }, () => independentPairSet(seed, cfg));
}
