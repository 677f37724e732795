/**
 * characterizeImageAsync: characterizeImage run in a WorkerPool thread, so that the calling thread
 * is free meanwhile (e.g. to characterize the other image of a pair, or to warp). The exposure's
 * planes are characterized in place when they are on SharedArrayBuffers (as read from FITS), else
 * copied to SharedArrayBuffers, characterized there and copied back; the
 * result is the one characterizeImage returns (its PSF model crosses in its stored form, psf/persist.ts).
 * noiseCorrelationAsync then estimates the blank-sky noise correlation (noise-correlation-estimate.ts)
 * on a worker too. Without pool workers (AP_THREADS=1) both run on the calling thread.
 * @example
 *   const science = characterizeImageAsync(sci);           // in the pool's worker
 *   const template = characterizeImage(tmpl);              // meanwhile, here
 *   const noise = noiseCorrelationAsync(sci, (await science).psf.psf); // on the worker again
 */
import { Exposure, type NoiseCorrelation } from '../image/exposure.js';
import { Plane } from '../image/plane.js';
import type { VisitInfo } from '../image/visit-info.js';
import type { BackgroundResult } from './background.js';
import {
  attachPsf,
  characterizeImage,
  mergeConfig,
  type CharacterizeOverrides,
  type CharacterizeResult,
  type LateOverrides,
  type PsfModelResult,
} from './characterize.js';
import {
  characterizeNoiseCorrelation,
  DEFAULT_NOISE_CORRELATION_ESTIMATE_CONFIG,
  psfLightShape,
  type LightShape,
} from './noise-correlation-estimate.js';
import { psfFromHdu, psfToHdu, type PsfHdu } from '../psf/persist.js';
import {
  copyPixels,
  planeDataOf as dataOf,
  planeOf,
  sharedOrCopy,
  type PlaneData,
} from '../util/shared-plane.js';
import { WorkerPool } from '../util/worker-pool.js';
import { poolTask } from '../util/pool-task.js';
import { parentHelper } from '../util/shared-bands.js';

export interface CharacterizeJob {
  image: PlaneData<Float32Array>;
  mask: PlaneData<Int32Array>;
  variance: PlaneData<Float32Array>;
  info: VisitInfo;
  overrides: CharacterizeOverrides;
  /** Receives the background map (shared, width*height). */
  map: Float32Array;
  /** Share the whole-image passes with the thread that started the worker when it is idle (shared-bands.ts). */
  help: boolean;
  /** Overrides the calling thread may choose instead while the worker flags the defects (see Alternative). */
  alternative: { overrides: CharacterizeOverrides; choice: Int32Array } | null;
}

/**
 * Overrides chosen instead of the given ones when `chosen()` is true: it reads the raw image (not
 * the mask) and is called once, on the calling thread, before characterizeImageAsync returns,
 * while the worker flags the defects (which the two overrides configure alike).
 */
export interface Alternative {
  overrides: CharacterizeOverrides;
  chosen: () => boolean;
}

/** The values of an alternative's choice (a shared Int32Array's first element). */
const UNDECIDED = 0;
const KEEP = 1;
const ALTERNATIVE = 2;
/** A calling thread that has not decided in this long is taken for dead. */
const CHOICE_STALL_MS = 60_000;

/** The job's overrides, those of the rest decided by the calling thread (a LateOverrides) when it has an alternative. */
function overridesOf(job: CharacterizeJob): CharacterizeOverrides | LateOverrides {
  const { overrides, alternative } = job;
  if (!alternative) return overrides;
  return {
    defects: overrides.defects,
    decide: () => {
      const { choice } = alternative;
      if (Atomics.wait(choice, 0, UNDECIDED, CHOICE_STALL_MS) === 'timed-out')
        throw new Error(`the calling thread did not choose the overrides in ${CHOICE_STALL_MS} ms`);
      return Atomics.load(choice, 0) === ALTERNATIVE ? alternative.overrides : overrides;
    },
  };
}

