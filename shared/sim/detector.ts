/**
 * The detector: photon (Poisson) noise, cosmic rays, hot pixels and a hot column, saturation
 * with charge bleeding along columns, read noise and gain. Works in electrons, returns ADU.
 */
import { MaskPlane } from '../image/mask.js';
import type { SimConfig } from './config.js';
import type { Defects } from './plan.js';
import { NORMAL_POISSON_MEAN, type Rng } from './random.js';

/** One cosmic-ray hit: where its charge landed (centroid) and how much. */
export interface CosmicRay {
  id: number;
  x: number;
  y: number;
  electrons: number;
  /** 'track' (a sharp streak of ionisation) or 'blob' (a compact cluster of a few pixels). */
  shape: 'track' | 'blob';
}

export interface ReadoutResult {
  /** Pixel values, ADU. */
  image: Float32Array;
  /** Truth mask: CR, BAD (defects), SAT (saturated or bleed). */
  truthMask: Int32Array;
  cosmicRays: CosmicRay[];
}

/** Largest cosmic-ray track, pixels. */
const MAX_TRACK = 60;

/** Cosmic rays: sharp tracks (exponential lengths, about 1000 e- per pixel) and blobs of a few pixels. */
export function addCosmicRays(
  electrons: Float32Array,
  mask: Int32Array,
  size: number,
  count: number,
  rng: Rng,
): CosmicRay[] {
  const rays: CosmicRay[] = [];
  for (let id = 0; id < count; id++) {
    const hits = new Map<number, number>();
    const deposit = (x: number, y: number, e: number): void => {
      const ix = Math.round(x);
      const iy = Math.round(y);
      if (ix < 0 || iy < 0 || ix >= size || iy >= size) return;
      const i = iy * size + ix;
      hits.set(i, (hits.get(i) ?? 0) + e);
    };
    const x0 = rng.between(0, size - 1);
    const y0 = rng.between(0, size - 1);
    const isTrack = rng.uniform() < 0.7;
    if (isTrack) {
      const length = Math.min(MAX_TRACK, 1 + rng.exponential(8));
      const angle = rng.between(0, 2 * Math.PI);
      const perPixel = rng.between(400, 2500);
      const steps = Math.ceil(length * 4);
      for (let k = 0; k <= steps; k++) {
        const t = (k / steps) * length;
        deposit(
          x0 + t * Math.cos(angle),
          y0 + t * Math.sin(angle),
          (perPixel * length) / (steps + 1),
        );
      }
    } else {
      const pixels = 1 + rng.int(4);
      const total = Math.exp(rng.between(Math.log(2000), Math.log(40000)));
      deposit(x0, y0, total / 2);
      for (let k = 1; k < pixels; k++)
        deposit(x0 + rng.int(3) - 1, y0 + rng.int(3) - 1, total / 2 / (pixels - 1));
    }
    let sum = 0;
    let sx = 0;
    let sy = 0;
    for (const [i, e] of hits) {
      electrons[i] += e;
      mask[i] |= MaskPlane.CR;
      sum += e;
      sx += e * (i % size);
      sy += e * Math.floor(i / size);
    }
    if (sum > 0)
      rays.push({
        id,
        x: sx / sum,
        y: sy / sum,
        electrons: sum,
        shape: isTrack ? 'track' : 'blob',
      });
  }
  return rays;
}

/** Dark charge of the detector's hot pixels and hot column over an exposure (with its shot noise). */
export function addDefects(
  electrons: Float32Array,
  mask: Int32Array,
  size: number,
  defects: Defects,
  exposureTime: number,
  rng: Rng,
): void {
  for (const p of defects.hotPixels) {
    const i = p.y * size + p.x;
    electrons[i] += rng.poisson(p.electronsPerSecond * exposureTime);
    mask[i] |= MaskPlane.BAD;
  }
  const c = defects.badColumn;
  for (let y = c.y0; y <= c.y1; y++) {
    const i = y * size + c.x;
    electrons[i] += rng.poisson(c.electronsPerSecond * exposureTime);
    mask[i] |= MaskPlane.BAD;
  }
}

