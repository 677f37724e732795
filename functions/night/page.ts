/**
 * The night report as one interactive, offline HTML file (`night-report/index.html`): the
 * figures as inline SVG drawn by a small script in the page from the night's data embedded as
 * JSON, so every plot zooms (drag a box; double-click to reset) with axes re-ticked at each zoom.
 * Completeness by class and SNR (with what the brightest misses have in common), reliability
 * histogram of real and bogus alerts, latency histogram, per-detector table, sky map, the alerts
 * (click one: its light curve over the night and, where fetched, its cutouts with stretch, N/E
 * arrows and a scale bar), and the unmatched alerts grouped by their likely cause.
 */
import { readFits } from '../../shared/fits/index.js';
import type { Alert } from '../../shared/alerts/types.js';
import type { ReceivedAlert } from './broker.js';
import { TRIPLET_GAP_PX, triplet } from './html.js';
import {
  matchAlert,
  scienceFigures,
  STAGE_LABELS,
  STAGES,
  type TruthWithDetector,
} from './metrics.js';
import type { NightReport } from './report-types.js';
import { ARCSEC_PER_DEG } from '../../shared/util/numeric.js';

/** |SNR| above which the page looks at what the missed real changes have in common. */
export const BRIGHT_MISS_SNR = 100;
/** Length of the cutouts' scale bar, arcsec. */
const SCALE_BAR_ARCSEC = 2;

export interface PageAlert {
  id: string;
  obj: string;
  visit: number;
  det: number;
  ra: number;
  dec: number;
  snr: number | null;
  flux: number | null;
  fluxErr: number | null;
  mjd: number;
  rel: number | null;
  band: string | null;
  flags: string[];
  latency: number;
  /** The real change it matches ("transient 4"), or null. */
  truth: string | null;
  /** For an alert that matches no real change: its likely cause, from its flags and shape. */
  cause: string | null;
}

/** Cutouts of one alert as the page shows them: the triplet PNG and the sky directions of the science cutout. */
export interface PageCutout {
  png: string;
  /** Panel size in PNG pixels. */
  panel: [number, number];
  /** Unit vectors towards north and east on the displayed panel (x right, y up), and arcsec per pixel. */
  north: [number, number];
  east: [number, number];
  arcsecPerPx: number;
}

/** The likely cause of an alert with no real change under it (the worst residuals' groups). */
export function residualCause(a: ReceivedAlert): string {
  const has = (f: string) => a.flags.includes(f);
  if (has('saturated') || has('saturatedCenter')) return 'saturated star';
  if (has('crCenter') || has('cr')) return 'cosmic ray';
  if (has('edge') || has('offimage') || has('nodata')) return 'image edge';
  if (a.isDipole) return 'dipole (misalignment or PSF mismatch)';
  if (
    has('interpolated') ||
    has('interpolatedCenter') ||
    has('bad') ||
    has('suspect') ||
    has('suspectCenter')
  )
    return 'bad or interpolated pixels';
  if (a.snr !== null && a.snr < 0) return 'negative residual';
  return 'no flag: subtraction residual or faint real change';
}

/** The science cutout's sky directions from its WCS (CD matrix), for the N/E arrows and the scale bar. */
export function cutoutGeometry(alert: Alert): PageCutout | null {
  const png = triplet(alert);
  if (!png || !alert.cutoutScience) return null;
  const [primary] = readFits(alert.cutoutScience);
  const h = primary.header;
  const cd = [
    h.getNumber('CD1_1'),
    h.getNumber('CD1_2'),
    h.getNumber('CD2_1'),
    h.getNumber('CD2_2'),
  ];
  if (cd.some((v) => v === undefined)) return null;
  const [a, b, c, d] = cd as number[];
  const det = a * d - b * c;
  // Pixel offsets along which (xi, eta) = CD (dx, dy) moves one unit east (+xi) or north (+eta).
  const unit = (dx: number, dy: number): [number, number] => {
    const n = Math.hypot(dx, dy);
    return [dx / n, dy / n];
  };
  return {
    png,
    panel: [primary.width, primary.height],
    east: unit(d / det, -c / det),
    north: unit(-b / det, a / det),
    arcsecPerPx: Math.sqrt(Math.abs(det)) * ARCSEC_PER_DEG,
  };
}

