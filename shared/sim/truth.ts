/**
 * The truth table: one row per injected change per science visit, and its CSV form (`truth.csv`).
 */
import type { Psf } from '../psf/types.js';
import type { ImageF } from '../image/plane.js';
import type { Wcs } from '../wcs/types.js';

export type TruthKind =
  'transient' | 'variable' | 'moving' | 'cosmic_ray' | 'hot_pixel' | 'bad_column' | 'streak';

export interface TruthRow {
  /** Science visit (VISIT card) the row belongs to. */
  visit: number;
  kind: TruthKind;
  /** Id within its kind: the same transient, variable or asteroid keeps its id across visits. */
  id: number;
  /** 0-based science pixel position (a streak: its point nearest the image centre; a cosmic ray: its charge centroid). */
  x: number;
  y: number;
  /** Sky position, degrees. */
  ra: number;
  dec: number;
  /** Flux in the science image, ADU (a streak: over its length in the image; artifacts: deposited charge over gain). */
  fluxScienceAdu: number;
  /** Flux in the template, converted to the science image's photometric scale, ADU. */
  fluxTemplateAdu: number;
  /** fluxScienceAdu - fluxTemplateAdu. */
  deltaFluxAdu: number;
  /** Expected difference-image PSF-fit SNR (see expectedSnr); NaN for artifacts. */
  expectedSnr: number;
  /** 1 when a transient sits on a host galaxy. */
  host: 0 | 1;
  /** Science visit MJD (TAI). */
  mjd: number;
}

/** What the expected-SNR computation needs from the science image and the template. */
export interface SnrContext {
  sciencePsf: Psf;
  scienceVariance: ImageF;
  scienceWcs: Wcs;
  templateVariance: ImageF;
  templateWcs: Wcs;
  /** Template ADU -> science ADU: 10^(0.4 (PHOTZP_science - PHOTZP_template)). */
  templateScale: number;
}

/**
 * Expected SNR of a change of `deltaFlux` (science ADU) at science pixel (x, y) in the difference
 * image, measured by a PSF fit (matched filter) with the science PSF:
 *
 *   sigma = 1 / sqrt( sum_i psf_i^2 / var_i ),   var_i = V_sci,i + s^2 V_tmpl,i,   SNR = deltaFlux / sigma
 *
 * over the pixels i of the science PSF stamp at (x, y) (normalised to 1, sub-pixel phase kept),
 * where V_sci is the true science variance (sky, sources and read noise, ADU^2), V_tmpl the true
 * template variance at the same sky position (the nearest template pixel to each science pixel)
 * and s the template-to-science photometric scale. This is the noise of a matched filter on a
 * difference whose template noise enters pixel for pixel (resampled, scaled, not smoothed); a
 * PSF-matching kernel that smooths the template noise lowers the template term, so the value is
 * a slight underestimate of what optimal differencing (ZOGY) reaches when the template is deep.
 * Returns NaN if the template does not cover the position.
 */
export function expectedSnr(ctx: SnrContext, x: number, y: number, deltaFlux: number): number {
  const stamp = ctx.sciencePsf.stampAt(x, y);
  const half = (stamp.size - 1) / 2;
  const cx = Math.round(x);
  const cy = Math.round(y);
  const sky = ctx.scienceWcs.pixelToSky({ x: Float64Array.of(x), y: Float64Array.of(y) });
  const t = ctx.templateWcs.skyToPixel(sky);
  const tx = t.x[0];
  const ty = t.y[0];
  const sv = ctx.scienceVariance;
  const tv = ctx.templateVariance;
  if (!(tx >= 0 && ty >= 0 && tx <= tv.width - 1 && ty <= tv.height - 1)) return Number.NaN;
  const s2 = ctx.templateScale * ctx.templateScale;
  let information = 0;
  for (let j = 0; j < stamp.size; j++) {
    const py = cy - half + j;
    if (py < 0 || py >= sv.height) continue;
    const ty2 = Math.round(ty + (py - y));
    for (let i = 0; i < stamp.size; i++) {
      const px = cx - half + i;
      if (px < 0 || px >= sv.width) continue;
      const tx2 = Math.round(tx + (px - x));
      const tVar =
        tx2 >= 0 && ty2 >= 0 && tx2 < tv.width && ty2 < tv.height
          ? tv.get(tx2, ty2)
          : tv.get(Math.round(tx), Math.round(ty));
      const psf = stamp.data[j * stamp.size + i];
      information += (psf * psf) / (sv.get(px, py) + s2 * tVar);
    }
  }
  return deltaFlux * Math.sqrt(information);
}

export const TRUTH_COLUMNS = [
  'visit',
  'kind',
  'id',
  'x',
  'y',
  'ra',
  'dec',
  'flux_science_adu',
  'flux_template_adu',
  'delta_flux_adu',
  'expected_snr',
  'host',
  'mjd',
] as const;

function cell(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'NaN';
}

/** truth.csv: a header row, then one line per row; NaN written as 'NaN'. */
export function truthToCsv(rows: readonly TruthRow[]): string {
  const lines = [TRUTH_COLUMNS.join(',')];
  for (const r of rows) {
    lines.push(
      [
        r.visit,
        r.kind,
        r.id,
        cell(r.x, 3),
        cell(r.y, 3),
        cell(r.ra, 8),
        cell(r.dec, 8),
        cell(r.fluxScienceAdu, 3),
        cell(r.fluxTemplateAdu, 3),
        cell(r.deltaFluxAdu, 3),
        cell(r.expectedSnr, 3),
        r.host,
        cell(r.mjd, 6),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Parses truth.csv back into rows (for tests and tools that read the simulator's output). */
export function truthFromCsv(text: string): TruthRow[] {
  const [header, ...lines] = text.trim().split('\n');
  if (header !== TRUTH_COLUMNS.join(','))
    throw new Error(`truth.csv: unexpected header '${header}'`);
  return lines.map((line) => {
    const c = line.split(',');
    return {
      visit: Number(c[0]),
      kind: c[1] as TruthKind,
      id: Number(c[2]),
      x: Number(c[3]),
      y: Number(c[4]),
      ra: Number(c[5]),
      dec: Number(c[6]),
      fluxScienceAdu: Number(c[7]),
      fluxTemplateAdu: Number(c[8]),
      deltaFluxAdu: Number(c[9]),
      expectedSnr: Number(c[10]),
      host: c[11] === '1' ? 1 : 0,
      mjd: Number(c[12]),
    };
  });
}
