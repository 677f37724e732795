/**
 * The night report page (`night-report/index.html`): self-contained, PNGs inline. Plots are drawn
 * with shared/plot; cutout triplets with shared/diffim's zscale + asinh preview.
 */
import { readFits } from '../../shared/fits/index.js';
import { Plane, type ImageF } from '../../shared/image/plane.js';
import { previewPng } from '../../shared/diffim/preview.js';
import { renderPlot, type PlotSeries } from '../../shared/plot/png-plot.js';
import type { Alert } from '../../shared/alerts/types.js';
import { STAGE_LABELS, STAGES, type Percentiles, type ScienceFigures } from './metrics.js';
import type { NightReport } from './report.js';

const png = (bytes: Buffer) => `data:image/png;base64,${bytes.toString('base64')}`;
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number | null | undefined, digits = 2) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);

/** The primary image of a cutout FITS file as a float plane. */
function cutoutPlane(fits: Buffer | null): ImageF | null {
  if (!fits) return null;
  const [primary] = readFits(fits);
  if (!primary?.data || primary.width === 0) return null;
  return new Plane(
    Float32Array.from(primary.data as ArrayLike<number>),
    primary.width,
    primary.height,
  );
}

/** Science, template and difference cutouts side by side, as a PNG data URL (null without cutouts). */
export function triplet(alert: Alert): string | null {
  const panels = [alert.cutoutScience, alert.cutoutTemplate, alert.cutoutDifference].map(
    cutoutPlane,
  );
  if (panels.some((p) => p === null)) return null;
  return png(previewPng(panels as ImageF[], 6));
}

/** A latency histogram as a step line. */
export function latencyHistogram(seconds: number[]): Buffer {
  const v = seconds.filter(Number.isFinite);
  const hi = Math.max(1, ...v);
  const bins = 30;
  const width = hi / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const s of v) counts[Math.min(bins - 1, Math.floor(s / width))]++;
  const x: number[] = [];
  const y: number[] = [];
  counts.forEach((c, i) => {
    x.push(i * width, (i + 1) * width);
    y.push(c, c);
  });
  return renderPlot([{ x, y, style: 'line', label: 'alerts' }], {
    title: 'Readout to broker latency',
    xLabel: 'seconds from raw finalize to receipt',
    yLabel: 'alerts',
    xRange: [0, hi * 1.02],
    yRange: [0, Math.max(1, ...counts) * 1.1],
  });
}

export function completenessPlot(science: ScienceFigures): Buffer {
  const bins = science.bySnr.filter((b) => b.expected > 0);
  const series: PlotSeries = {
    x: bins.map((b) => (Number.isFinite(b.hi) ? Math.sqrt(b.lo * b.hi) : b.lo * 1.5)),
    y: bins.map((b) => b.found / b.expected),
    yErr: bins.map((b) =>
      Math.sqrt(Math.max(b.found * (b.expected - b.found), 1) / b.expected ** 3),
    ),
    style: 'both',
    label: 'transients, variables, asteroids',
  };
  return renderPlot([series], {
    title: 'Completeness against expected SNR',
    xLabel: '|expected difference SNR|',
    yLabel: 'fraction with an alert',
    xLog: true,
    xRange: [3, 200],
    yRange: [0, 1.05],
    vLines: [science.snrCut],
    hLines: [1],
  });
}

function percentileRow(label: string, p: Percentiles): string {
  return `<tr><td>${esc(label)}</td><td>${p.n}</td><td>${fmt(p.p50)}</td><td>${fmt(p.p90)}</td><td>${fmt(p.p99)}</td><td>${fmt(p.max)}</td></tr>`;
}

export interface CutoutCard {
  title: string;
  alert: Alert;
  truth: string;
}

