/**
 * The simulated night: a deep template and K science visits of one detector, with the truth of
 * every injected change. `simulateNight` holds everything in memory; `planNight`, `renderImage`
 * and `truthForVisit` let a caller stream one image at a time (as `ap simulate` does).
 *
 * @example
 *   const night = simulateNight({ size: 512, seed: 7, visits: 2 });
 *   night.visits[0].exposure.image;  // ADU, background included
 *   night.truth.filter((r) => r.kind === 'transient' && r.expectedSnr > 5);
 */
import { Exposure } from '../image/exposure.js';
import { Plane, type ImageF, type MaskI } from '../image/plane.js';
import { resolveSimConfig, type SimConfig } from './config.js';
import { readOut, type CosmicRay } from './detector.js';
import { drawField, variableMag, type SkyField } from './field.js';
import { detectorDefects, planImages, type Defects, type ImageSpec } from './plan.js';
import { rngStream } from './random.js';
import {
  magToAdu,
  renderStaticHalf,
  renderLightExceptOddHalf,
  skyBackground,
  streakGeometry,
  type PlacedSource,
} from './render.js';
import type { SkyWorker } from './parallel.js';
import { addDiffuseLight, headerWcs, responseMap } from './real-world.js';
import type { Wcs } from '../wcs/types.js';
import { expectedSnr, type SnrContext, type TruthRow } from './truth.js';

export const INSTRUMENT = 'APSIM';

export interface SimulatedImage {
  /** Image in ADU (background included), mask all zero, variance the true variance (ADU^2), WCS, true PSF, visit info. */
  exposure: Exposure;
  /** The light without noise or detector effects: sky and every source, before cosmic rays, defects and saturation. */
  noiseless: ImageF;
  /** The true sky background, ADU. */
  background: ImageF;
  /** Truth mask: CR for cosmic-ray pixels, BAD for hot pixels and the hot column, SAT for saturated and bleed pixels. */
  crMask: MaskI;
  /** The true WCS (exposure.wcs is what the header says: the truth, the truth with an error, or none). */
  trueWcs: Wcs;
  /** The detector's relative response when vignetting is on (real-world.ts), else null. */
  response: ImageF | null;
}

export interface SimulatedNight {
  template: SimulatedImage;
  visits: SimulatedImage[];
  truth: TruthRow[];
  config: SimConfig;
  /** The sky that was drawn (static stars, galaxies, and every changing source). */
  field: SkyField;
  /** Per-image parameters (PSF, WCS, sky, zero point, epoch, streak), template first. */
  specs: ImageSpec[];
}

export interface NightPlan {
  config: SimConfig;
  field: SkyField;
  template: ImageSpec;
  visits: ImageSpec[];
  defects: Defects;
  /** Mean 5-sigma point-source limit of the science visits, AB mag. */
  limitMag: number;
}

/** What rendering one image produced beyond the image itself. */
export interface RenderedImage {
  image: SimulatedImage;
  /** Changing point sources drawn in the image (science ADU positions and fluxes). */
  placed: PlacedSource[];
  cosmicRays: CosmicRay[];
}

/** 5-sigma point-source limit of an image at its centre from sky and read noise, AB mag. */
export function limitingMag(spec: ImageSpec, config: SimConfig): number {
  const c = (config.size - 1) / 2;
  const stamp = spec.psf.stampAt(c, c, true);
  let sumSq = 0;
  for (const v of stamp.data) sumSq += v * v;
  const pixelVariance = spec.skyAdu / config.gain + (config.readNoise / config.gain) ** 2;
  return spec.zeroPoint - 2.5 * Math.log10(5 * Math.sqrt(pixelVariance / sumSq));
}

/** Draws the sky and the image parameters; no pixels yet. */
export function planNight(partial: Partial<SimConfig> = {}): NightPlan {
  const config = resolveSimConfig(partial);
  const { template, visits } = planImages(config);
  const limitMag = visits.reduce((sum, v) => sum + limitingMag(v, config), 0) / visits.length;
  return {
    config,
    field: drawField(config, limitMag),
    template,
    visits,
    defects: detectorDefects(config),
    limitMag,
  };
}

