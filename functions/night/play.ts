/**
 * Plays a night on the local cloud as the observatory would: templates in the templates bucket
 * first, then for each visit a next_visit notice, a moment for the preload, and every detector's
 * image written to the raw bucket at once, as the camera's readout finishes.
 */
import { readFile } from 'node:fs/promises';
import { TOPICS } from '../../shared/cloud/names.js';
import { templateKey } from '../../shared/prompt/template-tiles.js';
import { processingKey, rawPath } from '../../shared/prompt/raw-path.js';
import type { Broker } from './broker.js';
import type { LocalCloud } from './cloud.js';
import type { RenderedDetector } from './render-worker.js';
import { pointing, type SkyPlan } from './sky.js';

export interface PlayOptions {
  instrument: string;
  band: string;
  boresight: [number, number];
  /** Seconds from one visit's images to the next visit's (the camera's cadence). */
  cadenceSeconds: number;
  /** Longest wait for a visit's preload before its images are written, seconds. */
  preloadWaitSeconds: number;
  progress: (line: string) => void;
}

/** A raw image as written: where, and when it was finalized (readout complete). */
export interface PlayedImage {
  key: string;
  groupId: string;
  visit: number;
  detector: number;
  objectName: string;
  finalizedAt: number;
}

export async function uploadTemplates(
  cloud: LocalCloud,
  plan: SkyPlan,
  rendered: Map<number, RenderedDetector>,
  band: string,
): Promise<void> {
  await Promise.all(
    plan.detectors.map(async (d) => {
      const bytes = await readFile(rendered.get(d.detector)!.templateFile);
      await cloud.buckets.templates
        .file(templateKey(band, d.tile))
        .save(bytes, { resumable: false, contentType: 'application/fits' });
    }),
  );
}

/** Writes one raw image, as the camera does; returns its finalize time. */
export async function writeRaw(
  cloud: LocalCloud,
  objectName: string,
  bytes: Buffer,
): Promise<number> {
  const file = cloud.buckets.raw.file(objectName);
  await file.save(bytes, { resumable: false, contentType: 'application/fits' });
  return Date.parse(String(file.metadata.timeCreated));
}

export function groupIdOf(nightStart: Date, visitIndex: number): string {
  return `${nightStart.toISOString().slice(0, 19)}-${visitIndex}`;
}

export async function playVisit(
  cloud: LocalCloud,
  plan: SkyPlan,
  rendered: Map<number, RenderedDetector>,
  visitIndex: number,
  groupId: string,
  o: PlayOptions,
): Promise<PlayedImage[]> {
  const detectors = plan.detectors.map((d) => d.detector);
  const notice = pointing(o.boresight, o.band, detectors, groupId, o.cadenceSeconds);
  const preloaded = cloud.logs.waitFor(
    (e) => e.message === 'visit preloaded' && e.groupId === groupId,
    o.preloadWaitSeconds * 1000,
    `preload of ${groupId}`,
  );
  await cloud.pubsub.topic(TOPICS.nextVisit).publishMessage({ json: notice });
  const started = Date.now();
  await preloaded.then(
    (e) =>
      o.progress(
        `visit ${visitIndex + 1} ${groupId}: next_visit sent, ${String(e.withTemplate)}/${detectors.length} detectors preloaded in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      ),
    () =>
      o.progress(
        `visit ${visitIndex + 1} ${groupId}: preload not done after ${o.preloadWaitSeconds} s; images go just in time`,
      ),
  );
  const images = await Promise.all(
    detectors.map(async (detector) => {
      const r = rendered.get(detector)!;
      const { visit, file } = r.visits[visitIndex];
      const objectName = rawPath({ instrument: o.instrument, groupId, snap: 0, detector });
      const finalizedAt = await writeRaw(cloud, objectName, await readFile(file));
      return {
        key: processingKey({ instrument: o.instrument, groupId, detector }),
        groupId,
        visit,
        detector,
        objectName,
        finalizedAt,
      };
    }),
  );
  o.progress(
    `visit ${visitIndex + 1} ${groupId}: ${images.length} raw images written (${images.map((i) => `det ${i.detector}`).join(', ')})`,
  );
  return images;
}

/** What became of one image: its alerts published and received, or its dead letter. */
export interface ImageOutcome {
  published: number | null;
  received: number;
  /** Receipt of its last alert at the broker, ms since 1970 (NaN before any). */
  lastReceivedAt: number;
  deadLetterReason: string | null;
}

export function outcomeOf(cloud: LocalCloud, broker: Broker, image: PlayedImage): ImageOutcome {
  const published = cloud.logs.entries.find(
    (e) => e.message === 'alerts published' && e.key === image.key,
  );
  const dead = cloud.deadLetters.find((d) => d.attributes.objectId === image.objectName);
  let received = 0;
  let lastReceivedAt = Number.NaN;
  for (const a of broker.alerts.values()) {
    if (a.visit !== image.visit || a.detector !== image.detector) continue;
    received++;
    lastReceivedAt = Number.isNaN(lastReceivedAt)
      ? a.receivedAt
      : Math.max(lastReceivedAt, a.receivedAt);
  }
  return {
    published: published ? Number(published.alerts) : null,
    received,
    lastReceivedAt,
    deadLetterReason: dead?.attributes.reason ?? null,
  };
}

/** Follows the images written so far and reports each one once its alerts reached the broker or it was dead-lettered. */
export class NightMonitor {
  private readonly images: PlayedImage[] = [];
  private readonly finished = new Set<string>();

  constructor(
    private readonly cloud: LocalCloud,
    private readonly broker: Broker,
    private readonly progress: (line: string) => void,
  ) {}

  track(images: PlayedImage[]): void {
    this.images.push(...images);
  }

  private poll(): boolean {
    for (const image of this.images) {
      if (this.finished.has(image.key)) continue;
      const o = outcomeOf(this.cloud, this.broker, image);
      if (o.deadLetterReason !== null)
        this.progress(
          `  ${image.groupId} det ${image.detector}: dead-lettered (${o.deadLetterReason})`,
        );
      else if (o.published !== null && o.received >= o.published) {
        const seconds =
          o.received > 0 ? ((o.lastReceivedAt - image.finalizedAt) / 1000).toFixed(1) : '-';
        this.progress(
          `  ${image.groupId} det ${image.detector}: ${o.received} alerts at the broker, the last ${seconds} s after readout`,
        );
      } else continue;
      this.finished.add(image.key);
    }
    return this.finished.size === this.images.length;
  }

  /** Reports as images finish; resolves true when all have, false after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.poll()) {
      if (Date.now() > deadline) return false;
      await new Promise((r) => setTimeout(r, 250));
    }
    return true;
  }

  /** Reports what has finished so far, without waiting. */
  report(): void {
    this.poll();
  }
}