export function pageAlerts(
  alerts: ReceivedAlert[],
  latencies: number[],
  truth: TruthWithDetector[],
): PageAlert[] {
  return alerts.map((a, i) => {
    const m = matchAlert(a, truth);
    return {
      id: a.diaSourceId,
      obj: a.diaObjectId,
      visit: a.visit,
      det: a.detector,
      ra: a.ra,
      dec: a.dec,
      snr: a.snr,
      flux: a.psfFlux,
      fluxErr: a.psfFluxErr,
      mjd: a.mjd,
      rel: a.reliability,
      band: a.band,
      flags: a.flags,
      latency: latencies[i],
      truth: m ? `${m.kind} ${m.id}` : null,
      cause: m ? null : residualCause(a),
    };
  });
}

/** What the real changes missed above BRIGHT_MISS_SNR have in common, from the alerts of their neighbours. */
export function brightMissNote(report: NightReport, alerts: PageAlert[]): string {
  const bright = report.science.bySnr.filter((b) => b.lo >= BRIGHT_MISS_SNR);
  const expected = bright.reduce((n, b) => n + b.expected, 0);
  const found = bright.reduce((n, b) => n + b.found, 0);
  if (expected === 0) return `No real change above |SNR| ${BRIGHT_MISS_SNR} this night.`;
  const brightAlerts = alerts.filter(
    (a) => a.truth && a.snr !== null && Math.abs(a.snr) >= BRIGHT_MISS_SNR,
  );
  const saturated = brightAlerts.filter((a) =>
    a.flags.some((f) => f.startsWith('saturated')),
  ).length;
  return (
    `Above |SNR| ${BRIGHT_MISS_SNR}: ${found} of ${expected} real changes have an alert. Such sources reach the detector's ` +
    `saturation level in the science image: their saturated cores are masked (SATURATED), and detection and PSF photometry ` +
    `leave masked pixels out, so the brightest changes are found less often or with flagged measurements ` +
    `(${saturated} of the ${brightAlerts.length} alerts of real changes above |SNR| ${BRIGHT_MISS_SNR} carry a saturation flag).`
  );
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number | null | undefined, digits = 2) =>
  v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
/** JSON for a <script> element: no '</script>' can close it early. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

/** The example user filters: each one's expression, its matches, whether its stream received exactly them, what was dead-lettered instead; why the night stopped waiting. */
export function filterSection(r: Pick<NightReport, 'filters' | 'filtering'>): string {
  if (!r.filters?.length) return '';
  const rows = r.filters.map(
    (f) =>
      `<tr><td>${esc(f.name)}</td><td><code>${esc(f.where)}</code></td><td>${f.matched}</td><td>${f.received}</td><td>${f.duplicates}</td><td>${f.altered}</td><td>${f.deadLettered}</td><td>${f.missing ? `<b>${f.missing}</b>` : 0}</td><td>${f.exact ? 'yes' : '<b>NO</b>'}</td><td>${f.examples.map(esc).join(' ')}</td></tr>`,
  );
  const run = r.filtering;
  const reasons = new Map<string, number>();
  for (const d of run?.deadLetters ?? []) reasons.set(d.reason, (reasons.get(d.reason) ?? 0) + 1);
  const deadList = [...reasons].map(([reason, n]) => `<li>${n} x ${esc(reason)}</li>`).join('');
  const stopped = run
    ? `<p>filterAlerts finished ${run.handled} of ${run.alerts} alerts; ${run.deadLetters.length} dead letter(s)${deadList ? `:</p><ul>${deadList}</ul>` : '.</p>'}<p>The night stopped waiting for the filters: ${esc(run.stopped)}.</p>`
    : '';
  return `<h2>User filters</h2>
<p>Example filters of one user, one per capability of the filter language, run by the filtering service (filterAlerts) over the night's alerts; each filter's stream is its subscription on <code>filtered-alerts</code>. Matched: alerts the filter matches, evaluated in process over every alert of the night; received: distinct diaSourceIds its stream delivered, repeated deliveries, and messages whose bytes differ from the alert as published on <code>alerts</code>; dead-lettered: matches not received whose alert filterAlerts dead-lettered with a reason (<code>alerts-dead-letter</code>); missing: matches neither received nor dead-lettered.</p>
<table><tr><th>filter</th><th>expression</th><th>matched</th><th>received</th><th>repeats</th><th>altered</th><th>dead-lettered</th><th>missing</th><th>exactly its matches</th><th>examples (diaSourceId)</th></tr>${rows.join('')}</table>
${stopped}`;
}

/** Rejected inputs of a tile grouped by reason (numbers in reasons kept: they say by how much). */
function rejectedReasons(rejected: Array<{ file: string; reason: string }>): string {
  const counts = new Map<string, number>();
  for (const r of rejected) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  return [...counts.entries()].map(([reason, n]) => `${n} x ${esc(reason)}`).join('<br>');
}