export type CharacterizeJobResult = Omit<CharacterizeResult, 'background' | 'psf'> & {
  background: Omit<BackgroundResult, 'map'>;
  psf: Omit<PsfModelResult, 'psf'> & { psf: PsfHdu };
};

/** The PSF FWHM the noise-correlation estimate masks stars by: the model's at the image centre. */
const noiseFwhm = (exposure: Exposure, psf: PsfModelResult['psf']): number =>
  psf.fwhmAt(exposure.width / 2, exposure.height / 2);

/** The lag shape of the image's faint light for the estimate: the model's autocorrelation at the image centre. */
const noiseLight = (exposure: Exposure, psf: PsfModelResult['psf']): LightShape =>
  psfLightShape(
    psf,
    exposure.width / 2,
    exposure.height / 2,
    DEFAULT_NOISE_CORRELATION_ESTIMATE_CONFIG.lightFitLags[1],
  );

export interface NoiseCorrelationJob {
  image: PlaneData<Float32Array>;
  mask: PlaneData<Int32Array>;
  variance: PlaneData<Float32Array>;
  info: VisitInfo;
  /** The FWHM stars are masked by, px; or the PSF model (stored form) whose noiseFwhm the worker measures. */
  fwhm: { px: number } | { psf: PsfHdu };
  /** The lag shape of the image's faint light (the PSF's autocorrelation at the image centre). */
  light: LightShape;
}

/** The job's shared planes as an Exposure (no PSF, no WCS). */
const exposureOf = (job: Pick<CharacterizeJob, 'image' | 'mask' | 'variance' | 'info'>): Exposure =>
  new Exposure(planeOf(job.image), planeOf(job.mask), planeOf(job.variance), null, null, job.info);

/** Worker side: characterizes the shared planes in place. */
export function characterizeShared(job: CharacterizeJob): CharacterizeJobResult {
  const exposure = exposureOf(job);
  // The map is drawn straight into the job's shared buffer (no 64 MB copy for a 4096^2 image), so it
  // crosses back as a view of that buffer, not a copy.
  const overrides = overridesOf(job);
  const { psf, ...rest } = characterizeImage(
    exposure,
    'decide' in overrides
      ? { ...overrides, decide: () => ({ ...overrides.decide(), setPsf: false }) }
      : { ...overrides, setPsf: false },
    undefined,
    job.map,
    job.help ? parentHelper() : null,
  );
  return { ...rest, psf: { ...psf, psf: psfToHdu(psf.psf) } };
}

/** Worker side: the blank-sky noise-correlation model of the shared (characterized) planes. */
export function noiseCorrelationShared(job: NoiseCorrelationJob): NoiseCorrelation | null {
  const exposure = exposureOf(job);
  const f = job.fwhm;
  return characterizeNoiseCorrelation(
    exposure,
    'px' in f ? f.px : noiseFwhm(exposure, psfOf(f.psf)),
    DEFAULT_NOISE_CORRELATION_ESTIMATE_CONFIG,
    job.light,
  ).model;
}

/** The model of a stored PSF (psfToHdu's form). */
function psfOf(stored: PsfHdu): PsfModelResult['psf'] {
  const cards = new Map(stored.cards);
  return psfFromHdu((k) => cards.get(k), stored.data, stored.width, stored.height);
}

/** The stored form of `psf`, or null for a model that has none. */
function storedOrNull(psf: PsfModelResult['psf']): PsfHdu | null {
  try {
    return psfToHdu(psf);
  } catch {
    return null;
  }
}

/**
 * The blank-sky noise-correlation estimate of a characterized exposure (PSF model `psf`, its
 * result's `psf.psf`) on a worker of `pool`: characterizeNoiseCorrelation's model, set on the
 * exposure too (unless already set). Stars are masked by `fwhmPx` (default the model's FWHM at
 * (width / 2, height / 2), measured on the worker from the model's stored form; characterizeTemplate
 * gives the result's `psf.fwhmPx`, the centre pixel's).
 * The planes are only read; they must not change until it resolves. Without pool workers it runs
 * on the calling thread.
 */
