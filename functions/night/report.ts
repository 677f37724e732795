/**
 * `night-report/`: report.json (the figures) and index.html (the page), from what the broker
 * received, the functions' logs and timed calls, and the simulator's truth.
 */
import type { MpcOrbit } from '../../shared/solar/orbit.js';
import { knownObjectFigures } from './known-objects.js';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { decodeAlert } from '../../shared/alerts/wire.js';
import { latestShippedDir } from '../../shared/rb/model.js';
import type { Alert } from '../../shared/alerts/types.js';
import { BRIGHT_FILTER, BRIGHT_SNR, type Broker } from './broker.js';
import type { DeadLetter, LocalCloud } from './cloud.js';
import { cutoutGeometry, nightPage, pageAlerts, type PageCutout } from './page.js';
import {
  imageStages,
  matchAlert,
  percentiles,
  scienceFigures,
  STAGES,
  type ImageStages,
  type Percentiles,
  type TruthWithDetector,
} from './metrics.js';
import type { PlayedImage } from './play.js';
import type { NightFacts, NightReport } from './report-types.js';

/** Seconds from each alert's raw image finalize to its receipt at the broker. */
export function alertLatencies(broker: Broker, images: PlayedImage[]): number[] {
  const finalized = new Map(images.map((i) => [`${i.visit}/${i.detector}`, i.finalizedAt]));
  return [...broker.alerts.values()].map(
    (a) => (a.receivedAt - (finalized.get(`${a.visit}/${a.detector}`) ?? Number.NaN)) / 1000,
  );
}

export function buildReport(
  facts: Omit<NightFacts, 'cores' | 'tfBackend'>,
  cloud: LocalCloud,
  broker: Broker,
  images: PlayedImage[],
  truth: TruthWithDetector[],
  orbitsByDetector: Map<number, MpcOrbit[]> = new Map(),
): NightReport {
  const alerts = [...broker.alerts.values()];
  const readoutToBroker = alertLatencies(broker, images);
  const stages = images
    .map((i) =>
      imageStages(
        i,
        cloud.logs.entries,
        cloud.invocations.get(i.key) ?? [],
        alerts.filter((a) => a.visit === i.visit && a.detector === i.detector),
      ),
    )
    .filter((s): s is ImageStages => s !== null);
  const groups = [...new Map(images.map((i) => [i.groupId, i.visit])).entries()];
  const deadObjects = (d: DeadLetter) => d.attributes.objectId ?? null;
  const tfLine = cloud.logs.entries.find(
    (e) => e.message === 'detector processed' && typeof e.tfBackend === 'string',
  );
  return {
    night: { ...facts, cores: cpus().length, tfBackend: tfLine ? String(tfLine.tfBackend) : null },
    alerts: {
      received: alerts.length,
      duplicates: broker.duplicates,
      undecodable: broker.undecodable,
      bright: {
        filter: BRIGHT_FILTER,
        received: broker.bright.size,
        expected: alerts.filter((a) => a.snr !== null && a.snr >= BRIGHT_SNR).length,
        duplicates: broker.brightDuplicates,
      },
      perVisit: groups.map(([groupId, visit]) => ({
        visit,
        groupId,
        alerts: alerts.filter((a) => a.visit === visit).length,
        deadLettered: cloud.deadLetters.filter((d) =>
          images.some((i) => i.groupId === groupId && i.objectName === deadObjects(d)),
        ).length,
      })),
    },
    deadLetters: cloud.deadLetters.map((d) => ({
      topic: d.topic,
      reason: d.attributes.reason ?? null,
      objectId: deadObjects(d),
    })),
    latency: {
      readoutToBroker: percentiles(readoutToBroker),
      stages: Object.fromEntries(
        STAGES.map((k) => [k, percentiles(stages.map((s) => s.stages[k] ?? Number.NaN))]).filter(
          ([, p]) => (p as Percentiles).n > 0,
        ),
      ),
    },
    images: stages,
    science: scienceFigures(alerts, truth, reliabilityCut()),
    knownObjects: knownObjectFigures(alerts, truth, orbitsByDetector),
  };
}

/** The shipped real/bogus model's cut (models/rb/<latest>/manifest.json), or null when none is shipped. */
function reliabilityCut(): number | null {
  try {
    const manifest = JSON.parse(
      readFileSync(join(latestShippedDir(), 'manifest.json'), 'utf8'),
    ) as { threshold?: number };
    return typeof manifest.threshold === 'number' ? manifest.threshold : null;
  } catch {
    return null;
  }
}