/** The templates section: how the templates were made; per tile its state, TMPLID, inputs used and rejected (why), fill factor and build time; per band the fill factor. */
function templatesSection(r: NightReport): string {
  const t = r.templates;
  if (!t) return '';
  const rows = t.tiles.map((x) => {
    const rejected = x.rejected.filter((j) => j.reason !== '');
    return `<tr><td>${esc(x.band)}</td><td>${x.tile}${x.observed ? ' (observed)' : ''}</td><td>${esc(x.state)}</td><td>${esc(x.tmplId ?? '-')}</td><td>${x.candidates}</td><td>${x.inputs ?? '-'}</td><td>${rejected.length}</td><td>${rejectedReasons(rejected)}</td><td>${fmt(x.fillFactor, 3)}</td><td>${fmt(x.buildSeconds, 1)}</td></tr>`;
  });
  const bands = t.bands
    .map(
      (b) =>
        `band ${esc(b.band)}: ${b.frozen} of ${b.tiles} tiles, fill factor ${fmt(b.fillFactor, 3)}`,
    )
    .join('; ');
  const made = t.stage
    ? `Made before the night the way a survey makes them: ${t.stage.images} template-input images (${t.stage.inputs} earlier visits of each detector's field, dithered and rotated, with streaks and a transient in one of them) written to the raw bucket, offered by processImage (no template yet) to templateBuilder, which built and froze each tile's coadd; ${t.stage.frozen} of ${t.stage.tiles} observed tiles frozen in ${fmt(t.stage.seconds, 0)} s.`
    : 'Simulated deep templates put in the templates bucket directly (<code>--direct-templates</code>).';
  return `<h2>Templates</h2>
<p>${made} Fill factor: the fraction of each tile (HEALPix order 8) its template covers. ${bands}. Images without a template (no alerts, offered as template candidates): ${t.noTemplateImages}.</p>
<table><tr><th>band</th><th>tile</th><th>state</th><th>TMPLID</th><th>candidates</th><th>inputs used</th><th>rejected</th><th>why rejected</th><th>fill factor</th><th>build s</th></tr>${rows.join('')}</table>`;
}

