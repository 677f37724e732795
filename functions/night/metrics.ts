/**
 * The night's figures: alerts received, latency per stage from readout to the broker, and
 * completeness and purity of the alerts against the simulator's truth.
 */
import { PIPELINE_STAGES } from '../../shared/pipeline/process.js';
import type { TruthRow } from '../../shared/sim/index.js';
import type { ReceivedAlert } from './broker.js';
import type { LogEntry } from './log-bus.js';
import type { InvocationResult } from './instances.js';
import type { PlayedImage } from './play.js';

/** Matching radius between an alert and a truth row, pixels (0.3 arcsec at 0.2 arcsec/px). */
export const MATCH_RADIUS_PX = 1.5;
/** Completeness counts real changes with |expected SNR| at least this; purity counts alerts with |snr| at least this. */
export const SNR_CUT = 6;
/** Edges of the |expected SNR| bins of the completeness curve. */
export const SNR_BINS = [3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100, Infinity];

const REAL_KINDS = new Set(['transient', 'variable', 'moving']);

export interface Percentiles {
  n: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** Nearest-rank percentiles. */
export function percentiles(values: number[]): Percentiles {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  const at = (q: number) =>
    v.length ? v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))] : null;
  return {
    n: v.length,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: v.length ? v[v.length - 1] : null,
  };
}

export type TruthWithDetector = TruthRow & { detector: number };

/** The real change an alert matches (nearest within the radius, same visit and detector), or null. */
export function matchAlert(
  alert: ReceivedAlert,
  truth: TruthWithDetector[],
): TruthWithDetector | null {
  let best: TruthWithDetector | null = null;
  let bestD = MATCH_RADIUS_PX;
  for (const t of truth) {
    if (t.visit !== alert.visit || t.detector !== alert.detector || !REAL_KINDS.has(t.kind))
      continue;
    const d = Math.hypot(t.x - alert.x, t.y - alert.y);
    if (d <= bestD) {
      best = t;
      bestD = d;
    }
  }
  return best;
}

export interface ScienceFigures {
  matchRadiusPx: number;
  snrCut: number;
  completeness: {
    expected: number;
    found: number;
    value: number | null;
    byKind: Record<string, { expected: number; found: number }>;
  };
  purity: { alerts: number; real: number; value: number | null };
  /** The same two figures counting only alerts with reliability >= the cut (null without a cut). */
  afterRealBogus: { cut: number; completeness: number | null; purity: number | null } | null;
  /** Completeness per |expected SNR| bin. */
  bySnr: Array<{ lo: number; hi: number; expected: number; found: number }>;
}

export function scienceFigures(
  alerts: ReceivedAlert[],
  truth: TruthWithDetector[],
  reliabilityCut: number | null = null,
): ScienceFigures {
  const all = basicFigures(alerts, truth);
  const kept =
    reliabilityCut === null
      ? null
      : basicFigures(
          alerts.filter((a) => a.reliability !== null && a.reliability >= reliabilityCut),
          truth,
        );
  return {
    ...all,
    afterRealBogus:
      kept && reliabilityCut !== null
        ? { cut: reliabilityCut, completeness: kept.completeness.value, purity: kept.purity.value }
        : null,
  };
}

/** The night's completeness and purity, before the real/bogus cut and after it (when a model scored the alerts). */
export function scienceSummaryLines(s: ScienceFigures): string[] {
  const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
  const lines = [
    `before the real/bogus cut: completeness ${s.completeness.found}/${s.completeness.expected} = ${f(s.completeness.value)} at |SNR| >= ${s.snrCut}; purity ${s.purity.real}/${s.purity.alerts} = ${f(s.purity.value)} (alerts with |SNR| >= ${s.snrCut})`,
  ];
  const after = s.afterRealBogus;
  lines.push(
    after
      ? `after the real/bogus cut (reliability >= ${after.cut}): completeness ${f(after.completeness)}; purity ${f(after.purity)}`
      : 'no real/bogus cut: the alerts were not scored',
  );
  return lines;
}

