/** Simulated test images from shared/sim (one science visit, rendered alone), and truth helpers. */
import { planNight, renderImage } from '../../shared/sim/night.js';
import type { SimulatedImage } from '../../shared/sim/night.js';
import type { SimConfig } from '../../shared/sim/config.js';

/** The first science visit of a simulated night, with its truth planes (exposure variance as simulated). */
export function simulatedVisit(config: Partial<SimConfig>): SimulatedImage {
  const plan = planNight({ visits: 1, ...config });
  return renderImage(plan, plan.visits[0]).image;
}

/**
 * Centres of real sources: local maxima of the noiseless light (minus sky) exceeding
 * `minSigma` times the pixel noise, as 0-based pixel indices.
 */
export function sourceCentres(image: SimulatedImage, minSigma: number): number[] {
  const { width: w, height: h } = image.noiseless;
  const light = image.noiseless.data;
  const sky = image.background.data;
  const variance = image.exposure.variance.data;
  const out: number[] = [];
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const v = light[i] - sky[i];
      if (v < minSigma * Math.sqrt(variance[i])) continue;
      let peak = true;
      for (let dy = -1; dy <= 1 && peak; dy++)
        for (let dx = -1; dx <= 1; dx++)
          if ((dx || dy) && light[i + dy * w + dx] - sky[i + dy * w + dx] > v) peak = false;
      if (peak) out.push(i);
    }
  }
  return out;
}