/** One row per alert received: where, how bright, how late, and the real change it matches. */
export function alertsCsv(
  broker: Broker,
  images: PlayedImage[],
  truth: TruthWithDetector[],
): string {
  const latency = alertLatencies(broker, images);
  const rows = [...broker.alerts.values()].map((a, i) => {
    const m = matchAlert(a, truth);
    const num = (v: number | null, digits: number) => (v === null ? '' : v.toFixed(digits));
    return [
      a.diaSourceId,
      a.diaObjectId,
      a.visit,
      a.detector,
      num(a.x, 2),
      num(a.y, 2),
      num(a.ra, 7),
      num(a.dec, 7),
      num(a.snr, 2),
      num(a.psfFlux, 1),
      a.history,
      num(latency[i], 2),
      m?.kind ?? '',
      m?.id ?? '',
      m ? num(m.expectedSnr, 2) : '',
      num(a.reliability, 4),
      a.band ?? '',
      a.flags.join('|'),
    ].join(',');
  });
  return `diaSourceId,diaObjectId,visit,detector,x,y,ra,dec,snr,psfFlux_nJy,history,latency_s,truth_kind,truth_id,truth_expected_snr,reliability,band,flags\n${rows.join('\n')}\n`;
}

/** One row per real change of the simulator: its expected SNR and the nearest alert of its image. */
export function truthCsv(broker: Broker, truth: TruthWithDetector[]): string {
  const alerts = [...broker.alerts.values()];
  const rows = truth
    .filter((t) => Number.isFinite(t.expectedSnr))
    .map((t) => {
      let nearest = Infinity;
      for (const a of alerts)
        if (a.visit === t.visit && a.detector === t.detector)
          nearest = Math.min(nearest, Math.hypot(a.x - t.x, a.y - t.y));
      return [
        t.visit,
        t.detector,
        t.kind,
        t.id,
        t.x.toFixed(2),
        t.y.toFixed(2),
        t.expectedSnr.toFixed(2),
        t.host,
        Number.isFinite(nearest) ? nearest.toFixed(2) : '',
      ].join(',');
    });
  return `visit,detector,kind,id,x,y,expected_snr,host,nearest_alert_px\n${rows.join('\n')}\n`;
}

/** An alert as archived, through the alertArchive function. */
export async function fetchArchived(
  archiveUrl: string,
  diaSourceId: string,
): Promise<Alert | null> {
  const res = await fetch(`${archiveUrl}/v1/alerts/${diaSourceId}`);
  return res.ok ? decodeAlert(new Uint8Array(await res.arrayBuffer())) : null;
}

/** Alerts whose cutouts the page carries: the best and worst three, and those of objects seen more than once. */
const CUTOUTS_CARRIED = 60;

export async function writeReport(
  dir: string,
  report: NightReport,
  broker: Broker,
  images: PlayedImage[],
  truth: TruthWithDetector[],
  archiveUrl: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'alerts.csv'), alertsCsv(broker, images, truth));
  await writeFile(join(dir, 'truth.csv'), truthCsv(broker, truth));
  const received = [...broker.alerts.values()];
  const alerts = pageAlerts(received, alertLatencies(broker, images), truth);
  const bySnr = [...alerts].sort((a, b) => Math.abs(b.snr ?? 0) - Math.abs(a.snr ?? 0));
  const detections = new Map<string, number>();
  for (const a of alerts) detections.set(a.obj, (detections.get(a.obj) ?? 0) + 1);
  const carried = [
    ...bySnr.filter((a) => a.truth).slice(0, 3),
    ...bySnr.filter((a) => !a.truth).slice(0, 3),
    ...bySnr.filter((a) => (detections.get(a.obj) ?? 0) > 1),
  ];
  const cutouts: Record<string, PageCutout> = {};
  for (const a of carried) {
    if (Object.keys(cutouts).length >= CUTOUTS_CARRIED) break;
    if (cutouts[a.id]) continue;
    const alert = await fetchArchived(archiveUrl, a.id);
    const geometry = alert && cutoutGeometry(alert);
    if (geometry) cutouts[a.id] = geometry;
  }
  await writeFile(join(dir, 'index.html'), nightPage(report, received, alerts, cutouts, truth));
}
