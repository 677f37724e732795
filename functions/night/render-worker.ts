/**
 * Renders one detector's images in a worker thread: its deep template and every science visit,
 * written as camera-like FITS files, with the truth rows of each visit (shared/sim).
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import {
  planNight,
  renderImage,
  truthForVisit,
  type SimConfig,
  type TemplateForTruth,
  type TruthRow,
} from '../../shared/sim/index.js';
import type { ImageSpec } from '../../shared/sim/index.js';
import { simulatedImageFits } from '../../shared/sim/index.js';
import type { MpcOrbit } from '../../shared/solar/orbit.js';

export interface RenderTask {
  config: Partial<SimConfig>;
  /** Folder for the FITS files. */
  dir: string;
}

export interface RenderedDetector {
  detector: number;
  templateFile: string;
  /** Science visits in order: VISIT card, file, midpoint MJD (TAI). */
  visits: Array<{ visit: number; file: string; mjd: number }>;
  truth: TruthRow[];
  /** The asteroids' orbits (the known-object catalogue), indexed by their truth id. */
  orbits: MpcOrbit[];
  seconds: number;
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
  const template = renderImage(plan, plan.template).image;
  const templateFile = await write(
    plan.template,
    simulatedImageFits(template, cards(plan.template)),
  );
  const forTruth: TemplateForTruth = {
    variance: template.exposure.variance,
    wcs: template.exposure.wcs,
    info: template.exposure.info,
  };
  const visits: RenderedDetector['visits'] = [];
  const truth: TruthRow[] = [];
  for (const spec of plan.visits) {
    const rendered = renderImage(plan, spec);
    visits.push({
      visit: spec.visit,
      file: await write(spec, simulatedImageFits(rendered.image, cards(spec))),
      mjd: spec.mjd,
    });
    truth.push(...truthForVisit(plan, spec, rendered, forTruth));
  }
  return {
    detector: config.detector,
    templateFile,
    visits,
    truth,
    orbits: plan.field.moving.map((m) => m.orbit),
    seconds: (performance.now() - started) / 1000,
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