/**
 * Charge above the full well spills up and down its column, half each way, filling the
 * neighbours to the full well in turn; every pixel that overflowed or took spilled charge is
 * marked SAT (the partly filled ends of a trail too); charge that reaches the detector edge is lost
 * (as in a CCD's bleed trails, e.g. Janesick 2001, Scientific Charge-Coupled Devices, ch. 7).
 */
export function bleed(
  electrons: Float32Array,
  mask: Int32Array,
  size: number,
  fullWell: number,
): void {
  for (let x = 0; x < size; x++) {
    let over = false;
    for (let y = 0; y < size; y++) {
      if (electrons[y * size + x] > fullWell) {
        over = true;
        break;
      }
    }
    if (!over) continue;
    const excess = new Float64Array(size);
    for (let y = 0; y < size; y++) {
      const i = y * size + x;
      if (electrons[i] > fullWell) {
        excess[y] = electrons[i] - fullWell;
        electrons[i] = fullWell;
      }
    }
    const spill = (y: number, carry: number): number => {
      const i = y * size + x;
      const fill = Math.min(fullWell - electrons[i], carry);
      electrons[i] += fill;
      if (fill > 0 || excess[y] > 0) mask[i] |= MaskPlane.SAT;
      return carry + excess[y] / 2 - fill;
    };
    let carry = 0;
    for (let y = 0; y < size; y++) carry = spill(y, carry);
    carry = 0;
    for (let y = size - 1; y >= 0; y--) carry = spill(y, carry);
  }
}

/**
 * Reads out: Poisson noise on the light (noiseless, ADU), then cosmic rays and defects when
 * `artifacts`, bleeding, read noise, conversion to ADU and clipping at the saturation level.
 * Above NORMAL_POISSON_MEAN electrons the shot and read noise are one normal draw of variance
 * mean + readNoise^2 (continuous: the read noise smooths the integer steps anyway).
 */
export function readOut(
  noiseless: Float32Array,
  size: number,
  config: SimConfig,
  options: { exposureTime: number; artifacts: boolean; defects: Defects; noise: Rng; cosmics: Rng },
): ReadoutResult {
  const { gain, readNoise, saturation } = config;
  const electrons = new Float32Array(size * size);
  const noise = options.noise;
  const readVariance = readNoise * readNoise;
  // Where the Poisson deviate is drawn as a normal, the read noise joins the same draw.
  for (let i = 0; i < electrons.length; i++) {
    const mean = noiseless[i] * gain;
    electrons[i] =
      mean >= NORMAL_POISSON_MEAN
        ? mean + Math.sqrt(mean + readVariance) * noise.normal()
        : noise.poisson(mean);
  }
  const truthMask = new Int32Array(size * size);
  let cosmicRays: CosmicRay[] = [];
  if (options.artifacts) {
    const expected =
      (config.cosmicRaysPerMegapixel * size * size * options.exposureTime) /
      config.exposureTime /
      1e6;
    cosmicRays = addCosmicRays(
      electrons,
      truthMask,
      size,
      options.cosmics.poisson(expected),
      options.cosmics,
    );
    addDefects(electrons, truthMask, size, options.defects, options.exposureTime, options.cosmics);
  }
  const fullWell = saturation * gain;
  bleed(electrons, truthMask, size, fullWell);
  const image = new Float32Array(size * size);
  const readSigma = readNoise / gain;
  for (let i = 0; i < image.length; i++) {
    const read = noiseless[i] * gain >= NORMAL_POISSON_MEAN ? 0 : readSigma * noise.normal();
    const value = electrons[i] / gain + read;
    if (electrons[i] >= fullWell || value >= saturation) {
      image[i] = saturation;
      truthMask[i] |= MaskPlane.SAT;
    } else {
      image[i] = value;
    }
  }
  return { image, truthMask, cosmicRays };
}