export function reportHtml(
  r: NightReport,
  plots: { latency: Buffer; completeness: Buffer },
  cards: { best: CutoutCard[]; worst: CutoutCard[] },
): string {
  const s = r.science;
  const card = (c: CutoutCard) => {
    const src = triplet(c.alert);
    const d = c.alert.diaSource;
    return `<figure>${src ? `<img src="${src}" alt="cutouts of ${c.alert.diaSourceId}">` : '<p>(no cutouts)</p>'}
<figcaption><b>${esc(c.title)}</b> ${c.alert.diaSourceId}: visit ${d.visit}, det ${d.detector}, x ${fmt(d.x, 1)}, y ${fmt(d.y, 1)}, SNR ${fmt(d.snr, 1)}, ${esc(c.truth)}<br>science | template | difference</figcaption></figure>`;
  };
  const stageRows = STAGES.filter((k) => r.latency.stages[k]).map((k) =>
    percentileRow(STAGE_LABELS[k], r.latency.stages[k]),
  );
  const visitRows = r.alerts.perVisit.map(
    (v) =>
      `<tr><td>${v.visit}</td><td>${esc(v.groupId)}</td><td>${v.alerts}</td><td>${v.deadLettered}</td></tr>`,
  );
  const kindRows = Object.entries(s.completeness.byKind).map(
    ([k, v]) =>
      `<tr><td>${esc(k)}</td><td>${v.found} / ${v.expected}</td><td>${fmt(v.found / v.expected, 3)}</td></tr>`,
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Alert Production: simulated night</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 8px 0 20px; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; } .plots img { max-width: 590px; margin-right: 8px; }
.cards { display: flex; flex-wrap: wrap; gap: 16px; } figure { margin: 0; width: 360px; } figure img { width: 100%; image-rendering: pixelated; }
figcaption { font-size: 12px; } .big { font-size: 20px; }
</style></head><body>
<h1>Simulated observing night</h1>
<p class="big">${r.night.visits} visits x ${r.night.detectors.length} detectors of ${r.night.size} x ${r.night.size} px: <b>${r.alerts.received}</b> alerts at the broker
(${r.alerts.duplicates} duplicates), readout to broker median <b>${fmt(r.latency.readoutToBroker.p50, 1)} s</b>, p90 ${fmt(r.latency.readoutToBroker.p90, 1)} s;
completeness <b>${fmt(s.completeness.value, 3)}</b> at |SNR| &ge; ${s.snrCut}, purity <b>${fmt(s.purity.value, 3)}</b>${
  s.afterRealBogus
    ? `; after the real/bogus cut (reliability &ge; ${s.afterRealBogus.cut}) completeness <b>${fmt(s.afterRealBogus.completeness, 3)}</b>, purity <b>${fmt(s.afterRealBogus.purity, 3)}</b>`
    : ''
}.</p>
<p>Night wall time ${fmt(r.night.wallSeconds, 0)} s (sky rendering ${fmt(r.night.renderSeconds, 0)} s, observing and processing ${fmt(r.night.observeSeconds, 0)} s),
${r.night.cores} cores, processImage instances ${r.night.concurrency.processImage}, TF.js backend ${esc(r.night.tfBackend ?? '-')}, longest main-thread stall ${fmt(r.night.mainThreadMaxStallSeconds, 2)} s, seed ${r.night.seed}, detectors ${r.night.detectors.join(', ')}${r.night.complete ? '' : ' &mdash; <b>incomplete: timed out</b>'}.</p>
<div class="plots"><img src="${png(plots.latency)}" alt="latency histogram"><img src="${png(plots.completeness)}" alt="completeness against SNR"></div>
<h2>Latency per stage (seconds, per image)</h2>
<table><tr><th>stage</th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>
${percentileRow('readout -> alert at the broker (every alert)', r.latency.readoutToBroker)}
${stageRows.join('\n')}</table>
<h2>Alerts</h2>
<p>Broker subscriptions: every alert (${r.alerts.received}) and <code>${esc(r.alerts.bright.filter)}</code>
(${r.alerts.bright.received} received, ${r.alerts.bright.expected} expected from the decoded SNRs, ${r.alerts.bright.duplicates} duplicates). Undecodable: ${r.alerts.undecodable}.
Dead letters: ${r.deadLetters.length}.</p>
<table><tr><th>visit</th><th>groupId</th><th>alerts</th><th>dead-lettered images</th></tr>${visitRows.join('')}</table>
<h2>Against the simulator's truth</h2>
<p>An alert matches a real change (transient, variable star, asteroid) of its visit and detector within ${s.matchRadiusPx} px (0.3 arcsec).
Completeness: ${s.completeness.found} of ${s.completeness.expected} real changes with |expected SNR| &ge; ${s.snrCut} have an alert.
Purity: ${s.purity.real} of ${s.purity.alerts} alerts with |SNR| &ge; ${s.snrCut} match a real change.${
  s.afterRealBogus ? ` Brokers that keep only alerts with reliability &ge; ${s.afterRealBogus.cut} (the shipped model's cut) get completeness ${fmt(s.afterRealBogus.completeness, 3)} and purity ${fmt(s.afterRealBogus.purity, 3)}.` : ''
}</p>
<table><tr><th>kind</th><th>found / expected</th><th>completeness</th></tr>${kindRows.join('')}</table>
<h2>Known solar-system objects</h2>
<p>The asteroids' orbits are the known-object catalogue (<code>orbits.csv</code> in the orbits bucket).
Of ${r.knownObjects.detected} asteroid detections with |expected SNR| &ge; ${r.knownObjects.snrCut}, ${r.knownObjects.associated} alerts carry their object's ssObjectId (${fmt(r.knownObjects.completeness, 3)}).
${r.knownObjects.wrongObject} of ${r.knownObjects.withSsObject} alerts with an ssObjectId name a wrong object (${fmt(r.knownObjects.wrongFraction, 5)} of all alerts);
${r.knownObjects.inDiaObjects} asteroid detections went into DIAObjects.
Prediction residuals (observed - predicted): p50 ${fmt(r.knownObjects.residualArcsec.p50, 3)}, p90 ${fmt(r.knownObjects.residualArcsec.p90, 3)}, max ${fmt(r.knownObjects.residualArcsec.max, 3)} arcsec.</p>
<h2>Best alerts (real, highest SNR)</h2><div class="cards">${cards.best.map(card).join('\n')}</div>
<h2>Worst alerts (no real change, highest SNR)</h2><div class="cards">${cards.worst.map(card).join('\n')}</div>
</body></html>
`;
}
