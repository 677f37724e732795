/**
 * buildTemplate: calibrated single visits -> a coadded template on one grid (see README.md):
 * checks (band, WCS, data, overlap), characterization and quality (measure.ts), zero points (header,
 * else matched stars), selection (select.ts), warping (shared/warp), scaling to one zero point,
 * inverse-variance weights, rejection and stacking (stack.ts), CoaddPsf (coadd-psf.ts).
 */
import { createHash } from 'node:crypto';
import { characterizeImageAsync } from '../characterize/characterize-async.js';
import type { CharacterizeResult } from '../characterize/characterize.js';
import { Exposure } from '../image/exposure.js';
import { MaskPlane } from '../image/mask.js';
import { Plane } from '../image/plane.js';
import { emptyVisitInfo } from '../image/visit-info.js';
import { FWHM_PER_SIGMA } from '../util/numeric.js';
import { madSigma, median } from '../util/stats.js';
import type { WorkerPool } from '../util/worker-pool.js';
import { InsufficientCoverageError, warpExposure } from '../warp/index.js';
import { resolveTemplateConfig, type TemplateConfig } from './config.js';
import { fitCoaddPsf } from './coadd-psf.js';
import {
  centreOf,
  cropGrid,
  footprintBox,
  tileGrid,
  tileOfCentre,
  type OutputGrid,
  type PixelBox,
} from './grid.js';
import type { InputRow } from './inputs-table.js';
import { magnitude, measureQuality, psfFluxVariance, type InputQuality } from './measure.js';
import { relativeZeroPoint } from './scale.js';
import { selectInputs } from './select.js';
import { stackInputs, type StackInput } from './stack.js';

/** One input offered: its name, the exposure as read, and what its header says beyond VisitInfo. */
export interface TemplateInput {
  name: string;
  exposure: Exposure;
  /** Astrometric fit rms from the header, arcsec (NaN: not given). */
  wcsRmsArcsec?: number;
  /** A content identity (e.g. a hash of the file) for TMPLID; the name when absent. */
  id?: string;
}

export interface BuildOptions {
  /** Output grid; else the grid of `tile`; else of the tile holding the inputs' centre (cropped to the inputs). */
  grid?: OutputGrid;
  tile?: number;
  /** Only inputs of this band are used; default the most common band of the inputs. */
  band?: string;
  config?: Partial<TemplateConfig>;
  /** Version number in TMPLID (a release makes the next one). Default 1. */
  version?: number;
  /** Inputs that could not even be read, with the reason (listed as rejected). */
  unreadable?: Array<{ name: string; reason: string }>;
  /** Worker threads for characterization, warping and stacking (null: this thread only). */
  pool?: WorkerPool | null;
  onProgress?: (message: string) => void;
}

export interface TemplateBuild {
  /** The coadd: IMAGE, MASK, VARIANCE on the grid, WCS, PSF (CoaddPsf fit), info (band, zero point, mean MJD), noise correlation. */
  exposure: Exposure;
  grid: OutputGrid;
  band: string;
  tmplId: string;
  version: number;
  zeroPoint: number;
  inputs: InputRow[];
  nUsed: number;
  /** Inputs used at each pixel. */
  count: Uint8Array;
  /** 5-sigma point-source depth at the centre of the covered area, AB mag: of the coadd, and the ideal inverse-variance sum of the used inputs. */
  depthMag: number;
  idealDepthMag: number;
  /** Fraction of the grid with data. */
  coverage: number;
  coaddPsfMaxResidual: number;
  /**
   * Robust sigma of (half coadd A - half coadd B) / its sigma from the inputs' VARIANCE, per pixel (A:
   * the even-numbered used inputs, B: the odd): 1 when the variance is right and nothing differs.
   */
  halfSplitSigma: number;
  /** Hash of the resolved configuration (TMPLCFG). */
  configHash: string;
  timingsMs: Record<'characterize' | 'warp' | 'rejection' | 'stack' | 'psf' | 'total', number>;
}