export async function noiseCorrelationAsync(
  exposure: Exposure,
  psf: PsfModelResult['psf'],
  pool: WorkerPool | null = WorkerPool.shared(),
  fwhmPx?: number,
): Promise<NoiseCorrelation | null> {
  const light = noiseLight(exposure, psf);
  if (!pool || pool.size === 0)
    return characterizeNoiseCorrelation(
      exposure,
      fwhmPx ?? noiseFwhm(exposure, psf),
      DEFAULT_NOISE_CORRELATION_ESTIMATE_CONFIG,
      light,
    ).model;
  // The default FWHM is measured on the worker too (profile fits of the model, ~4 on a pixel PSF).
  const stored = fwhmPx === undefined ? storedOrNull(psf) : null;
  const job: NoiseCorrelationJob = {
    image: dataOf(sharedOrCopy(exposure.image)),
    mask: dataOf(sharedOrCopy(exposure.mask)),
    variance: dataOf(sharedOrCopy(exposure.variance)),
    info: exposure.info,
    fwhm: stored ? { psf: stored } : { px: fwhmPx ?? noiseFwhm(exposure, psf) },
    light,
  };
  const model = await pool.runTask(poolTask(import.meta.url, { noiseCorrelationShared }), job);
  if (!exposure.noiseCorrelation && model) exposure.noiseCorrelation = model;
  return model;
}

/**
 * characterizeImage(exposure, overrides) on a worker of `pool`; the same result and the same
 * changes to `exposure`. With an alternative, its overrides are used instead when its chosen() is
 * true, the choice made here while the worker starts.
 */
export async function characterizeImageAsync(
  exposure: Exposure,
  overrides: CharacterizeOverrides = {},
  pool: WorkerPool | null = WorkerPool.shared(),
  alternative: Alternative | null = null,
): Promise<CharacterizeResult> {
  if (!pool || pool.size === 0)
    return characterizeImage(exposure, alternative?.chosen() ? alternative.overrides : overrides);
  const { width, height } = exposure;
  // Planes already on shared memory (as read from FITS) are characterized in place, others in a copy.
  const image = sharedOrCopy(exposure.image);
  const mask = sharedOrCopy(exposure.mask);
  const variance = sharedOrCopy(exposure.variance);
  const map = new Float32Array(new SharedArrayBuffer(4 * width * height));
  const job: CharacterizeJob = {
    image: dataOf(image),
    mask: dataOf(mask),
    variance: dataOf(variance),
    info: exposure.info,
    overrides,
    map,
    help: true,
    alternative: alternative && {
      overrides: alternative.overrides,
      choice: new Int32Array(new SharedArrayBuffer(4)),
    },
  };
  const done = pool.runTask(poolTask(import.meta.url, { characterizeShared }), job);
  if (alternative && job.alternative) {
    // The worker flags the defects meanwhile, and waits for the choice before its background.
    const { choice } = job.alternative;
    let pick = KEEP;
    try {
      pick = alternative.chosen() ? ALTERNATIVE : KEEP;
    } finally {
      Atomics.store(choice, 0, pick); // a failed choice keeps the overrides: the worker is not left waiting
      Atomics.notify(choice, 0);
    }
  }
  const out = await done;
  if (image !== exposure.image) copyPixels(image, exposure.image);
  if (mask !== exposure.mask) copyPixels(mask, exposure.mask);
  if (variance !== exposure.variance) copyPixels(variance, exposure.variance);
  const psf = psfOf(out.psf.psf);
  if (mergeConfig(overrides).setPsf) attachPsf(exposure, psf);
  // The worker's copy of the visit info learnt the estimated saturation level: so does this one.
  if (out.defects.saturationEstimated)
    Object.assign(exposure.info, {
      saturation: out.defects.saturation,
      saturationOrigin: 'estimated',
    });
  if (out.variance.gainEstimated)
    Object.assign(exposure.info, { gain: out.variance.gain, gainOrigin: 'estimated' });
  return {
    ...out,
    background: { ...out.background, map: new Plane(map, width, height) },
    psf: { ...out.psf, psf },
  };
}
