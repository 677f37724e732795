/**
 * Renders one detector's images in a worker thread, written as camera-like FITS files (shared/sim):
 * its science visits with the truth rows of each, against its simulated deep template or, when the
 * task names one, against the coadd the template path built; or its template-input visits.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { readExposure } from '../../shared/fits/exposure.js';
import { variableMag } from '../../shared/sim/field.js';
import { planTemplateInputs, TEMPLATE_INPUT_SIM } from '../../shared/sim/template-inputs.js';
import {
  planNight,
  renderImage,
  truthForVisit,
  type NightPlan,
  type SimConfig,
  type TemplateForTruth,
  type TemplateGrid,
  type TruthRow,
} from '../../shared/sim/index.js';
import type { ImageSpec } from '../../shared/sim/index.js';
import { simulatedImageFits } from '../../shared/sim/index.js';
import type { MpcOrbit } from '../../shared/solar/orbit.js';

export interface RenderTask {
  config: Partial<SimConfig>;
  /** Folder for the FITS files. */
  dir: string;
  /** Template-input visits instead of the science visits (templateInputs). */
  inputs?: number;
  /** The template the science visits are differenced against (a coadd, FITS), instead of the simulated one. */
  templateFile?: string;
}

/** VISIT of template input k (1...): clear of the science visits' 1...K, so identities and noise streams never repeat. */
export const INPUT_VISIT_BASE = 100_000;

/** Days between template inputs: earlier nights, so an asteroid is in one input at most. */
const INPUT_SPACING_DAYS = 1;

/**
 * What the template inputs change against the night's visits (shared/sim TEMPLATE_INPUT_SIM:
 * dithers, rotations, transparency, streaks), save the seeing: good-seeing visits, as templates
 * are made of, spread over 2.5-3.5 px (the night's visits: 2.5-5), so that the coadd's PSF stays one
 * that PSF matching reproduces (shared/template/README.md: seeing spread and false positives).
 */
export const NIGHT_TEMPLATE_INPUT_SIM: Partial<SimConfig> = {
  ...TEMPLATE_INPUT_SIM,
  fwhmRangePx: [2.5, 3.5],
};

export interface RenderedDetector {
  detector: number;
  /** The simulated deep template ('' when the science visits were rendered against a given template, or for inputs). */
  templateFile: string;
  /** Science visits (or template inputs) in order: VISIT card, file, midpoint MJD (TAI). */
  visits: Array<{ visit: number; file: string; mjd: number }>;
  truth: TruthRow[];
  /** The asteroids' orbits (the known-object catalogue), indexed by their truth id. */
  orbits: MpcOrbit[];
  seconds: number;
}

/**
 * The night's field as the template inputs see it: no transients, and the variable stars held at
 * the plan's template epoch, so that the coadd's flux of each is the one the truth assumes.
 */
function staticField(plan: NightPlan): NightPlan['field'] {
  const mjd = plan.template.mjd;
  return {
    ...plan.field,
    transients: [],
    variables: plan.field.variables.map((v) => ({
      ...v,
      mag: variableMag(v, mjd),
      amplitudeMag: 0,
    })),
  };
}

/** The night's field in template-input visits: dithered, rotated, streaked, one transient in one of them. */
async function renderInputs(
  task: RenderTask,
  plan: NightPlan,
  count: number,
  write: (spec: ImageSpec, bytes: Uint8Array) => Promise<string>,
): Promise<RenderedDetector['visits']> {
  const { config } = plan;
  const set = planTemplateInputs(
    {
      ...task.config,
      ...NIGHT_TEMPLATE_INPUT_SIM,
      startMjd: plan.template.mjd,
      visitSpacingMinutes: INPUT_SPACING_DAYS * 1440,
    },
    { inputs: count, later: 0 },
  );
  const field = staticField(plan);
  const withOne = { ...field, transients: [set.oneVisit.transient] };
  const centre = (config.size - 1) / 2;
  const out: RenderedDetector['visits'] = [];
  for (const [k, drawn] of set.inputs.entries()) {
    const visit = INPUT_VISIT_BASE + k + 1;
    const spec = { ...drawn, visit, name: `input-${k + 1}` };
    const image = renderImage(
      { ...set.plan, field: k === set.oneVisit.index ? withOne : field },
      spec,
    ).image;
    const cards = {
      seed: config.seed,
      fwhmPx: spec.psf.fwhmAt(centre, centre),
      skyAdu: spec.skyAdu,
    };
    out.push({ visit, file: await write(spec, simulatedImageFits(image, cards)), mjd: spec.mjd });
  }
  return out;
}

/** The template the truth is computed against: the given coadd (variables at the plan's template epoch), else the simulated one. */
async function truthTemplate(
  task: RenderTask,
  plan: NightPlan,
  write: (spec: ImageSpec, bytes: Uint8Array) => Promise<string>,
  cards: (spec: ImageSpec) => Parameters<typeof simulatedImageFits>[1],
): Promise<{ file: string; forTruth: TemplateForTruth; grid?: TemplateGrid }> {
  if (task.templateFile) {
    const coadd = readExposure(await readFile(task.templateFile), task.templateFile);
    if (!coadd.wcs) throw new Error(`${task.templateFile}: template without a WCS`);
    return {
      file: '',
      forTruth: {
        variance: coadd.variance,
        wcs: coadd.wcs,
        info: { ...coadd.info, mjd: plan.template.mjd },
      },
      grid: { wcs: coadd.wcs, zeroPoint: coadd.info.zeroPoint },
    };
  }
  const template = renderImage(plan, plan.template).image;
  return {
    file: await write(plan.template, simulatedImageFits(template, cards(plan.template))),
    forTruth: {
      variance: template.exposure.variance,
      wcs: template.exposure.wcs,
      info: template.exposure.info,
    },
  };
}

async function render(task: RenderTask): Promise<RenderedDetector> {
  const started = performance.now();
  const plan = planNight(task.config);
  const { config } = plan;
  const centre = (config.size - 1) / 2;
  const cards = (spec: ImageSpec) => ({
    seed: config.seed,
    fwhmPx: spec.psf.fwhmAt(centre, centre),
    skyAdu: spec.skyAdu,
  });
  const write = async (spec: ImageSpec, bytes: Uint8Array) => {
    const file = join(task.dir, `d${config.detector}-${spec.name}.fits`);
    await writeFile(file, bytes);
    return file;
  };
  const orbits = plan.field.moving.map((m) => m.orbit);
  const seconds = () => (performance.now() - started) / 1000;
  if (task.inputs) {
    const visits = await renderInputs(task, plan, task.inputs, write);
    return {
      detector: config.detector,
      templateFile: '',
      visits,
      truth: [],
      orbits,
      seconds: seconds(),
    };
  }
  const template = await truthTemplate(task, plan, write, cards);
  const visits: RenderedDetector['visits'] = [];
  const truth: TruthRow[] = [];
  for (const spec of plan.visits) {
    const rendered = renderImage(plan, spec);
    visits.push({
      visit: spec.visit,
      file: await write(spec, simulatedImageFits(rendered.image, cards(spec))),
      mjd: spec.mjd,
    });
    truth.push(...truthForVisit(plan, spec, rendered, template.forTruth, template.grid));
  }
  return {
    detector: config.detector,
    templateFile: template.file,
    visits,
    truth,
    orbits,
    seconds: seconds(),
  };
}

if (parentPort) {
  const port = parentPort;
  render(workerData as RenderTask).then(
    (result) => port.postMessage({ result }),
    (err: unknown) =>
      port.postMessage({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}