/** Fewer usable inputs than config.minInputs; `inputs` says what became of each. */
export class NotEnoughInputsError extends Error {
  constructor(
    readonly used: number,
    readonly minimum: number,
    readonly inputs: InputRow[],
  ) {
    const reasons = inputs
      .filter((r) => !r.used && r.reason !== '')
      .map((r) => `${r.file}: ${r.reason}`);
    super(
      `not enough inputs: ${used} usable of ${inputs.length}, at least ${minimum} needed${reasons.length ? ` (${reasons.join('; ')})` : ''}`,
    );
    this.name = 'NotEnoughInputsError';
  }
}

interface Candidate {
  input: TemplateInput;
  row: InputRow;
  box: PixelBox;
  characterization?: CharacterizeResult;
  quality?: InputQuality;
  zeroPoint: number;
  instrument: string;
}

function emptyRow(name: string, reason: string): InputRow {
  return {
    file: name,
    visit: 0,
    detector: 0,
    mjd: Number.NaN,
    used: false,
    reason,
    weight: 0,
    fwhmArcsec: Number.NaN,
    ellipticity: Number.NaN,
    depthMag: Number.NaN,
    skyAdu: Number.NaN,
    zeroPoint: Number.NaN,
    zeroPointSource: 'none',
    wcsRmsArcsec: Number.NaN,
    psfChi2: Number.NaN,
    psfStars: 0,
    coverage: 0,
    rejectedFraction: 0,
  };
}