/** Renders one image of the plan: light, noise, detector effects. */
export function renderImage(plan: NightPlan, spec: ImageSpec): RenderedImage {
  const size = plan.config.size;
  const { light, placed } = renderLightExceptOddHalf(plan.field, spec, size);
  const odd = new Float32Array(size * size);
  renderStaticHalf(plan.field, spec, size, odd, 1);
  return finishImage(plan, spec, light, odd, placed);
}

/**
 * renderImage with half the static sky drawn on `worker`'s thread: the same pixels, sooner on
 * two cores. Falls back to this thread if the worker fails.
 */
export async function renderImageAsync(
  plan: NightPlan,
  spec: ImageSpec,
  worker: SkyWorker,
): Promise<RenderedImage> {
  const size = plan.config.size;
  const pending = worker.render(spec.visit, size).catch(() => null);
  const { light, placed } = renderLightExceptOddHalf(plan.field, spec, size);
  let odd = await pending;
  if (!odd) {
    odd = new Float32Array(size * size);
    renderStaticHalf(plan.field, spec, size, odd, 1);
  }
  return finishImage(plan, spec, light, odd, placed);
}

/** Sums the two halves of the light (into `light`), adds the sky, and reads the detector out. */
function finishImage(
  plan: NightPlan,
  spec: ImageSpec,
  light: Float32Array,
  oddHalf: Float32Array,
  placed: PlacedSource[],
): RenderedImage {
  const { config } = plan;
  const size = config.size;
  const noiseless = light;
  const background = skyBackground(spec, size);
  for (let i = 0; i < noiseless.length; i++) noiseless[i] += oddHalf[i] + background[i];
  addDiffuseLight(noiseless, config, spec);
  // The optics' response dims sky and sources alike (real-world.ts).
  const response = responseMap(config);
  if (response) {
    for (let i = 0; i < noiseless.length; i++) {
      noiseless[i] *= response[i];
      background[i] *= response[i];
    }
  }
  const readout = readOut(noiseless, size, config, {
    exposureTime: spec.exposureTime,
    artifacts: spec.artifacts,
    defects: plan.defects,
    noise: rngStream(config.seed, `noise-${spec.visit}`),
    cosmics: rngStream(config.seed, `cosmics-${spec.visit}`),
  });
  const variance = new Float32Array(size * size);
  const readVariance = (config.readNoise / config.gain) ** 2;
  for (let i = 0; i < variance.length; i++)
    variance[i] = Math.max(0, noiseless[i]) / config.gain + readVariance;
  // Pixels in another unit than ADU (real-world.ts): the image, its variance and the header follow.
  const unit = config.unitScale;
  if (unit !== 1) {
    for (let i = 0; i < variance.length; i++) {
      readout.image[i] *= unit;
      variance[i] *= unit * unit;
    }
  }
  const exposure = new Exposure(
    new Plane(readout.image, size, size),
    Plane.zeros(Int32Array, size, size),
    new Plane(variance, size, size),
    headerWcs(config, spec),
    spec.psf,
    {
      visit: spec.visit,
      detector: config.detector,
      band: config.band,
      mjd: spec.mjd,
      exposureTime: spec.exposureTime,
      gain: config.writeGain ? config.gain / unit : Number.NaN,
      readNoise: config.writeGain ? config.readNoise : Number.NaN,
      saturation: config.writeSaturate ? config.saturation * unit : Number.NaN,
      zeroPoint: spec.zeroPoint + 2.5 * Math.log10(unit),
      instrument: INSTRUMENT,
    },
  );
  return {
    image: {
      exposure,
      noiseless: new Plane(noiseless, size, size),
      background: new Plane(background, size, size),
      crMask: new Plane(readout.truthMask, size, size),
      trueWcs: spec.wcs,
      response: response ? new Plane(response, size, size) : null,
    },
    placed,
    cosmicRays: readout.cosmicRays,
  };
}

/** What the truth of a visit needs of the template: its variance, zero point and epoch (its true WCS is the plan's). */
export type TemplateForTruth = Pick<Exposure, 'variance' | 'wcs' | 'info'>;

/** Where a template other than the plan's own lies and what 1 ADU of it is: a coadd on its own grid. */
export interface TemplateGrid {
  wcs: Wcs;
  /** AB magnitude of 1 template ADU. */
  zeroPoint: number;
}