function basicFigures(
  alerts: ReceivedAlert[],
  truth: TruthWithDetector[],
): Omit<ScienceFigures, 'afterRealBogus'> {
  const byImage = new Map<string, ReceivedAlert[]>();
  for (const a of alerts)
    byImage.set(`${a.visit}/${a.detector}`, [
      ...(byImage.get(`${a.visit}/${a.detector}`) ?? []),
      a,
    ]);
  const real = truth.filter((t) => REAL_KINDS.has(t.kind) && Number.isFinite(t.expectedSnr));
  const found = (t: TruthWithDetector) =>
    (byImage.get(`${t.visit}/${t.detector}`) ?? []).some(
      (a) => Math.hypot(t.x - a.x, t.y - a.y) <= MATCH_RADIUS_PX,
    );
  const detected = new Map(real.map((t) => [t, found(t)]));
  const bright = real.filter((t) => Math.abs(t.expectedSnr) >= SNR_CUT);
  const byKind: ScienceFigures['completeness']['byKind'] = {};
  for (const t of bright) {
    const k = (byKind[t.kind] ??= { expected: 0, found: 0 });
    k.expected++;
    if (detected.get(t)) k.found++;
  }
  const nFound = bright.filter((t) => detected.get(t)).length;
  const confident = alerts.filter((a) => a.snr !== null && Math.abs(a.snr) >= SNR_CUT);
  const matched = confident.filter((a) => matchAlert(a, truth) !== null).length;
  const bySnr = SNR_BINS.slice(0, -1).map((lo, i) => {
    const hi = SNR_BINS[i + 1];
    const inBin = real.filter((t) => Math.abs(t.expectedSnr) >= lo && Math.abs(t.expectedSnr) < hi);
    return { lo, hi, expected: inBin.length, found: inBin.filter((t) => detected.get(t)).length };
  });
  return {
    matchRadiusPx: MATCH_RADIUS_PX,
    snrCut: SNR_CUT,
    completeness: {
      expected: bright.length,
      found: nFound,
      value: bright.length ? nFound / bright.length : null,
      byKind,
    },
    purity: {
      alerts: confident.length,
      real: matched,
      value: confident.length ? matched / confident.length : null,
    },
    bySnr,
  };
}

/** Seconds each image spent in each stage, from readout to its last alert at the broker. */
export interface ImageStages {
  key: string;
  visit: number;
  detector: number;
  alerts: number;
  stages: Record<string, number>;
}

/** Stage names in order, for tables and plots. */
export const STAGES = [
  'wait',
  'download',
  'preloadRead',
  'read',
  ...PIPELINE_STAGES,
  'store',
  'handOff',
  'fanOut',
  'apdbWrite',
  'total',
] as const;

export const STAGE_LABELS: Record<(typeof STAGES)[number], string> = {
  wait: 'finalize -> function start (delivery, queue)',
  download: 'raw download',
  preloadRead: 'preload read, beyond the raw download',
  read: 'FITS decode and the rest',
  characterizeScience: 'characterize science',
  characterizeTemplate: 'characterize template (prepared: wait for its read)',
  warp: 'warp',
  subtract: 'subtract',
  detect: 'detect',
  score: 'score (real/bogus)',
  associate: 'associate (APDB reads)',
  alerts: 'alert packets',
  store: 'store result',
  apdbWrite: 'APDB write (alongside the fan-out)',
  handOff: 'hand-off publish',
  fanOut: 'fan-out to the broker',
  total: 'readout -> last alert at the broker',
};

/** Per-image stage times from processImage's log line, its timed cloud calls and the broker's receipts. */
export function imageStages(
  image: PlayedImage,
  logs: LogEntry[],
  invocations: InvocationResult[],
  received: ReceivedAlert[],
): ImageStages | null {
  const processed = logs.find(
    (e) =>
      e.message === 'detector processed' && e.key === image.key && typeof e.stagesMs === 'object',
  );
  const call = invocations.at(-1);
  if (!processed || !call) return null;
  const ms = processed.stagesMs as Record<string, number>;
  const c = call.calls;
  const handOffAt = image.finalizedAt + Number(processed.readoutToHandOffSeconds) * 1000;
  const computeMs = Number(processed.downloadToHandOffSeconds) * 1000;
  // Calls made one after another before the hand-off (the preload is read alongside the raw
  // download, so only its excess counts); the APDB write runs alongside the hand-off and fan-out.
  const preloadBeyondDownload = Math.max(0, (c.preloadRead ?? 0) - (c.download ?? 0));
  const io = (c.download ?? 0) + preloadBeyondDownload + (c.store ?? 0) + (c.handOff ?? 0);
  const last = received.reduce((m, a) => Math.max(m, a.receivedAt), -Infinity);
  const stages: Record<string, number> = {
    wait: (handOffAt - computeMs - image.finalizedAt) / 1000,
    download: (c.download ?? 0) / 1000,
    preloadRead: preloadBeyondDownload / 1000,
    read: (computeMs - io - ms.total) / 1000,
    store: (c.store ?? 0) / 1000,
    apdbWrite: (c.apdbWrite ?? 0) / 1000,
    handOff: (c.handOff ?? 0) / 1000,
    fanOut: received.length ? (last - handOffAt) / 1000 : Number.NaN,
    total: received.length ? (last - image.finalizedAt) / 1000 : Number.NaN,
  };
  for (const [stage, value] of Object.entries(ms))
    if (stage !== 'total') stages[stage] = value / 1000;
  return {
    key: image.key,
    visit: image.visit,
    detector: image.detector,
    alerts: Number(processed.alerts),
    stages,
  };
}