export function nightPage(
  r: NightReport,
  received: ReceivedAlert[],
  alerts: PageAlert[],
  cutouts: Record<string, PageCutout>,
  truth: TruthWithDetector[],
): string {
  const s = r.science;
  const stageRows = STAGES.filter((k) => r.latency.stages[k]).map((k) => {
    const p = r.latency.stages[k];
    return `<tr><td>${esc(STAGE_LABELS[k])}</td><td>${p.n}</td><td>${fmt(p.p50)}</td><td>${fmt(p.p90)}</td><td>${fmt(p.max)}</td></tr>`;
  });
  const data = {
    alerts,
    cutouts,
    bySnr: s.bySnr,
    byKind: s.completeness.byKind,
    // Completeness against SNR for each class of real change, as for all of them.
    bySnrKind: Object.fromEntries(
      Object.keys(s.completeness.byKind).map((kind) => [
        kind,
        scienceFigures(
          received,
          truth.filter((t) => t.kind === kind),
        ).bySnr,
      ]),
    ),
    snrCut: s.snrCut,
    rbCut: s.afterRealBogus?.cut ?? null,
    completenessPerDetector: Object.fromEntries(
      r.night.detectors.map((d) => [
        d,
        scienceFigures(
          received.filter((a) => a.detector === d),
          truth.filter((t) => t.detector === d),
        ).completeness,
      ]),
    ),
    tripletGap: TRIPLET_GAP_PX,
    scaleBarArcsec: SCALE_BAR_ARCSEC,
  };
  const after = s.afterRealBogus;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Alert Production: simulated night</title>
<style>${PAGE_CSS}</style></head><body>
<h1>Simulated observing night</h1>
<p class="big">${r.night.visits} visits x ${r.night.detectors.length} detectors of ${r.night.size} x ${r.night.size} px: <b>${r.alerts.received}</b> alerts at the broker
(${r.alerts.duplicates} duplicates), readout to broker median <b>${fmt(r.latency.readoutToBroker.p50, 1)} s</b>, p90 ${fmt(r.latency.readoutToBroker.p90, 1)} s.<br>
Before the real/bogus cut: completeness <b>${fmt(s.completeness.value, 3)}</b> at |SNR| &ge; ${s.snrCut}, purity <b>${fmt(s.purity.value, 3)}</b>.
${after ? `After it (reliability &ge; ${after.cut}): completeness <b>${fmt(after.completeness, 3)}</b>, purity <b>${fmt(after.purity, 3)}</b>.` : 'No real/bogus cut (the alerts were not scored).'}</p>
<p class="hint">Plots: drag a box to zoom, double-click to reset; click a point or a row to open the alert.</p>
<div class="grid">
<section><h2>Completeness against expected SNR, by class</h2><div id="completeness" class="plot"></div><p id="bright-note">${esc(brightMissNote(r, alerts))}</p></section>
<section><h2>Reliability of real and bogus alerts</h2><div id="reliability" class="plot"></div></section>
<section><h2>Sky map</h2><div id="sky" class="plot"></div></section>
<section><h2>Readout to broker latency</h2><div id="latency" class="plot"></div></section>
</div>
<section id="details"><h2>Alert <span id="d-id">(click an alert)</span></h2><div class="row"><div id="d-text"></div><div id="d-cutout"></div></div><div id="lightcurve" class="plot"></div></section>
<h2>Per detector</h2><table id="detectors"></table>
<h2>Worst residuals, by likely cause</h2><p>Alerts with no real change within ${s.matchRadiusPx} px, grouped by their flags and shape; the highest |SNR| of each group first.</p><div id="residuals"></div>
<h2>Alerts</h2><p>Alerts with history (more than one detection of their object tonight) first, then by |SNR|; the first 300.</p><table id="alerts" class="click"></table>
<h2>Known solar-system objects</h2>
<p>The asteroids' orbits are the known-object catalogue (<code>orbits.csv</code> in the orbits bucket).
Of ${r.knownObjects.detected} asteroid detections with |expected SNR| &ge; ${r.knownObjects.snrCut}, ${r.knownObjects.associated} alerts carry their object's ssObjectId (${fmt(r.knownObjects.completeness, 3)}).
${r.knownObjects.wrongObject} of ${r.knownObjects.withSsObject} alerts with an ssObjectId name a wrong object (${fmt(r.knownObjects.wrongFraction, 5)} of all alerts);
${r.knownObjects.inDiaObjects} asteroid detections went into DIAObjects.
Prediction residuals (observed - predicted): p50 ${fmt(r.knownObjects.residualArcsec.p50, 3)}, p90 ${fmt(r.knownObjects.residualArcsec.p90, 3)}, max ${fmt(r.knownObjects.residualArcsec.max, 3)} arcsec.</p>
${filterSection(r)}
${templatesSection(r)}
<h2>Latency per stage (seconds, per image)</h2>
<table><tr><th>stage</th><th>n</th><th>p50</th><th>p90</th><th>max</th></tr>${stageRows.join('')}</table>
<p>Night wall time ${fmt(r.night.wallSeconds, 0)} s, ${r.night.cores} cores, processImage instances ${r.night.concurrency.processImage}, TF.js backend ${esc(r.night.tfBackend ?? '-')}, seed ${r.night.seed}. Dead letters: ${r.deadLetters.length}.</p>
<script type="application/json" id="night-data">${scriptJson(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

const PAGE_CSS = `
body { font: 15px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h2 { font-size: 18px; margin: 18px 0 6px; } .big { font-size: 18px; } .hint { color: #666; font-size: 13px; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(620px, 1fr)); gap: 12px 24px; }
.plot svg { display: block; user-select: none; } .plot text { font-size: 13px; fill: #222; }
table { border-collapse: collapse; margin: 6px 0 16px; font-size: 14px; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; } table.click tr[data-id] { cursor: pointer; } tr.sel { background: #fde9a8; }
.row { display: flex; gap: 24px; flex-wrap: wrap; } #d-cutout { position: relative; } #d-cutout img { image-rendering: pixelated; display: block; }
#d-cutout svg { position: absolute; left: 0; top: 0; } a.alert { cursor: pointer; color: #1f5fbf; margin-right: 8px; }
`;

/** The page's script: plots (SVG with zoom), tables and the alert panel, from the embedded JSON. */
const PAGE_SCRIPT = String.raw`
const D = JSON.parse(document.getElementById('night-data').textContent);
const NS = 'http://www.w3.org/2000/svg';
const byId = new Map(D.alerts.map((a) => [a.id, a]));
const COLORS = { real: '#1f77b4', bogus: '#d62728', transient: '#1f77b4', variable: '#2ca02c', moving: '#9467bd', all: '#444' };
const el = (tag, attrs = {}, text) => { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v); if (text !== undefined) e.textContent = text; return e; };
const f = (v, d = 2) => (v === null || v === undefined || !isFinite(v) ? '-' : Number(v).toFixed(d));

function ticks(lo, hi, log) {
  if (log) { const out = []; for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) for (const m of [1, 2, 5]) { const v = m * 10 ** e; if (v >= lo && v <= hi) out.push(v); } return out; }
  const step0 = (hi - lo) / 6, mag = 10 ** Math.floor(Math.log10(step0)), step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0);
  const out = []; for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v); return out;
}
/** A tick label with as many digits as the tick spacing needs. */
function label(v, step, log) {
  if (log) return Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3 ? v.toExponential(0) : String(+v.toPrecision(3));
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return Math.abs(v) >= 1e7 ? v.toExponential(Math.max(1, Math.ceil(Math.log10(Math.abs(v) / step)))) : v.toFixed(digits);
}

/** A scatter/step plot in SVG: series [{x, y, err?, color, label, mode: 'points'|'steps'|'lines', ids?}]. */
function plot(host, spec) {
  const W = 620, H = 380, m = { l: 78, r: 16, t: 12, b: 58 }, rows = spec.series.length;
  const all = (k) => spec.series.flatMap((s) => s[k]).filter((v) => isFinite(v) && (k !== 'x' || !spec.xlog || v > 0) && (k !== 'y' || !spec.ylog || v > 0));
  const span = (v, pad, log) => { let lo = Math.min(...v), hi = Math.max(...v); if (!isFinite(lo)) { lo = log ? 1 : 0; hi = log ? 10 : 1; } if (lo === hi) { lo -= log ? lo / 2 : 1; hi += log ? hi : 1; } if (log) return [lo / 1.3, hi * 1.3]; const p = (hi - lo) * pad; return [lo - p, hi + p]; };
  const home = { x: spec.xRange ?? span(all('x'), 0.04, spec.xlog), y: spec.yRange ?? span(all('y'), 0.06, spec.ylog) };
  let view = { x: [...home.x], y: [...home.y] };
  const svg = el('svg', { width: W, height: H + 20 * rows, viewBox: '0 0 ' + W + ' ' + (H + 20 * rows) });
  host.replaceChildren(svg);
  const tx = (v) => { const [a, b] = spec.xlog ? view.x.map(Math.log10) : view.x; const u = spec.xlog ? Math.log10(v) : v; return m.l + ((spec.xflip ? b - u : u - a) / (b - a)) * (W - m.l - m.r); };
  const ty = (v) => { const [a, b] = spec.ylog ? view.y.map(Math.log10) : view.y; const u = spec.ylog ? Math.log10(v) : v; return H - m.b - ((u - a) / (b - a)) * (H - m.t - m.b); };
  const inverse = (px, lo, hi, log, a0, a1, flip) => { const [a, b] = log ? [Math.log10(lo), Math.log10(hi)] : [lo, hi]; let t = (px - a0) / (a1 - a0); if (flip) t = 1 - t; const u = a + t * (b - a); return log ? 10 ** u : u; };
  function draw() {
    svg.replaceChildren();
    const clip = 'c' + Math.random().toString(36).slice(2);
    const defs = el('defs'); const cp = el('clipPath', { id: clip }); cp.append(el('rect', { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b })); defs.append(cp); svg.append(defs);
    svg.append(el('rect', { x: m.l, y: m.t, width: W - m.l - m.r, height: H - m.t - m.b, fill: '#fff', stroke: '#888' }));
    const xt = ticks(...view.x, spec.xlog), yt = ticks(...view.y, spec.ylog);
    for (const v of xt) { const x = tx(v); svg.append(el('line', { x1: x, x2: x, y1: m.t, y2: H - m.b, stroke: '#eee' }), el('text', { x, y: H - m.b + 18, 'text-anchor': 'middle' }, label(v, xt[1] - xt[0], spec.xlog))); }
    for (const v of yt) { const y = ty(v); svg.append(el('line', { x1: m.l, x2: W - m.r, y1: y, y2: y, stroke: '#eee' }), el('text', { x: m.l - 6, y: y + 4, 'text-anchor': 'end' }, label(v, yt[1] - yt[0], spec.ylog))); }
    svg.append(el('text', { x: (m.l + W - m.r) / 2, y: H - 22, 'text-anchor': 'middle' }, spec.xlabel));
    svg.append(el('text', { x: 14, y: (m.t + H - m.b) / 2, 'text-anchor': 'middle', transform: 'rotate(-90 14 ' + (m.t + H - m.b) / 2 + ')' }, spec.ylabel));
    const g = el('g', { 'clip-path': 'url(#' + clip + ')' }); svg.append(g);
    for (const v of spec.vlines ?? []) g.append(el('line', { x1: tx(v), x2: tx(v), y1: m.t, y2: H - m.b, stroke: '#999', 'stroke-dasharray': '4 3' }));
    spec.series.forEach((s, k) => {
      const pts = s.x.map((x, i) => [x, s.y[i], i]).filter(([x, y]) => isFinite(x) && isFinite(y) && (!spec.xlog || x > 0) && (!spec.ylog || y > 0));
      if (s.mode === 'steps' || s.mode === 'lines') {
        const d = pts.map(([x, y], i) => (i ? 'L' : 'M') + tx(x).toFixed(1) + ',' + ty(y).toFixed(1)).join('');
        g.append(el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2 }));
      }
      if (s.mode !== 'steps') for (const [x, y, i] of pts) {
        if (s.err) g.append(el('line', { x1: tx(x), x2: tx(x), y1: ty(y - s.err[i]), y2: ty(y + s.err[i]), stroke: s.color }));
        const c = el('circle', { cx: tx(x), cy: ty(y), r: s.r ?? 3.5, fill: s.color, 'fill-opacity': 0.75 });
        if (s.ids) { c.dataset.id = s.ids[i]; c.style.cursor = 'pointer'; c.addEventListener('click', () => select(s.ids[i])); c.append(el('title', {}, s.ids[i])); }
        g.append(c);
      }
      const lx = m.l, ly = H + 2 + 20 * k;
      svg.append(el('rect', { x: lx, y: ly, width: 14, height: 14, fill: s.color }), el('text', { x: lx + 20, y: ly + 12 }, s.label));
    });
  }
  let start = null; const box = el('rect', { fill: 'rgba(31,119,180,0.15)', stroke: '#1f77b4', 'pointer-events': 'none' });
  const at = (e) => { const r = svg.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  svg.addEventListener('mousedown', (e) => { if (e.target.tagName === 'circle') return; start = at(e); for (const k of ['width', 'height']) box.setAttribute(k, 0); svg.append(box); });
  svg.addEventListener('mousemove', (e) => { if (!start) return; const [x, y] = at(e); box.setAttribute('x', Math.min(x, start[0])); box.setAttribute('y', Math.min(y, start[1])); box.setAttribute('width', Math.abs(x - start[0])); box.setAttribute('height', Math.abs(y - start[1])); });
  svg.addEventListener('mouseup', (e) => {
    if (!start) return; const [x, y] = at(e); const s0 = start; start = null; box.remove();
    if (Math.abs(x - s0[0]) < 5 || Math.abs(y - s0[1]) < 5) return;
    const xs = [x, s0[0]].map((p) => inverse(p, ...view.x, spec.xlog, m.l, W - m.r, spec.xflip)).sort((a, b) => a - b);
    const ys = [y, s0[1]].map((p) => inverse(p, ...view.y, spec.ylog, H - m.b, m.t, false)).sort((a, b) => a - b);
    view = { x: xs, y: ys }; draw();
  });
  svg.addEventListener('dblclick', () => { view = { x: [...home.x], y: [...home.y] }; draw(); });
  draw();
}

function completeness() {
  const centre = (b) => (isFinite(b.hi) ? Math.sqrt(b.lo * b.hi) : b.lo * 1.5);
  const bins = D.bySnr.filter((b) => b.expected > 0);
  const series = [{ x: bins.map(centre), y: bins.map((b) => b.found / b.expected), err: bins.map((b) => Math.sqrt(Math.max(b.found * (b.expected - b.found), 1) / b.expected ** 3)), color: COLORS.all, label: 'all real changes', mode: 'lines' }];
  for (const [kind, all] of Object.entries(D.bySnrKind)) {
    const b = all.filter((x) => x.expected > 0), v = D.byKind[kind];
    series.push({ x: b.map(centre), y: b.map((x) => x.found / x.expected), color: COLORS[kind] ?? '#8c564b', label: kind + ' ' + v.found + '/' + v.expected + ' at |SNR| >= ' + D.snrCut, mode: 'lines', r: 3 });
  }
  plot(document.getElementById('completeness'), { series, xlabel: '|expected difference-image SNR|', ylabel: 'fraction with an alert', xlog: true, yRange: [0, 1.05], vlines: [D.snrCut] });
}

function histogram(values, lo, hi, n) { const w = (hi - lo) / n, c = new Array(n).fill(0); for (const v of values) if (v !== null && isFinite(v)) c[Math.min(n - 1, Math.max(0, Math.floor((v - lo) / w)))]++; const x = [], y = []; c.forEach((k, i) => { x.push(lo + i * w, lo + (i + 1) * w); y.push(k, k); }); return { x, y }; }

function reliability() {
  const real = histogram(D.alerts.filter((a) => a.truth).map((a) => a.rel), 0, 1, 20), bogus = histogram(D.alerts.filter((a) => !a.truth).map((a) => a.rel), 0, 1, 20);
  plot(document.getElementById('reliability'), { series: [{ ...real, color: COLORS.real, label: 'real (matches the truth)', mode: 'steps' }, { ...bogus, color: COLORS.bogus, label: 'bogus (no real change)', mode: 'steps' }], xlabel: 'reliability (real/bogus score)', ylabel: 'alerts', xRange: [0, 1], vlines: D.rbCut === null ? [] : [D.rbCut] });
}

function sky() {
  const part = (real) => D.alerts.filter((a) => !!a.truth === real);
  const s = (real) => ({ x: part(real).map((a) => a.ra), y: part(real).map((a) => a.dec), ids: part(real).map((a) => a.id), color: real ? COLORS.real : COLORS.bogus, label: real ? 'real' : 'bogus', mode: 'points', r: 3 });
  plot(document.getElementById('sky'), { series: [s(true), s(false)], xlabel: 'right ascension (deg, east to the left)', ylabel: 'declination (deg)', xflip: true });
}

function latency() {
  const v = D.alerts.map((a) => a.latency).filter(isFinite);
  plot(document.getElementById('latency'), { series: [{ ...histogram(v, 0, Math.max(1, ...v) * 1.02, 30), color: COLORS.all, label: 'alerts', mode: 'steps' }], xlabel: 'seconds from raw finalize to receipt at the broker', ylabel: 'alerts' });
}

function detectors() {
  const rows = [...new Set(D.alerts.map((a) => a.det))].sort((a, b) => a - b).map((det) => {
    const mine = D.alerts.filter((a) => a.det === det), confident = mine.filter((a) => a.snr !== null && Math.abs(a.snr) >= D.snrCut);
    const lat = mine.map((a) => a.latency).filter(isFinite).sort((a, b) => a - b);
    const c = D.completenessPerDetector[det];
    return '<tr><td>' + det + '</td><td>' + mine.length + '</td><td>' + confident.filter((a) => a.truth).length + ' / ' + confident.length + '</td><td>' + f(confident.filter((a) => a.truth).length / confident.length, 3) + '</td><td>' + (c ? c.found + ' / ' + c.expected + ' = ' + f(c.value, 3) : '-') + '</td><td>' + f(lat[Math.floor(lat.length / 2)], 1) + '</td><td>' + mine.filter((a) => a.flags.length).length + '</td></tr>';
  });
  document.getElementById('detectors').innerHTML = '<tr><th>detector</th><th>alerts</th><th>real / |SNR| &ge; ' + D.snrCut + '</th><th>purity</th><th>completeness (real changes |expected SNR| &ge; ' + D.snrCut + ')</th><th>median latency (s)</th><th>flagged</th></tr>' + rows.join('');
}

const link = (a) => '<a class="alert" data-id="' + a.id + '">' + a.id + ' (SNR ' + f(a.snr, 1) + ')</a>';
function residuals() {
  const groups = new Map();
  for (const a of D.alerts) if (a.cause) groups.set(a.cause, [...(groups.get(a.cause) ?? []), a]);
  const out = [...groups.entries()].sort((a, b) => b[1].length - a[1].length).map(([cause, list]) => '<p><b>' + cause + '</b>: ' + list.length + ' alerts. ' + list.sort((a, b) => Math.abs(b.snr ?? 0) - Math.abs(a.snr ?? 0)).slice(0, 6).map(link).join('') + '</p>');
  document.getElementById('residuals').innerHTML = out.join('') || '<p>None: every alert matches a real change.</p>';
}

function alertsTable() {
  const objects = new Map(); for (const a of D.alerts) objects.set(a.obj, (objects.get(a.obj) ?? 0) + 1);
  const rows = [...D.alerts].sort((a, b) => (objects.get(b.obj) > 1) - (objects.get(a.obj) > 1) || Math.abs(b.snr ?? 0) - Math.abs(a.snr ?? 0)).slice(0, 300);
  document.getElementById('alerts').innerHTML = '<tr><th>diaSourceId</th><th>object detections</th><th>visit</th><th>det</th><th>SNR</th><th>reliability</th><th>band</th><th>flags</th><th>truth</th></tr>' + rows.map((a) => '<tr data-id="' + a.id + '"><td>' + a.id + '</td><td>' + objects.get(a.obj) + '</td><td>' + a.visit + '</td><td>' + a.det + '</td><td>' + f(a.snr, 1) + '</td><td>' + f(a.rel, 3) + '</td><td>' + (a.band ?? '-') + '</td><td>' + a.flags.join(' ') + '</td><td>' + (a.truth ?? a.cause) + '</td></tr>').join('');
}

function cutout(id) {
  const c = D.cutouts[id], host = document.getElementById('d-cutout');
  if (!c) { host.innerHTML = '<p>Cutouts of this alert: <code>GET /v1/alerts/' + id + '</code> from the archive (the page carries those of the best, worst and history alerts).</p>'; return; }
  const scale = 6, [pw, ph] = c.panel, w = 3 * pw + 2 * D.tripletGap, img = new Image();
  img.src = c.png; img.width = w * scale; img.height = ph * scale; img.alt = 'science, template, difference';
  const svg = el('svg', { width: w * scale, height: ph * scale + 22, viewBox: '0 0 ' + w * scale + ' ' + (ph * scale + 22) });
  const arrow = (u, name, color) => { const x0 = 56, y0 = ph * scale - 56, L = 40, x1 = x0 + u[0] * L, y1 = y0 - u[1] * L; svg.append(el('line', { x1: x0, y1: y0, x2: x1, y2: y1, stroke: color, 'stroke-width': 2 }), el('text', { x: x1 + u[0] * 10 - 4, y: y1 - u[1] * 10 + 4, fill: color, style: 'font: bold 13px sans-serif' }, name)); };
  arrow(c.north, 'N', '#ffd400'); arrow(c.east, 'E', '#00e0ff');
  const bar = (D.scaleBarArcsec / c.arcsecPerPx) * scale;
  svg.append(el('line', { x1: pw * scale - 10 - bar, x2: pw * scale - 10, y1: ph * scale - 12, y2: ph * scale - 12, stroke: '#ffd400', 'stroke-width': 3 }), el('text', { x: pw * scale - 10 - bar, y: ph * scale - 18, fill: '#ffd400', style: 'font: bold 12px sans-serif' }, D.scaleBarArcsec + '"'));
  ['science', 'template', 'difference'].forEach((t, i) => svg.append(el('text', { x: (i * (pw + D.tripletGap) + pw / 2) * scale, y: ph * scale + 16, 'text-anchor': 'middle' }, t)));
  const note = document.createElement('p'); note.textContent = 'zscale + asinh stretch per panel; ' + f(c.arcsecPerPx, 3) + ' arcsec/px; north and east from the cutout WCS';
  host.replaceChildren(img, svg, note);
}

function select(id) {
  const a = byId.get(id); if (!a) return;
  document.querySelectorAll('tr.sel').forEach((r) => r.classList.remove('sel'));
  document.querySelectorAll('tr[data-id="' + id + '"]').forEach((r) => r.classList.add('sel'));
  document.getElementById('d-id').textContent = id;
  document.getElementById('d-text').innerHTML = '<table>' + [['object', a.obj], ['visit / detector', a.visit + ' / ' + a.det], ['RA, Dec (deg)', f(a.ra, 6) + ', ' + f(a.dec, 6)], ['SNR', f(a.snr, 1)], ['PSF flux (nJy)', f(a.flux, 1) + ' &plusmn; ' + f(a.fluxErr, 1)], ['reliability', f(a.rel, 3)], ['band', a.band ?? '-'], ['flags', a.flags.join(' ') || '-'], ['truth', a.truth ?? 'none: ' + a.cause]].map(([k, v]) => '<tr><td>' + k + '</td><td>' + v + '</td></tr>').join('') + '</table>';
  cutout(id);
  const pts = D.alerts.filter((b) => b.obj === a.obj).sort((p, q) => p.mjd - q.mjd);
  const s = (sel) => ({ x: pts.filter((p) => (p.id === id) === sel).map((p) => (p.mjd - pts[0].mjd) * 1440), y: pts.filter((p) => (p.id === id) === sel).map((p) => p.flux), err: pts.filter((p) => (p.id === id) === sel).map((p) => p.fluxErr ?? 0), ids: pts.filter((p) => (p.id === id) === sel).map((p) => p.id), color: sel ? COLORS.bogus : COLORS.real, label: sel ? 'this alert' : 'other detections of object ' + a.obj, mode: 'points', r: 5 });
  plot(document.getElementById('lightcurve'), { series: [s(false), s(true)], xlabel: 'minutes since the first detection tonight (MJD ' + f(pts[0].mjd, 5) + ')', ylabel: 'difference PSF flux (nJy)' });
  document.getElementById('details').scrollIntoView({ block: 'nearest' });
}

document.addEventListener('click', (e) => { const t = e.target.closest('[data-id]'); if (t && t.tagName !== 'circle') select(t.dataset.id); });
completeness(); reliability(); sky(); latency(); detectors(); residuals(); alertsTable();
`;