/** Truth rows of one science visit; `grid`: the template's, when it is not the plan's template (default). */
export function truthForVisit(
  plan: NightPlan,
  spec: ImageSpec,
  science: RenderedImage,
  template: TemplateForTruth,
  grid: TemplateGrid = plan.template,
): TruthRow[] {
  const { config } = plan;
  const scienceZp = spec.zeroPoint;
  const ctx: SnrContext = {
    sciencePsf: spec.psf,
    scienceVariance: science.image.exposure.variance,
    scienceWcs: spec.wcs,
    templateVariance: template.variance,
    templateWcs: grid.wcs,
    templateScale: Math.pow(10, 0.4 * (scienceZp - grid.zeroPoint)),
  };
  // Fluxes as the science records them: through its response, in its pixel unit (real-world.ts).
  const response = science.image.response;
  const recorded = (x: number, y: number): number =>
    config.unitScale *
    (response
      ? response.get(
          Math.min(config.size - 1, Math.max(0, Math.round(x))),
          Math.min(config.size - 1, Math.max(0, Math.round(y))),
        )
      : 1);
  const templateMjd = template.info.mjd;
  const variables = new Map(plan.field.variables.map((v) => [v.id, v]));
  const base = { visit: spec.visit, mjd: spec.mjd };
  const rows: TruthRow[] = science.placed.map((p) => {
    const variable = p.kind === 'variable' ? variables.get(p.id) : undefined;
    const scale = recorded(p.x, p.y);
    const fluxTemplateAdu =
      (variable ? magToAdu(variableMag(variable, templateMjd), scienceZp) : 0) * scale;
    const fluxScienceAdu = p.flux * scale;
    const delta = fluxScienceAdu - fluxTemplateAdu;
    return {
      ...base,
      kind: p.kind,
      id: p.id,
      x: p.x,
      y: p.y,
      ra: p.ra,
      dec: p.dec,
      fluxScienceAdu,
      fluxTemplateAdu,
      deltaFluxAdu: delta,
      expectedSnr: expectedSnr(ctx, p.x, p.y, delta),
      host: p.hostId >= 0 ? 1 : 0,
    };
  });
  const artifact = (
    kind: TruthRow['kind'],
    id: number,
    x: number,
    y: number,
    adu: number,
  ): TruthRow => {
    const sky = spec.wcs.pixelToSky({ x: Float64Array.of(x), y: Float64Array.of(y) });
    return {
      ...base,
      kind,
      id,
      x,
      y,
      ra: sky.ra[0],
      dec: sky.dec[0],
      fluxScienceAdu: adu,
      fluxTemplateAdu: 0,
      deltaFluxAdu: adu,
      expectedSnr: Number.NaN,
      host: 0,
    };
  };
  for (const cr of science.cosmicRays)
    rows.push(artifact('cosmic_ray', cr.id, cr.x, cr.y, cr.electrons / config.gain));
  if (spec.artifacts) {
    plan.defects.hotPixels.forEach((p, id) =>
      rows.push(
        artifact(
          'hot_pixel',
          id,
          p.x,
          p.y,
          (p.electronsPerSecond * spec.exposureTime) / config.gain,
        ),
      ),
    );
    const c = plan.defects.badColumn;
    rows.push(
      artifact(
        'bad_column',
        0,
        c.x,
        (c.y0 + c.y1) / 2,
        (c.electronsPerSecond * spec.exposureTime * (c.y1 - c.y0 + 1)) / config.gain,
      ),
    );
  }
  if (spec.streak) {
    const g = streakGeometry(spec.streak, config.size);
    rows.push(artifact('streak', spec.streak.id, g.x, g.y, spec.streak.fluxPerPixel * g.length));
  }
  return rows;
}

/** The whole night in memory: template, science visits, truth. Deterministic in config.seed. */
export function simulateNight(partial: Partial<SimConfig> = {}): SimulatedNight {
  const plan = planNight(partial);
  const template = renderImage(plan, plan.template).image;
  const visits: SimulatedImage[] = [];
  const truth: TruthRow[] = [];
  for (const spec of plan.visits) {
    const science = renderImage(plan, spec);
    visits.push(science.image);
    truth.push(...truthForVisit(plan, spec, science, template.exposure));
  }
  return {
    template,
    visits,
    truth,
    config: plan.config,
    field: plan.field,
    specs: [plan.template, ...plan.visits],
  };
}
