/**
 * Defect flags set before anything is measured: non-finite pixels (NO_DATA) and saturation
 * with its bleed trails (SAT). Pixel values are never changed: the mask says what is unusable.
 */
import type { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import { estimateSaturation } from './saturation-estimate.js';

export interface DefectConfig {
  /**
   * Saturation level, ADU; NaN (default) takes the exposure's info.saturation, else one estimated
   * from the pixel histogram's pile-up (saturation-estimate.ts; recorded in info.saturationOrigin),
   * else none is flagged.
   */
  saturation: number;
  /** Estimate the level when neither the config nor the header gives one (default true). */
  estimateSaturation: boolean;
  /**
   * Bleed trails: each saturated run grows along its column while pixels stay above this
   * fraction of the saturation level (default 0.5), since charge spills along the readout columns.
   */
  bleedFraction: number;
  /** Saturated areas then grow by this many px in every direction (default 1). */
  growPx: number;
}

export const DEFAULT_DEFECT_CONFIG: DefectConfig = {
  saturation: Number.NaN,
  estimateSaturation: true,
  bleedFraction: 0.5,
  growPx: 1,
};

export interface DefectResult {
  /** Saturation level used, ADU (NaN when unknown). */
  saturation: number;
  /** True when the level was estimated from the pixels (no SATURATE card). */
  saturationEstimated: boolean;
  /** Pixels flagged SAT (after growth). */
  nSaturated: number;
  /** Non-finite pixels flagged NO_DATA. */
  nNoData: number;
}

/** Flags NO_DATA and SAT (with bleed trails) in `exposure.mask`, in place. */
export function flagDefects(exposure: Exposure, config: Partial<DefectConfig> = {}): DefectResult {
  const cfg = { ...DEFAULT_DEFECT_CONFIG, ...config };
  const { image, mask } = exposure;
  const w = image.width;
  const h = image.height;
  let saturation = Number.isFinite(cfg.saturation) ? cfg.saturation : exposure.info.saturation;
  let saturationEstimated = false;
  if (!Number.isFinite(saturation) && cfg.estimateSaturation) {
    saturation = estimateSaturation(image.contiguous ? image.data : image.clone().data).level;
    saturationEstimated = Number.isFinite(saturation);
    if (saturationEstimated) {
      exposure.info.saturation = saturation;
      exposure.info.saturationOrigin = 'estimated';
    }
  }
  let nNoData = 0;
  const sat = new Uint8Array(w * h);
  const saturated: number[] = [];
  // Indexed into the planes' own arrays (no row view per row); most pixels pass the first test.
  const pixels = image.data;
  const bits = mask.data;
  for (let y = 0; y < h; y++) {
    const r = image.index(0, y);
    const mr = mask.index(0, y);
    for (let x = 0; x < w; x++) {
      const v = pixels[r + x];
      if (v < saturation && v > -Infinity) continue;
      if (!Number.isFinite(v)) {
        bits[mr + x] |= MaskPlane.NO_DATA;
        nNoData++;
      } else if (v >= saturation) {
        sat[y * w + x] = 1;
        saturated.push(y * w + x);
      }
    }
  }
  if (!Number.isFinite(saturation))
    return { saturation: Number.NaN, saturationEstimated, nSaturated: 0, nNoData };
  const bleed = cfg.bleedFraction * saturation;
  const flagged = saturated.slice();
  for (const i of saturated) {
    const x = i % w;
    const y = (i - x) / w;
    for (let yy = y - 1; yy >= 0 && !sat[yy * w + x] && image.get(x, yy) > bleed; yy--) {
      sat[yy * w + x] = 2;
      flagged.push(yy * w + x);
    }
    for (let yy = y + 1; yy < h && !sat[yy * w + x] && image.get(x, yy) > bleed; yy++) {
      sat[yy * w + x] = 2;
      flagged.push(yy * w + x);
    }
  }
  let nSaturated = 0;
  const r = cfg.growPx;
  for (const i of flagged) {
    const x = i % w;
    const y = (i - x) / w;
    for (let yy = Math.max(0, y - r); yy <= Math.min(h - 1, y + r); yy++) {
      const mr = mask.index(0, yy);
      for (let xx = Math.max(0, x - r); xx <= Math.min(w - 1, x + r); xx++) {
        if (!(bits[mr + xx] & MaskPlane.SAT)) nSaturated++;
        bits[mr + xx] |= MaskPlane.SAT;
      }
    }
  }
  return { saturation, saturationEstimated, nSaturated, nNoData };
}