function hasFinitePixel(e: Exposure): boolean {
  for (let y = 0; y < e.height; y++)
    for (const v of e.image.row(y)) if (Number.isFinite(v)) return true;
  return false;
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return (
    [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? ''
  );
}

/** The output grid; null when none is given and no input has a WCS to choose a tile by. */
function chooseGrid(
  inputs: TemplateInput[],
  options: BuildOptions,
  cfg: TemplateConfig,
): OutputGrid | null {
  if (options.grid) return options.grid;
  const withWcs = inputs.filter((i) => i.exposure.wcs);
  if (withWcs.length === 0 && options.tile === undefined) return null;
  const scales = withWcs.map(
    (i) => i.exposure.wcs!.jacobian(i.exposure.width / 2, i.exposure.height / 2).pixelScaleArcsec,
  );
  const scale = Number.isNaN(cfg.tilePixelScaleArcsec)
    ? scales.length
      ? median(scales)
      : 0.2
    : cfg.tilePixelScaleArcsec;
  const tile =
    options.tile ??
    tileOfCentre(
      withWcs.map((i) => centreOf(i.exposure.wcs!, i.exposure.width, i.exposure.height)),
    );
  const full = tileGrid(tile, scale, cfg.tileMarginDeg);
  const boxes = withWcs
    .map((i) => footprintBox(i.exposure.wcs!, i.exposure.width, i.exposure.height, full))
    .filter(
      (b) =>
        b.x1 > Math.max(0, b.x0) &&
        b.y1 > Math.max(0, b.y0) &&
        b.x0 < full.width &&
        b.y0 < full.height,
    );
  if (boxes.length === 0) return full;
  return cropGrid(full, {
    x0: Math.min(...boxes.map((b) => b.x0)),
    y0: Math.min(...boxes.map((b) => b.y0)),
    x1: Math.max(...boxes.map((b) => b.x1)),
    y1: Math.max(...boxes.map((b) => b.y1)),
  });
}

/** Fraction of the input's own footprint box that falls on the grid. */
function ownOverlap(box: PixelBox, grid: OutputGrid): number {
  const area = Math.max(0, box.x1 - box.x0) * Math.max(0, box.y1 - box.y0);
  const w = Math.max(0, Math.min(grid.width, box.x1) - Math.max(0, box.x0));
  const h = Math.max(0, Math.min(grid.height, box.y1) - Math.max(0, box.y0));
  return area > 0 ? (w * h) / area : 0;
}

/** Checks that need no characterization (an input of another band, or far away, does not choose the grid); the reason an input cannot be used, or null. */
function basicReason(
  input: TemplateInput,
  band: string,
  grid: OutputGrid,
  cfg: TemplateConfig,
): { reason: string | null; box: PixelBox } {
  const e = input.exposure;
  const none = { x0: 0, y0: 0, x1: 0, y1: 0 };
  if (e.info.band !== band)
    return { reason: `band '${e.info.band || 'unknown'}', not '${band}'`, box: none };
  if (!e.wcs) return { reason: 'no celestial WCS', box: none };
  if (e.width === 0 || e.height === 0 || !hasFinitePixel(e))
    return { reason: 'no finite pixel', box: none };
  const box = footprintBox(e.wcs, e.width, e.height, grid);
  const overlap = ownOverlap(box, grid);
  if (!(overlap >= cfg.minOverlapFraction) || overlap === 0)
    return {
      reason: `no overlap with the output grid ${grid.name} (${(100 * overlap).toFixed(1)} % of the input on it)`,
      box,
    };
  return { reason: null, box };
}

const CHARACTERIZE_LANES = 2;

async function characterizeAll(
  cands: Candidate[],
  pool: WorkerPool | null,
  progress: (m: string) => void,
): Promise<void> {
  let next = 0;
  let done = 0;
  const lane = async (useWorker: boolean) => {
    for (let k = next++; k < cands.length; k = next++) {
      const c = cands[k];
      try {
        const ch = await characterizeImageAsync(c.input.exposure, {}, useWorker ? pool : null);
        if (ch.psf.nStars === 0)
          throw new Error('no star to measure its PSF on (blank, clouded or unfocused?)');
        c.characterization = ch;
        c.quality = measureQuality(c.input.exposure, ch, c.input.wcsRmsArcsec ?? Number.NaN);
      } catch (err) {
        c.row.reason = `characterization failed: ${(err as Error).message}`;
      }
      progress(`characterized ${++done}/${cands.length}`);
      // Yield so the other lane can start its next image.
      await new Promise((r) => setImmediate(r));
    }
  };
  const lanes =
    pool && pool.size > 0
      ? [lane(true), ...Array.from({ length: CHARACTERIZE_LANES - 1 }, () => lane(false))]
      : [lane(false)];
  await Promise.all(lanes);
}

/** Zero points: the header's, else matched stars against the input with a zero point and the most PSF stars. */
function resolveZeroPoints(cands: Candidate[], cfg: TemplateConfig): void {
  const withZp = cands.filter(
    (c) => c.characterization && Number.isFinite(c.input.exposure.info.zeroPoint),
  );
  for (const c of withZp) {
    c.zeroPoint = c.input.exposure.info.zeroPoint;
    c.row.zeroPointSource = 'header';
  }
  const reference = withZp.sort(
    (a, b) => (b.quality?.psfStars ?? 0) - (a.quality?.psfStars ?? 0),
  )[0];
  for (const c of cands) {
    if (!c.characterization || c.row.zeroPointSource === 'header') continue;
    if (!reference?.characterization) {
      c.row.reason = 'no zero point (PHOTZP/MAGZERO) and no other input with one to scale it to';
      continue;
    }
    const rel = relativeZeroPoint(
      { wcs: c.input.exposure.wcs!, stars: c.characterization.psf.stars },
      { wcs: reference.input.exposure.wcs!, stars: reference.characterization.psf.stars },
      reference.zeroPoint,
      cfg.matchRadiusArcsec / (reference.quality?.pixelScaleArcsec ?? 1),
    );
    if (rel.matched < cfg.minMatchedStars || !Number.isFinite(rel.zeroPoint)) {
      c.row.reason = `no zero point (PHOTZP/MAGZERO) and ${rel.matched} stars matched to ${reference.input.name} (minMatchedStars ${cfg.minMatchedStars})`;
      continue;
    }
    c.zeroPoint = rel.zeroPoint;
    c.row.zeroPointSource = 'stars';
  }
}

function fillQualityRow(c: Candidate): void {
  const q = c.quality;
  if (!q) return;
  Object.assign(c.row, {
    fwhmArcsec: q.fwhmArcsec,
    ellipticity: q.ellipticity,
    skyAdu: q.skyAdu,
    wcsRmsArcsec: q.wcsRmsArcsec,
    psfChi2: q.psfChi2,
    psfStars: q.psfStars,
    zeroPoint: c.zeroPoint,
    depthMag: Number.isFinite(c.zeroPoint) ? magnitude(q.depthAdu, c.zeroPoint) : Number.NaN,
  });
}

function hashOf(value: unknown): string {
  return createHash('sha256')
    .update(
      JSON.stringify(value, (_k, v: unknown) =>
        typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
      ),
    )
    .digest('hex');
}

/** MAD sigma of the finite values of a plane (subsampled). */
function robustSigma(values: Float32Array): number {
  const step = Math.max(1, Math.floor(values.length / 200000));
  const sample: number[] = [];
  for (let p = 0; p < values.length; p += step) if (values[p] === values[p]) sample.push(values[p]);
  return sample.length > 10 ? madSigma(sample) : Number.NaN;
}

/** Median of the finite, covered values of a plane (subsampled); with `count` and `all`, of the pixels where all inputs were used. */
function coveredMedian(
  values: Float32Array,
  mask: Int32Array,
  count?: Uint8Array,
  all?: number,
): number {
  const step = Math.max(1, Math.floor(values.length / 100000));
  const sample: number[] = [];
  for (let p = 0; p < values.length; p += step)
    if (!(mask[p] & MaskPlane.NO_DATA) && values[p] > 0 && (!count || count[p] === all))
      sample.push(values[p]);
  return sample.length ? median(sample) : Number.NaN;
}

/**
 * Builds a template from `inputs` (their exposures are characterized in place, and released once
 * warped, to bound memory); throws NotEnoughInputsError when fewer than minInputs are usable,
 * RangeError for a bad config.
 */
export async function buildTemplate(
  inputs: TemplateInput[],
  options: BuildOptions = {},
): Promise<TemplateBuild> {
  const cfg = resolveTemplateConfig(options.config);
  const pool = options.pool ?? null;
  const progress = options.onProgress ?? (() => {});
  const start = performance.now();
  const band =
    options.band ?? mostCommon(inputs.map((i) => i.exposure.info.band).filter((b) => b !== ''));
  const grid = chooseGrid(
    inputs.filter((i) => i.exposure.info.band === band),
    options,
    cfg,
  );
  const rows: InputRow[] = (options.unreadable ?? []).map((u) => emptyRow(u.name, u.reason));
  const cands: Candidate[] = [];
  for (const input of inputs) {
    const row = emptyRow(input.name, '');
    Object.assign(row, {
      visit: input.exposure.info.visit,
      detector: input.exposure.info.detector,
      mjd: input.exposure.info.mjd,
    });
    rows.push(row);
    if (!grid) {
      row.reason =
        input.exposure.info.band !== band
          ? `band '${input.exposure.info.band || 'unknown'}', not '${band}'`
          : 'no celestial WCS';
      continue;
    }
    const { reason, box } = basicReason(input, band, grid, cfg);
    if (reason) row.reason = reason;
    else
      cands.push({
        input,
        row,
        box,
        zeroPoint: Number.NaN,
        instrument: input.exposure.info.instrument,
      });
  }
  if (!grid) throw new NotEnoughInputsError(0, cfg.minInputs, rows);
  const tChar = performance.now();
  await characterizeAll(cands, pool, progress);
  resolveZeroPoints(cands, cfg);
  const usable = cands.filter((c) => c.quality && c.row.reason === '');
  usable.forEach(fillQualityRow);
  const verdicts = selectInputs(
    usable.map((c) => ({ quality: c.quality!, zeroPoint: c.zeroPoint })),
    cfg,
  );
  usable.forEach((c, i) => (c.row.reason = verdicts[i] ?? ''));
  let selected = usable.filter((c) => c.row.reason === '');
  const characterizeMs = performance.now() - tChar;
  if (selected.length < cfg.minInputs)
    throw new NotEnoughInputsError(selected.length, cfg.minInputs, rows);

  const zeroPoint = Number.isNaN(cfg.zeroPoint)
    ? median(selected.map((c) => c.zeroPoint))
    : cfg.zeroPoint;
  const tWarp = performance.now();
  const stack: Array<StackInput & { cand: Candidate; scale: number }> = [];
  for (const c of selected) {
    progress(`warping ${stack.length + 1}/${selected.length}`);
    try {
      const warped = await warpExposure(
        c.input.exposure,
        { width: grid.width, height: grid.height, wcs: grid.wcs },
        // This thread also prepares each input (shared copies, mask growth): it resamples one band, each worker two.
        { minCoverageFraction: 1e-9, threads: pool && pool.size > 0 ? 2 * pool.size + 1 : 0 },
        pool,
      );
      const e = warped.exposure;
      const s = 10 ** (0.4 * (zeroPoint - c.zeroPoint));
      const image = e.image.data;
      const variance = e.variance.data;
      for (let p = 0; p < image.length; p++) {
        image[p] *= s;
        variance[p] *= s * s;
      }
      c.row.coverage = warped.coverageFraction;
      // 'depth': the inverse variance of a point source's flux in the input; 'variance': the inverse
      // variance at PSF scales (the per-pixel plane over the resampling's covarianceFactor).
      const fluxSigma = (c.quality!.depthAdu / 5) * s;
      const pixelVariance = coveredMedian(variance, e.mask.data);
      const weight =
        cfg.weighting === 'depth'
          ? 1 / (fluxSigma * fluxSigma)
          : warped.covarianceFactor / pixelVariance;
      const gridScale = grid.wcs.jacobian(grid.width / 2, grid.height / 2).pixelScaleArcsec;
      stack.push({
        image,
        variance,
        mask: e.mask.data,
        weight,
        pixelVariance,
        fwhmPx: c.quality!.fwhmArcsec / gridScale,
        noiseCorrelation: e.noiseCorrelation,
        // Characterization set every input's PSF model; the warp carries it (WarpedPsf).
        psf: e.psf!,
        cand: c,
        scale: s,
      });
    } catch (err) {
      if (!(err instanceof InsufficientCoverageError)) throw err;
      c.row.reason = `no overlap with the output grid ${grid.name} after warping`;
    }
    // The input's own pixels are no longer needed.
    c.input.exposure = Exposure.blank(0, 0);
  }
  selected = selected.filter((c) => c.row.reason === '');
  if (selected.length < cfg.minInputs)
    throw new NotEnoughInputsError(selected.length, cfg.minInputs, rows);
  const warpMs = performance.now() - tWarp;

  progress('rejecting and stacking');
  const out = await stackInputs(grid.width, grid.height, stack, cfg, pool);
  const totalWeight = stack.reduce((s, x) => s + x.weight, 0);
  stack.forEach((s, i) => {
    s.cand.row.used = true;
    s.cand.row.weight = s.weight / totalWeight;
    s.cand.row.rejectedFraction = out.rejectedFraction[i];
  });

  const tPsf = performance.now();
  const { width, height } = grid;
  const coadd = fitCoaddPsf(
    stack.map((s) => ({
      psf: s.psf,
      weight: s.weight,
      moment: (s.fwhmPx / FWHM_PER_SIGMA) ** 2,
      covers: (x: number, y: number) => {
        const p = Math.round(y) * width + Math.round(x);
        return p >= 0 && p < s.mask.length && !(s.mask[p] & MaskPlane.NO_DATA);
      },
    })),
    width,
    height,
    cfg.coaddPsfDegree,
    cfg.coaddPsfGrid,
    out.targetMoment,
  );
  const psfMs = performance.now() - tPsf;

  const used = stack.map((s) => s.cand);
  const info = emptyVisitInfo();
  info.band = band;
  info.zeroPoint = zeroPoint;
  info.mjd = stack.reduce((s, x) => s + (x.weight / totalWeight) * x.cand.row.mjd, 0);
  info.instrument = mostCommon(used.map((c) => c.instrument));
  const planes = <T extends Float32Array | Int32Array>(d: T) => new Plane(d, width, height);
  const exposure = new Exposure(
    planes(out.image),
    planes(out.mask),
    planes(out.variance),
    grid.wcs,
    coadd.psf,
    info,
    out.noiseCorrelation,
  );

  // Depth at the centre of the covered area: the coadd's (its variance and noise correlation with CoaddPsf) and the ideal inverse-variance sum.
  let cx = 0;
  let cy = 0;
  let nCovered = 0;
  for (let p = 0; p < out.count.length; p++) {
    if (out.count[p] === stack.length) {
      cx += p % width;
      cy += Math.floor(p / width);
      nCovered++;
    }
  }
  const covered = out.mask.reduce((n, m) => n + (m & MaskPlane.NO_DATA ? 0 : 1), 0);
  cx = nCovered ? cx / nCovered : width / 2;
  cy = nCovered ? cy / nCovered : height / 2;
  const stampAtCentre = coadd.psf.stampAt(cx, cy, true);
  const cell = out.noiseCorrelation
    ? out.noiseCorrelation.cells[
        Math.min(out.noiseCorrelation.ny - 1, Math.floor(cy / out.noiseCorrelation.cellSize)) *
          out.noiseCorrelation.nx +
          Math.min(out.noiseCorrelation.nx - 1, Math.floor(cx / out.noiseCorrelation.cellSize))
      ]
    : null;
  // Where every used input is (as the ideal sum assumes): elsewhere fewer inputs make it shallower.
  const fullVariance =
    coveredMedian(out.variance, out.mask, out.count, stack.length) ||
    coveredMedian(out.variance, out.mask);
  const coaddSigma = Math.sqrt(psfFluxVariance(fullVariance, stampAtCentre, cell));
  const idealInverse = used.reduce((s, c) => {
    const sigma = (c.quality!.depthAdu / 5) * 10 ** (0.4 * (zeroPoint - c.zeroPoint));
    return s + 1 / (sigma * sigma);
  }, 0);
  const configHash = hashOf(cfg).slice(0, 12);
  const version = options.version ?? 1;
  const identity = hashOf({
    grid: grid.name,
    width,
    height,
    wcs: grid.wcs.toHeaderCards(),
    band,
    configHash,
    inputs: used.map((c) => c.input.id ?? c.input.name).sort(),
  });
  const tmplId = `${band}-${grid.name}-v${version}-${identity.slice(0, 10)}`;
  return {
    exposure,
    grid,
    band,
    tmplId,
    version,
    zeroPoint,
    inputs: rows,
    nUsed: stack.length,
    count: out.count,
    depthMag: magnitude(5 * coaddSigma, zeroPoint),
    idealDepthMag: magnitude(5 / Math.sqrt(idealInverse), zeroPoint),
    coverage: covered / (width * height),
    coaddPsfMaxResidual: coadd.maxResidual,
    halfSplitSigma: robustSigma(out.halfZ),
    configHash,
    timingsMs: {
      characterize: characterizeMs,
      warp: warpMs,
      rejection: out.timingsMs.rejection,
      stack: out.timingsMs.stack,
      psf: psfMs,
      total: performance.now() - start,
    },
  };
}
