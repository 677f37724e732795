/**
 * The warp with the registration's WCSs: the template is resampled through them, and the science
 * and the warped template then carry the WCS the difference will have (registerPair's outputWcs).
 * Neither image's WCS is changed if the warp fails.
 */
import type { Exposure } from '../image/exposure.js';
import type { WorkerPool } from '../util/worker-pool.js';
import type { WarpConfig } from '../warp/config.js';
import { warpExposure, type WarpResult, type WarpSource } from '../warp/warp.js';
import type { AstrometryResult } from './register.js';

export async function warpRegistered(
  template: Exposure,
  science: Exposure,
  registration: AstrometryResult,
  config: Partial<WarpConfig>,
  pool: WorkerPool | null = null,
  source?: WarpSource,
): Promise<WarpResult> {
  const [scienceWcs, templateWcs] = [science.wcs, template.wcs];
  science.wcs = registration.warpScienceWcs;
  template.wcs = registration.warpTemplateWcs;
  try {
    const warped = await warpExposure(template, science, config, pool, source);
    science.wcs = registration.outputWcs;
    warped.exposure.wcs = registration.outputWcs;
    return warped;
  } catch (err) {
    science.wcs = scienceWcs;
    throw err;
  } finally {
    template.wcs = templateWcs;
  }
}
