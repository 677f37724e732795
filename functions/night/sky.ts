/**
 * The simulated sky of a night: which detectors are observed, and their images.
 *
 * Each detector is simulated on its own (shared/sim renders one detector) with its own seed, its
 * field centred where the camera geometry puts it: at its gridCamera offset from the boresight of
 * the next_visit notices, so the preload predicts its footprint as it will be. The templates bucket
 * holds one template per sky tile, so a detector whose centre falls in a tile that already holds
 * another detector's template is left out of the night.
 */
import { predictDetectorFootprint, type CameraGeometry } from '../../shared/prompt/camera.js';
import type { NextVisit } from '../../shared/prompt/next-visit.js';
import { tileOf, tilesInCircle } from '../../shared/prompt/template-tiles.js';
import type { SimConfig, TruthRow } from '../../shared/sim/index.js';
import type { RenderedDetector, RenderTask } from './render-worker.js';
import { siblingModule, startWorker } from '../../shared/util/worker.js';

export interface SkyPlan {
  /** Detectors observed, with the sky centre the camera predicts and the template tile. */
  detectors: Array<{ detector: number; centre: [number, number]; tile: number }>;
}

/** A notice for the boresight, as the scheduler would send (groupId and detectors filled in later). */
export function pointing(
  boresight: [number, number],
  band: string,
  detectors: number[],
  groupId: string,
  durationSeconds: number,
): NextVisit {
  return {
    instrument: 'APSIM',
    groupId,
    nimages: 1,
    filters: band,
    coordinateSystem: 'ICRS',
    position: boresight,
    rotationSystem: 'SKY',
    cameraAngle: 0,
    survey: 'AP-NIGHT',
    duration: durationSeconds,
    detectors,
  };
}

/**
 * Sky margin, degrees, around a detector's predicted footprint within which its template inputs
 * fall: their dithers and rotations (shared/sim TEMPLATE_INPUT_SIM, 100 px and 2 deg at 0.2"/px).
 */
const INPUT_MARGIN_DEG = 0.02;

/**
 * The `count` detectors nearest the boresight whose centres lie in distinct template tiles. With
 * `ownTiles`, also no template tile is touched by two of them (their footprints grown by the
 * template inputs' dithers): each detector's sky is simulated on its own, so a coadd of two
 * detectors' inputs would mix two skies where they meet.
 */
export function planSky(
  camera: CameraGeometry,
  boresight: [number, number],
  band: string,
  count: number,
  ownTiles = false,
): SkyPlan {
  const visit = pointing(boresight, band, [0], 'plan', 30);
  const byDistance = [...camera.offsetsArcsec.entries()].sort(
    (a, b) => Math.hypot(...a[1]) - Math.hypot(...b[1]) || a[0] - b[0],
  );
  const chosen: SkyPlan['detectors'] = [];
  const touched = new Set<number>();
  for (const [detector] of byDistance) {
    if (chosen.length === count) break;
    const { center, radiusDeg } = predictDetectorFootprint(visit, camera, detector);
    const tile = tileOf(center[0], center[1]);
    const tiles = ownTiles
      ? tilesInCircle({ center, radiusDeg: radiusDeg + INPUT_MARGIN_DEG })
      : [tile];
    if (chosen.some((c) => c.tile === tile) || tiles.some((t) => touched.has(t))) continue;
    chosen.push({ detector, centre: center, tile });
    if (ownTiles) for (const t of tiles) touched.add(t);
  }
  if (chosen.length < count)
    throw new Error(
      `only ${chosen.length} of the camera's detectors lie in distinct template tiles${ownTiles ? ' touched by no other' : ''}`,
    );
  return { detectors: chosen.sort((a, b) => a.detector - b.detector) };
}

export interface RenderOptions {
  size: number;
  visits: number;
  seed: number;
  band: string;
  /** MJD (TAI) of the first visit, and the time between visits. */
  startMjd: number;
  cadenceSeconds: number;
  dir: string;
  /** Detectors rendered at once (worker threads). */
  parallel: number;
  /** Simulator settings beneath the night's own (e.g. CROWDED_SIM_CONFIG); default none. */
  sim?: Partial<SimConfig>;
  /** Template-input visits of each detector instead of its science visits (render-worker.ts). */
  inputs?: number;
  /** Per detector, the template (FITS file) its science visits' truth is computed against; default the simulated one. */
  templateFiles?: Map<number, string>;
}

function renderInWorker(task: RenderTask): Promise<RenderedDetector> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(siblingModule('./render-worker', import.meta.url), {
      workerData: task,
    });
    worker.once('message', (m: { result?: RenderedDetector; error?: string }) => {
      void worker.terminate();
      if (m.result) resolve(m.result);
      else
        reject(new Error(`rendering detector ${String(task.config.detector)} failed: ${m.error}`));
    });
    worker.once('error', reject);
  });
}

/** Renders every detector of the plan (template and visits, or template inputs), `parallel` at a time. */
export async function renderSky(
  plan: SkyPlan,
  o: RenderOptions,
  onDone: (r: RenderedDetector) => void = () => {},
): Promise<Map<number, RenderedDetector>> {
  const queue = [...plan.detectors];
  const out = new Map<number, RenderedDetector>();
  const lane = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const rendered = await renderInWorker({
        dir: o.dir,
        config: {
          ...o.sim,
          size: o.size,
          visits: o.visits,
          seed: o.seed * 1000 + next.detector,
          detector: next.detector,
          band: o.band,
          ra: next.centre[0],
          dec: next.centre[1],
          startMjd: o.startMjd,
          visitSpacingMinutes: o.cadenceSeconds / 60,
        },
        inputs: o.inputs,
        templateFile: o.templateFiles?.get(next.detector),
      });
      out.set(next.detector, rendered);
      onDone(rendered);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.parallel, queue.length)) }, lane));
  return out;
}

/** Truth rows of every detector, with their detector. */
export function truthOf(
  rendered: Map<number, RenderedDetector>,
): Array<TruthRow & { detector: number }> {
  return [...rendered.values()].flatMap((r) =>
    r.truth.map((t) => ({ ...t, detector: r.detector })),
  );
}
