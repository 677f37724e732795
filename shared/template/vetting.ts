/**
 * The vetting page of a template build: one self-contained HTML file an operator reads before
 * releasing the template: the coadd's preview and its coverage (inputs per pixel) map, the inputs
 * used and rejected with reasons, seeing and depth histograms, the half-split noise check, depth
 * against the ideal, timings.
 */
import { previewPng } from '../diffim/preview.js';
import { Plane, type ImageF } from '../image/plane.js';
import type { TemplateBuild } from './build.js';

/** Longest side of the preview images, px. */
const PREVIEW_SIDE = 700;

function binned(width: number, height: number, value: (x: number, y: number) => number): ImageF {
  const f = Math.max(1, Math.ceil(Math.max(width, height) / PREVIEW_SIDE));
  const w = Math.ceil(width / f);
  const h = Math.ceil(height / f);
  const out = Plane.zeros(Float32Array, w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      let n = 0;
      for (let dy = 0; dy < f && y * f + dy < height; dy++) {
        for (let dx = 0; dx < f && x * f + dx < width; dx++) {
          const v = value(x * f + dx, y * f + dy);
          if (Number.isFinite(v)) {
            s += v;
            n++;
          }
        }
      }
      out.set(x, y, n ? s / n : Number.NaN);
    }
  }
  return out;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '–');

/** A histogram as inline SVG bars: used inputs dark, rejected light. */
function histogram(title: string, unit: string, used: number[], rejected: number[]): string {
  const all = [...used, ...rejected].filter(Number.isFinite);
  if (all.length === 0) return '';
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const bins = 12;
  const width = (hi - lo) / bins || 1;
  const count = (vs: number[]) => {
    const c = new Array<number>(bins).fill(0);
    for (const v of vs)
      if (Number.isFinite(v)) c[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
    return c;
  };
  const u = count(used);
  const r = count(rejected);
  const top = Math.max(1, ...u.map((v, i) => v + r[i]));
  const bars = u
    .map((v, i) => {
      const x = 30 + i * 25;
      const hu = (v / top) * 100;
      const hr = (r[i] / top) * 100;
      return `<rect x="${x}" y="${120 - hu}" width="22" height="${hu}" fill="#335"/><rect x="${x}" y="${120 - hu - hr}" width="22" height="${hr}" fill="#bbc"/>`;
    })
    .join('');
  return `<figure><svg width="340" height="150" role="img" aria-label="${esc(title)}">${bars}<text x="30" y="140" font-size="11">${fmt(lo)}</text><text x="300" y="140" font-size="11">${fmt(hi)}</text></svg><figcaption>${esc(title)} (${esc(unit)}); dark: used, light: rejected</figcaption></figure>`;
}

export function vettingHtml(build: TemplateBuild): string {
  const { exposure, count } = build;
  const { width, height } = exposure;
  const image = binned(width, height, (x, y) => exposure.image.get(x, y));
  const coverage = binned(width, height, (x, y) => count[y * width + x]);
  const png = previewPng([image, coverage]).toString('base64');
  const used = build.inputs.filter((r) => r.used);
  const rejected = build.inputs.filter((r) => !r.used);
  const rows = build.inputs
    .map(
      (r) =>
        `<tr class="${r.used ? 'used' : 'rejected'}"><td>${esc(r.file)}</td><td>${r.visit}</td><td>${r.used ? 'used' : 'rejected'}</td><td>${esc(r.reason)}</td><td>${fmt(r.weight, 3)}</td><td>${fmt(r.fwhmArcsec)}</td><td>${fmt(r.ellipticity)}</td><td>${fmt(r.depthMag)}</td><td>${fmt(r.zeroPoint, 3)} (${esc(r.zeroPointSource)})</td><td>${fmt(r.wcsRmsArcsec, 3)}</td><td>${fmt(r.psfChi2)}</td><td>${fmt(r.coverage, 3)}</td><td>${fmt(100 * r.rejectedFraction)} %</td></tr>`,
    )
    .join('\n');
  const depthRatio = 10 ** (0.4 * (build.idealDepthMag - build.depthMag));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Template ${esc(build.tmplId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccd;padding:2px 6px}tr.rejected{color:#777}figure{display:inline-block;margin:0 2em 1em 0}img{max-width:100%;image-rendering:pixelated}</style></head>
<body>
<h1>Template ${esc(build.tmplId)}</h1>
<p>Band ${esc(build.band)}, grid ${esc(build.grid.name)} (${width} x ${height} px), version ${build.version}, configuration ${esc(build.configHash)}.
${used.length} inputs used, ${rejected.length} rejected. Zero point ${fmt(build.zeroPoint, 3)} (AB mag of 1 ADU); coverage ${fmt(100 * build.coverage, 1)} % of the grid.</p>
<h2>Checks</h2>
<ul>
<li>Depth (5 sigma point source at the centre): ${fmt(build.depthMag)} mag; ideal inverse-variance sum of the used inputs ${fmt(build.idealDepthMag)} mag; flux noise ratio ${fmt(depthRatio, 3)} (1 is ideal).</li>
<li>Half-split noise: robust sigma of (even-numbered half - odd-numbered half) / expected sigma = ${fmt(build.halfSplitSigma, 3)} (1 when VARIANCE is right and the halves agree).</li>
<li>CoaddPsf fit: largest residual ${fmt(100 * build.coaddPsfMaxResidual, 1)} % of the peak over the lattice nodes (large values: coverage edges, where the inputs covering change).</li>
<li>Build time ${fmt(build.timingsMs.total / 1000, 1)} s (${Object.entries(build.timingsMs)
    .map(([k, v]) => `${k} ${fmt(v / 1000, 1)} s`)
    .join(', ')}).</li>
</ul>
<h2>Coadd and coverage</h2>
<figure><img alt="the coadd (zscale, asinh) and the number of inputs used per pixel" src="data:image/png;base64,${png}"><figcaption>Left: the coadd (zscale, asinh). Right: inputs used per pixel (white: all ${used.length}).</figcaption></figure>
<h2>Inputs</h2>
${histogram(
  'Seeing, PSF FWHM',
  'arcsec',
  used.map((r) => r.fwhmArcsec),
  rejected.map((r) => r.fwhmArcsec),
)}
${histogram(
  'Depth, 5 sigma point source',
  'AB mag',
  used.map((r) => r.depthMag),
  rejected.map((r) => r.depthMag),
)}
<table><thead><tr><th>file</th><th>visit</th><th>status</th><th>reason</th><th>weight</th><th>FWHM ["]</th><th>ellipticity</th><th>depth [mag]</th><th>zero point</th><th>astrometric rms ["]</th><th>PSF chi2/dof</th><th>coverage</th><th>rejected pixels</th></tr></thead>
<tbody>
${rows}
</tbody></table>
</body></html>
`;
}
