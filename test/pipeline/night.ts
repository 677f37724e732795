/**
 * A simulated night as the pipeline meets it in production: each image goes through the FITS
 * files `ap simulate` writes (pixels and header only: no mask, variance or PSF) and is read back.
 */
import { readExposureWithHeader, type ReadExposureResult } from '../../shared/fits/exposure.js';
import { simulateNight, type SimulatedImage, type SimulatedNight } from '../../shared/sim/night.js';
import type { SimConfig } from '../../shared/sim/config.js';
import { simulatedImageFits } from '../../shared/sim/write.js';

export interface NightFiles {
  night: SimulatedNight;
  /** The template, then each science visit, as read back from their FITS bytes. */
  template: () => ReadExposureResult;
  visit: (k: number) => ReadExposureResult;
}

function asRead(image: SimulatedImage, seed: number): ReadExposureResult {
  const bytes = simulatedImageFits(image, { seed, fwhmPx: 0, skyAdu: 0 });
  return readExposureWithHeader(bytes, `visit ${image.exposure.info.visit}`);
}

/** Fresh reads on every call, since the pipeline characterizes its inputs in place. */
export function nightFiles(config: Partial<SimConfig>): NightFiles {
  const night = simulateNight(config);
  const seed = night.config.seed;
  return {
    night,
    template: () => asRead(night.template, seed),
    visit: (k) => asRead(night.visits[k], seed),
  };
}
