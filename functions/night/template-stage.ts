/**
 * The night's templates made the real way, before the night: each detector's template-input visits
 * (render-worker.ts: earlier nights of the same field, dithered, rotated, with streaks and a
 * transient in one of them) are written to the raw bucket visit by visit, as the camera wrote them;
 * processImage finds no template for them (processing record `noTemplate`) and offers each as a
 * candidate on `template-candidates`; templateBuilder, a function instance like the others, records
 * them for the tiles they overlap enough and, once a tile holds AP_TEMPLATE_MIN_CANDIDATES of them,
 * builds, writes and freezes its coadd in a delivery of its own (a build request on the same topic). The stage ends when every observed tile is frozen, or has all its candidates and could not
 * be built (its record says why).
 */
import { readFile } from 'node:fs/promises';
import { rawPath } from '../../shared/prompt/raw-path.js';
import { services } from '../context.js';
import { templateTiles } from '../template-builder.js';
import type { TileRecord } from '../template-tiles.js';
import type { LocalCloud } from './cloud.js';
import { groupIdOf, writeRaw } from './play.js';
import type { RenderedDetector } from './render-worker.js';
import type { SkyPlan } from './sky.js';

/** Milliseconds from 1970 of a Modified Julian Date (the time scale's 37 s aside: a label). */
const MJD_UNIX_EPOCH = 40587;
const dateOfMjd = (mjd: number) => new Date((mjd - MJD_UNIX_EPOCH) * 86_400_000);

export interface TemplateStageOptions {
  instrument: string;
  band: string;
  /** Longest wait for the tiles, ms. */
  timeoutMs: number;
  progress: (line: string) => void;
}

export interface TemplateStageFacts {
  /** Template-input visits per detector, and raw images written. */
  inputs: number;
  images: number;
  /** From the first input written to the last tile settled, seconds. */
  seconds: number;
  /** Observed tiles frozen, of all observed. */
  frozen: number;
  tiles: number;
  complete: boolean;
}

/** Whether the tile will change no more: frozen, or built without success from every candidate it will get. */
function settled(r: TileRecord | null, candidates: number): boolean {
  if (!r) return false;
  if (r.state === 'frozen') return true;
  return r.candidates >= candidates && r.triedAt >= r.candidates && r.leaseUntil === null;
}

/** Writes the inputs (`inputs`: each detector's rendered input visits) and waits for the tiles. */
export async function runTemplateStage(
  cloud: LocalCloud,
  plan: SkyPlan,
  inputs: Map<number, RenderedDetector>,
  o: TemplateStageOptions,
): Promise<TemplateStageFacts> {
  const started = Date.now();
  const count = Math.min(...[...inputs.values()].map((r) => r.visits.length));
  let images = 0;
  for (let k = 0; k < count; k++) {
    const first = inputs.get(plan.detectors[0].detector)!.visits[k];
    const groupId = groupIdOf(dateOfMjd(first.mjd), k + 1);
    await Promise.all(
      plan.detectors.map(async ({ detector }) => {
        const { file } = inputs.get(detector)!.visits[k];
        const name = rawPath({ instrument: o.instrument, groupId, snap: 0, detector });
        await writeRaw(cloud, name, await readFile(file));
        images++;
      }),
    );
  }
  o.progress(
    `templates: ${images} template-input images written (${count} visits of ${plan.detectors.length} detectors); processImage offers them to templateBuilder`,
  );
  const tiles = templateTiles(services());
  const reported = new Set<number>();
  const deadline = started + o.timeoutMs;
  for (;;) {
    const records = await Promise.all(plan.detectors.map((d) => tiles.get(o.band, d.tile)));
    for (const [i, r] of records.entries()) {
      const tile = plan.detectors[i].tile;
      if (reported.has(tile) || !settled(r, count)) continue;
      reported.add(tile);
      o.progress(
        r!.state === 'frozen'
          ? `templates: tile ${tile} frozen, ${r!.tmplId}: ${r!.nUsed} of ${r!.candidates} inputs used, fill factor ${r!.fillFactor.toFixed(3)}, built in ${r!.buildSeconds?.toFixed(1)} s`
          : `templates: tile ${tile} not built: ${r!.reason}`,
      );
    }
    const frozen = records.filter((r) => r?.state === 'frozen').length;
    const done = reported.size === plan.detectors.length;
    if (done || Date.now() > deadline) {
      if (!done) o.progress(`templates: timed out after ${o.timeoutMs / 1000} s`);
      return {
        inputs: count,
        images,
        seconds: (Date.now() - started) / 1000,
        frozen,
        tiles: plan.detectors.length,
        complete: done,
      };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
