/**
 * processDetector: one (visit, detector) from images to alerts, as the stages of Rubin's
 * Alert Production (ap_pipe): characterize the science image (and the template unless it comes
 * prepared), warp the template onto the science grid, PSF-match and subtract, detect and measure
 * DIASources, score them real/bogus, associate them with DIAObjects (APDB reads, forced
 * photometry of the objects not detected) and build the alerts with cutouts. Characterize ->
 * register/warp -> subtract is `ap diff`'s own orchestration (diffim/pipeline.ts runDiff), on both
 * threads of the shared WorkerPool.
 *
 * It reads the APDB but never writes it: the caller stores `result.association.batch` with
 * `apdb.storeVisit` (the offline CLI directly; the Cloud Function with write-once semantics).
 * @example
 *   const { exposure, header } = readExposureWithHeader(bytes, 'science.fits');
 *   const template = prepareTemplate(templateExposure);            // once, at preload
 *   const r = await processDetector({ science: exposure, scienceHeader: header, template, apdb }, pipelineConfig());
 *   await apdb.storeVisit(r.association.batch);
 *   r.alerts.length; r.frames[0]; r.timingsMs.subtract;
 */
import {
  DEFAULT_KNOWN_OBJECT_CONFIG,
  type KnownObjectsInField,
} from '../association/known-objects.js';
import { measureKnownObjectTrails } from '../solar/trail-measure.js';
import type { OrbitCatalog } from '../solar/catalog.js';
import { siteFromHeader, type Site } from '../solar/site.js';
import {
  associateVisit,
  detectorFootprint,
  type AssociationResult,
  type DetectorFootprint,
  type ForcedMeasurement,
} from '../association/associate.js';
import {
  buildAlertsParallel,
  startCutouts,
  type CutoutRow,
  type CutoutSources,
} from '../alerts/build.js';
import { toDiaSources } from '../association/calibration.js';
import type { Alert } from '../alerts/types.js';
import { encodeAlert } from '../alerts/wire.js';
import type { Apdb } from '../apdb/types.js';
import { CachedPsf } from '../detect/cached-psf.js';
import { cellWidthsAsync } from '../detect/cell-widths.js';
import type { Psf } from '../psf/types.js';
import { detectDiaSourcesParallel } from '../detect/detect.js';
import { forcedPhotometryAtSky, measureScienceTemplateFluxes } from '../detect/forced.js';
import type { DiaSourceRecord } from '../detect/types.js';
import type { DiffMethod } from '../diffim/config.js';
import {
  DifferenceFailedError,
  KernelFitError,
  NoKernelCandidatesError,
} from '../diffim/errors.js';
import type { SubtractResult } from '../diffim/subtract.js';
import type { FitsHeader } from '../fits/header.js';
import { Exposure } from '../image/exposure.js';
import type { VisitInfo } from '../image/visit-info.js';
import { initTf } from '../tf/backend.js';
import { WorkerPool } from '../util/worker-pool.js';
import { WarpGeometryError } from '../warp/index.js';
import type { CharacterizeResult } from '../characterize/characterize.js';
import { runDiff, type DiffHooks, type DiffResult, type WarpOutcome } from '../diffim/pipeline.js';
import { codeVersion } from '../util/version.js';
import { configHash, DEFAULT_PIPELINE_CONFIG, type PipelineConfig } from './config.js';
import { PipelineInputError } from './errors.js';
import { silentLogger, type PipelineLogger } from './log.js';
import { checkImageData, isPrepared, type PreparedImage } from './preprocess.js';
import { checkScience } from './science-check.js';
import { warmPsfShape } from './warm-psf.js';
import type { RealBogusScorer } from './realbogus.js';
import { refuseCollision } from './identity.js';
import { checkLimits } from './limits.js';
import { storedProcessingTime } from './replay.js';
import { resolveZeroPoint, type ZeroPointSource } from './zero-point.js';
import { refcatZeroPoint, type ReferenceStar } from './refcat.js';
import { ARCSEC_PER_DEG } from '../util/numeric.js';

export const PIPELINE_STAGES = [
  'characterizeTemplate',
  'characterizeScience',
  'warp',
  'subtract',
  'detect',
  'score',
  'associate',
  'alerts',
] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

export interface DetectorInputs {
  /** The science image as read (not yet characterized; it is updated in place). */
  science: Exposure;
  /** Its FITS header: says whether VISIT/EXPNUM and DETECTOR/CCDNUM were given. */
  scienceHeader?: FitsHeader | null;
  /**
   * The template as read (characterized here, in place), or prepared beforehand by prepareTemplate;
   * or a promise of either, still being read: awaited once the science's characterization has
   * started on the pool's worker, so that its read and decode take this thread's idle time.
   */
  template: Exposure | PreparedImage | Promise<Exposure | PreparedImage>;
  /** Visit and detector ids; default the science header's VISIT (EXPNUM) and DETECTOR (CCDNUM). */
  visit?: number;
  detector?: number;
  /** Read for association; never written here. */
  apdb: Apdb;
  /**
   * Content digest of the science image (imageDigest of shared/pipeline/identity.ts): a
   * (visit, detector) stored from a different image is refused (IdentityCollisionError) before any
   * work, and the digest goes into the batch so that the APDB keeps it with the visit.
   */
  imageDigest?: string;
  /** Real/bogus model; null or absent skips scoring (logged). */
  realBogus?: RealBogusScorer | null;
  /** Known solar-system objects (`--orbits`, the orbits bucket); null or absent: none. */
  knownObjects?: OrbitCatalog | null;
  /** The observatory; default the science header's OBSGEO-B/L/H or OBSGEO-X/Y/Z, else RUBIN_SITE. */
  site?: Site;
  /** Reference stars of the footprint in the science band (refcat.ts): calibrate when the header has no zero point. */
  refcat?: ReferenceStar[] | null;
}

export interface PipelineDeps {
  /** Structured log lines, one per stage (default: none). */
  log?: PipelineLogger;
  /** Wall clock, ms since 1970 (default Date.now): sets timeProcessedMjdTai. */
  now?: () => number;
  /** Called as each stage ends (benchmarks sample memory there). */
  onStage?: (stage: PipelineStage, ms: number) => void;
}

export interface PipelineStats {
  visit: number;
  detector: number;
  width: number;
  height: number;
  /** Fraction of the science grid the warped template covers. */
  coverageFraction: number;
  /** Science flux per template flux (the matching kernel's sum). */
  kernelSum: number;
  /**
   * FWHM of the science, template and difference PSFs at the centre, pixels (each in its own
   * image's pixels): the FWHM of the profile fitted to the PSF model (Psf.fwhmAt), the one
   * definition the stage logs and summary.json report.
   */
  scienceFwhmPx: number;
  templateFwhmPx: number;
  differenceFwhmPx: number;
  /** Clipped std of difference / sqrt(variance): 1 when the variance plane is right. */
  noiseRatio: number;
  /** Measured over predicted PSF-flux scatter of sky sources on the difference. */
  skySourceNoiseRatio: number;
  /** AB magnitude of 1 science ADU, and where it came from. */
  zeroPoint: number;
  zeroPointSource: ZeroPointSource;
  /** The cards or option the zero point came from. */
  zeroPointOrigin: string;
  /** Where the exposure midpoint came from ('MJD-OBS + EXPTIME/2', 'DATE-OBS', '--mjd'). */
  mjdOrigin: string;
  /** '' when the configured kernel fit was sound, else the fallback used (as the KERNFALL card). */
  kernelFallback: string;
  diaSources: number;
  positive: number;
  negative: number;
  dipoles: number;
  /** DIAObjects created by this visit, and matched to existing ones. */
  newDiaObjects: number;
  associated: number;
  forcedSources: number;
  alerts: number;
  /** Real/bogus model used, or null when scoring was skipped. */
  reliabilityModel: string | null;
  /** True when the APDB already holds this (visit, detector): a replay. */
  alreadyStored: boolean;
  timeProcessedMjdTai: number;
  /** Hash of the effective configuration (APCONFIG) and the code version (APVERSION) that made this result. */
  configHash: string;
  codeVersion: string;
}

export interface DetectorResult {
  /** The difference image (science grid and WCS, science ADU; psf = the difference PSF). */
  difference: Exposure;
  /** The whole subtraction result (kernel, score image for ZOGY, statistics). */
  subtraction: SubtractResult;
  /** The template warped onto the science grid (characterized, background-subtracted). */
  warpedTemplate: Exposure;
  diaSources: DiaSourceRecord[];
  /** Association; `association.batch` is what the caller stores in the APDB. */
  association: AssociationResult;
  /** One alert per DIASource, in diaSourceId order. */
  alerts: Alert[];
  /** The alerts in Confluent wire format (0x00, schema id, Avro body), same order. */
  frames: Buffer[];
  method: DiffMethod;
  stats: PipelineStats;
  /** Wall time of each stage and the total, ms. */
  timingsMs: Record<PipelineStage | 'total', number>;
  /** TensorFlow.js backend in this process ('tensorflow', 'wasm' or 'cpu'). */
  tfBackend: string;
  /** What ran the warp's resampler ('WebAssembly SIMD', or 'JavaScript' and why). */
  warpResampler: string;
  /** What ran the FFTs ('WebAssembly SIMD', or 'fft.js' and why). */
  fftEngine: string;
  /** What ran the kernel field's per-pixel arithmetic ('WebAssembly SIMD', or 'JavaScript' and why). */
  kernelArithmetic: string;
}

/** TAI - UTC since 2017-01-01, seconds (no leap second announced since). */
const TAI_MINUS_UTC_S = 37;
const MJD_OF_UNIX_EPOCH = 40587;

export function mjdTaiOf(unixMs: number): number {
  return MJD_OF_UNIX_EPOCH + (unixMs / 1000 + TAI_MINUS_UTC_S) / 86400;
}

/** Shapes and WCSs that can be differenced: without a WCS on either image they must be aligned pixel for pixel. */
function checkPair(science: Exposure, template: Exposure): void {
  if (
    (!science.wcs || !template.wcs) &&
    (science.width !== template.width || science.height !== template.height)
  ) {
    const which = !science.wcs ? 'the science image' : 'the template';
    throw new PipelineInputError(
      'pair',
      `${which} has no celestial WCS, so the images must have the same shape to be aligned pixel for pixel (science ${science.width}x${science.height}, template ${template.width}x${template.height})`,
    );
  }
}

/** The whole per-detector pipeline; see the module comment. Throws PipelineInputError / InsufficientCoverageError on unusable input. */
export async function processDetector(
  inputs: DetectorInputs,
  config: PipelineConfig = DEFAULT_PIPELINE_CONFIG,
  deps: PipelineDeps = {},
): Promise<DetectorResult> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? Date.now;
  const provenance = { configHash: configHash(config), codeVersion: codeVersion() };
  const { science, apdb } = inputs;
  const ids = checkScience(inputs, config.limits, log);
  await refuseCollision(apdb, ids, inputs.imageDigest);
  // The template's checks run as it arrives (before runDiff uses it).
  let templateIn = science;
  let preloaded = false;
  let templateFwhmPx = Number.NaN;
  const template = Promise.resolve(inputs.template).then((t) => {
    templateIn = isPrepared(t) ? t.exposure : t;
    checkLimits(templateIn, 'template', config.limits);
    checkPair(science, templateIn);
    preloaded = isPrepared(t);
    if (isPrepared(t)) {
      templateFwhmPx = t.psfFwhmPx;
      // Its model's shape, which the warped PSF's FWHM reads for every cutout, fitted while this
      // thread waits on the science's characterization (warm-psf.ts: the same values).
      if (t.exposure.psf) warmPsfShape(t.exposure.psf, t.exposure);
    } else checkImageData(templateIn, 'template');
    return t;
  });
  template.catch(() => undefined); // awaited in runDiff; an earlier failure must not leave it unhandled

  const timingsMs = {} as Record<PipelineStage | 'total', number>;
  const start = performance.now();
  let last = start;
  const done = (stage: PipelineStage, fields: Record<string, unknown> = {}, ms?: number): void => {
    const t = performance.now();
    timingsMs[stage] = ms ?? t - last;
    last = t;
    log({
      severity: 'INFO',
      message: `stage ${stage} done`,
      stage,
      ms: Math.round(timingsMs[stage]),
      ...ids,
      ...fields,
    });
    deps.onStage?.(stage, timingsMs[stage]);
  };

  // (1)-(3) The pair's one orchestration, shared with `ap diff` (diffim/pipeline.ts runDiff): the
  // science characterized on a pool worker while this thread characterizes the template (unless
  // preloaded), the science WCS refitted on both images' stars (shared/astrom), the template
  // warped, the responses compared, then the subtraction, tiled over both threads. Raw science
  // frames are not resampled: their noise correlation is not searched. Stage times are laps and
  // add up to the wall time.
  let scienceCharacterization: CharacterizeResult | null = null;
  let warpOutcome: WarpOutcome | null = null;
  // The science PSF's FWHM per cutout cell (the cutouts' PSFFWHM cards), fitted on the pool's worker
  // from the end of the warp, a few cells a task, in the subtraction's idle moments
  // (cell-widths.ts: the same numbers); stopped when the subtraction fails.
  const pool = WorkerPool.shared();
  const stop = new AbortController();
  let scienceCutoutPsf: Psf | null = null;
  let widths: Promise<void> | null = null;
  // The catalog is measured on the characterized, registered science before the subtraction's masks change it.
  const reference: { zp: ReturnType<typeof refcatZeroPoint> | null } = { zp: null };
  const hooks: DiffHooks = {
    onCharacterized: (role, c) => {
      if (c.psf.nStars === 0)
        throw new PipelineInputError(
          role,
          `${role} image has no star to measure its PSF on (blank, clouded or unfocused?)`,
        );
      if (role === 'template') templateFwhmPx = c.psf.fwhmPx;
      else scienceCharacterization = c;
    },
    onWarped: (outcome) => {
      warpOutcome = outcome;
      if (inputs.refcat && !Number.isFinite(science.info.zeroPoint))
        reference.zp = refcatZeroPoint(science, inputs.refcat);
      scienceCutoutPsf = science.psf && cellPsfOf(science.psf, config.alerts.psfCellSize);
      if (config.alerts.cutouts && scienceCutoutPsf instanceof CachedPsf)
        widths = cellWidthsAsync(
          scienceCutoutPsf,
          science,
          pool.size > 0 ? pool : null,
          stop.signal,
        );
      widths?.catch(() => undefined); // awaited in the detect stage
    },
    onStage: (stage, ms) => {
      if (stage === 'characterizeTemplate')
        // Prepared: 0, or the wait for its read when it came still being read.
        done(
          'characterizeTemplate',
          { preloaded, fwhmPx: round(templateFwhmPx, 3) },
          preloaded && !(inputs.template instanceof Promise) ? 0 : ms,
        );
      else if (stage === 'characterizeScience' && scienceCharacterization)
        done(
          'characterizeScience',
          {
            fwhmPx: round(scienceCharacterization.psf.fwhmPx, 3),
            psfStars: scienceCharacterization.psf.nStars,
            crCount: scienceCharacterization.crCount,
          },
          ms,
        );
      else if (stage === 'warp' && warpOutcome) {
        const { astrometry } = warpOutcome;
        done('warp', {
          coverageFraction: round(warpOutcome.coverageFraction, 4),
          covarianceFactor: round(warpOutcome.covarianceFactor, 4),
          astrometry: astrometry.mode,
          astrometryStars: astrometry.nStars,
          astrometryRmsPx: round(astrometry.rmsPx, 4),
          responseMaskedFraction: round(warpOutcome.responseMaskedFraction, 4),
          ...(astrometry.reason ? { astrometryNote: astrometry.reason } : {}),
        });
      }
    },
  };
  const subtraction = await diffOrExplain(science, template, config, hooks).catch((err) => {
    stop.abort();
    throw err;
  });
  const warpedTemplate = subtraction.warpedTemplate;
  const zp = resolveZeroPoint(
    { zeroPoint: science.info.zeroPoint, origin: science.info.zeroPointOrigin },
    { zeroPoint: templateIn.info.zeroPoint, origin: templateIn.info.zeroPointOrigin },
    subtraction.kernelSum,
    {
      reference: reference.zp && {
        zeroPoint: reference.zp.zeroPoint,
        origin: `reference catalog, ${reference.zp.nStars} stars, scatter ${reference.zp.scatter.toFixed(3)} mag`,
      },
      configured: config.calibration.zeroPoint,
    },
  );
  const info: VisitInfo = {
    ...science.info,
    ...ids,
    zeroPoint: zp.zeroPoint,
    zeroPointOrigin: zp.origin,
  };
  science.info = info;
  const difference = subtraction.difference;
  difference.info = info;
  done('subtract', {
    method: subtraction.method,
    kernelSum: round(subtraction.kernelSum, 5),
    noiseRatio: round(subtraction.stats.noiseRatio, 4),
    zeroPoint: round(zp.zeroPoint, 4),
    zeroPointSource: zp.source,
    zeroPointOrigin: zp.origin,
    kernelFallback: subtraction.stats.kernelFallback || undefined,
    modelErrorFlux: round(subtraction.modelError.fluxFraction, 4),
    modelErrorAstrometricPx: round(subtraction.modelError.astrometricSigmaPx, 4),
    modelErrorCoresBeyondNoise: round(subtraction.modelError.coresBeyondNoise, 3),
  });

  // (4) Detect and measure, with forced fluxes on the science and the template (in science units).
  const cutoutSources = config.alerts.cutouts
    ? cutoutImages(science, scienceCutoutPsf, warpedTemplate, difference, config.alerts.psfCellSize)
    : null;
  const detection = await detectDiaSourcesParallel(
    difference,
    subtraction.differencePsf,
    config.detect,
  );
  const records = detection.sources;
  // Real/bogus starts now (its input cut on the pool's worker) and is awaited in its stage: it
  // needs the positions alone, which the forced fluxes below do not change.
  const scoring = inputs.realBogus?.score(records, {
    science,
    template: warpedTemplate,
    difference,
  });
  scoring?.catch(() => undefined); // awaited below; an earlier failure must not leave it unhandled
  // The alerts' cutouts depend on detection alone: cut here and encoded on the pool's workers while
  // this thread measures, scores and associates; the alerts stage encodes what is left and checks
  // each row against the one its cutouts were cut for.
  await widths;
  const cutoutsAhead =
    cutoutSources && pool.size > 0
      ? startCutouts(cutoutRows(records, info), cutoutSources, pool, config.alerts.cutout)
      : null;
  // The PSFs evaluated once per detection cell (the warped template's model is exact but ~2 ms a stamp).
  const cellPsf = (psf: Psf | null) =>
    psf && config.detect.psfCellSize > 0
      ? new CachedPsf(psf, config.detect.psfCellSize)
      : (psf ?? undefined);
  measureScienceTemplateFluxes(records, {
    science,
    template: warpedTemplate,
    sciencePsf: cellPsf(science.psf),
    templatePsf: cellPsf(warpedTemplate.psf),
  });
  for (const r of records) {
    r.templateFlux *= subtraction.kernelSum;
    r.templateFluxErr *= subtraction.kernelSum;
  }
  done('detect', {
    diaSources: records.length,
    skySourceNoiseRatio: round(detection.skySources.noiseRatio, 4),
  });

  // (5) Real/bogus.
  const tfBackend = await initTf(undefined, (line) => log({ severity: 'INFO', message: line }));
  if (inputs.realBogus) {
    await scoring;
    done('score', { model: inputs.realBogus.version, tfBackend });
  } else done('score', { skipped: 'no real/bogus model available; reliability left null' });

  // (6) Associate; a replay reuses the stored processing time so that its alerts are identical.
  const footprint: DetectorFootprint = science.wcs
    ? detectorFootprint(science.wcs, science.width, science.height)
    : { cone: { ra: 0, dec: 0, radiusDeg: 0 }, contains: () => false };
  const stored = (await apdb.hasVisit(info.visit, info.detector))
    ? await storedProcessingTime(apdb, footprint.cone, info)
    : null;
  const timeProcessedMjdTai = stored ?? mjdTaiOf(now());
  const knownObjects = inputs.knownObjects
    ? knownObjectsInField(
        inputs.knownObjects,
        footprint,
        info.mjd,
        inputs.site ?? siteOf(inputs.scienceHeader),
        config,
      )
    : null;
  const association = await associateVisit(
    apdb,
    {
      visit: info,
      records,
      footprint,
      forcedPhotometry: (positions) => forcedAt(science, difference, positions),
      timeProcessedMjdTai,
      reliabilityModel: inputs.realBogus?.version ?? null,
      configHash: provenance.configHash,
      codeVersion: provenance.codeVersion,
      templateVersion: templateIn.info.templateVersion ?? null,
      pixelScaleArcsec: science.wcs
        ? science.wcs.jacobian((science.width - 1) / 2, (science.height - 1) / 2).pixelScaleArcsec
        : Number.NaN,
      knownObjects,
    },
    config.association,
  );
  association.batch.imageDigest = inputs.imageDigest ?? null;
  const trailsFitted = measureKnownObjectTrails(
    association.batch.diaSources,
    association.knownObjectMatches,
    difference,
    cellPsf(subtraction.differencePsf) ?? subtraction.differencePsf,
  );
  const created = association.batch.diaSources.filter(
    (s) => s.diaObjectId === s.diaSourceId,
  ).length;
  const placed = association.batch.diaSources.filter((s) => s.diaObjectId !== null).length;
  done('associate', {
    knownObjectsPredicted: knownObjects?.predictions.length ?? 0,
    knownObjectsMatched: association.knownObjectMatches.size,
    trailsFitted,
    alreadyStored: association.alreadyStored,
    newDiaObjects: created,
    associated: placed - created,
    forcedSources: association.batch.forcedSources.length,
  });

  // (7) Alerts with cutouts, and their wire frames.
  const alerts = await buildAlertsParallel(
    {
      association,
      cutouts: cutoutSources,
      observationReason: config.alerts.observationReason,
      targetName: config.alerts.targetName,
      cutoutConfig: config.alerts.cutout,
    },
    pool,
    undefined,
    cutoutsAhead,
  );
  const frames = alerts.map((a) => encodeAlert(a));
  done('alerts', { alerts: alerts.length, bytes: frames.reduce((n, f) => n + f.length, 0) });
  timingsMs.total = performance.now() - start;

  const centre = [(science.width - 1) / 2, (science.height - 1) / 2] as const;
  const stats: PipelineStats = {
    ...ids,
    width: science.width,
    height: science.height,
    coverageFraction: subtraction.coverageFraction,
    kernelSum: subtraction.kernelSum,
    // The characterization's FWHM, as the stage logs give it (not the kernel sizing's moment width).
    scienceFwhmPx: subtraction.scienceCharacterization?.psf.fwhmPx ?? Number.NaN,
    templateFwhmPx,
    differenceFwhmPx: subtraction.differencePsf.fwhmAt(...centre),
    noiseRatio: subtraction.stats.noiseRatio,
    skySourceNoiseRatio: detection.skySources.noiseRatio,
    zeroPoint: zp.zeroPoint,
    zeroPointSource: zp.source,
    zeroPointOrigin: zp.origin,
    mjdOrigin: info.mjdOrigin ?? '',
    kernelFallback: subtraction.stats.kernelFallback,
    diaSources: records.length,
    positive: records.filter((r) => !r.isNegative && !r.isDipole).length,
    negative: records.filter((r) => r.isNegative).length,
    dipoles: records.filter((r) => r.isDipole).length,
    newDiaObjects: created,
    associated: placed - created,
    forcedSources: association.batch.forcedSources.length,
    alerts: alerts.length,
    reliabilityModel: inputs.realBogus?.version ?? null,
    alreadyStored: association.alreadyStored,
    timeProcessedMjdTai,
    ...provenance,
  };
  log({
    severity: 'INFO',
    message: 'detector processed',
    ...ids,
    method: subtraction.method,
    diaSources: records.length,
    alerts: alerts.length,
    totalMs: Math.round(timingsMs.total),
  });
  return {
    difference,
    subtraction,
    warpedTemplate,
    diaSources: records,
    association,
    alerts,
    frames,
    method: subtraction.method,
    stats,
    timingsMs,
    tfBackend,
    warpResampler: subtraction.warpResampler,
    fftEngine: subtraction.fftEngine,
    kernelArithmetic: subtraction.kernelArithmetic,
  };
}

/** The known objects whose predicted place falls on the detector (grown by the largest match radius). */
function knownObjectsInField(
  catalog: OrbitCatalog,
  footprint: DetectorFootprint,
  mjdTai: number,
  site: Site,
  config: PipelineConfig,
): KnownObjectsInField {
  const margin =
    (config.association.knownObjects ?? DEFAULT_KNOWN_OBJECT_CONFIG).maxRadiusArcsec /
    ARCSEC_PER_DEG;
  const predictions = catalog.predictInCone(
    { ...footprint.cone, radiusDeg: footprint.cone.radiusDeg + margin },
    mjdTai,
    site,
  );
  return {
    predictions,
    orbitOf: (k) => catalog.orbits[k],
    ssObjectIdOf: (k) => catalog.ssObjectIds[k],
  };
}

/** The observatory of the science header; impossible OBSGEO cards are an input error. */
function siteOf(header: FitsHeader | null | undefined): Site {
  try {
    return siteFromHeader(header);
  } catch (err) {
    throw new PipelineInputError('science', (err as Error).message);
  }
}

/**
 * runDiff with the pipeline's configuration; a warp the geometry forbids, no kernel candidates or a
 * meaningless match (no stars to match the PSFs on: a blank or clouded image) are input errors.
 */
async function diffOrExplain(
  science: Exposure,
  template: Promise<Exposure | PreparedImage>,
  config: PipelineConfig,
  hooks: DiffHooks,
): Promise<DiffResult> {
  let result: DiffResult;
  try {
    result = await runDiff(
      science,
      template,
      {
        characterizeOverrides: config.characterize,
        scienceNoiseCorrelation: false,
        astrometry: config.astrometry,
        warp: config.warp,
        subtract: config.subtract,
      },
      hooks,
    );
  } catch (err) {
    if (err instanceof WarpGeometryError) throw new PipelineInputError('pair', err.message);
    if (err instanceof KernelFitError || err instanceof DifferenceFailedError) throw err; // the caller names the file
    if (err instanceof NoKernelCandidatesError) {
      throw new PipelineInputError(
        'pair',
        `cannot PSF-match: no star usable as a kernel candidate (SNR >= ${config.subtract.candidateMinSnr}, unmasked) in the overlap of the two images`,
      );
    }
    throw err;
  }
  const { kernelSum, psfFwhmPx } = result;
  if (!(
    kernelSum > 0 &&
    Number.isFinite(kernelSum) &&
    psfFwhmPx > 0 &&
    Number.isFinite(psfFwhmPx)
  )) {
    throw new PipelineInputError(
      'pair',
      `PSF matching failed (kernel sum ${kernelSum}, difference PSF FWHM ${psfFwhmPx} px): too few stars shared by the two images`,
    );
  }
  return result;
}

/** The rows the alerts' cutouts are cut for, in diaSourceId order, as association will calibrate them. */
function cutoutRows(records: DiaSourceRecord[], info: VisitInfo): CutoutRow[] {
  return toDiaSources(records, info, {
    timeProcessedMjdTai: Number.NaN,
    reliabilityModel: null,
    pixelScaleArcsec: Number.NaN,
  }).sort((a, b) => a.diaSourceId - b.diaSourceId);
}

/** A PSF evaluated once per cell of `cellSize` px (0: the model itself, at every position). */
function cellPsfOf(psf: Psf, cellSize: number): Psf {
  return cellSize > 0 ? new CachedPsf(psf, cellSize) : psf;
}

/**
 * The images cutouts are cut from, with PSFs evaluated once per cell (see AlertConfig.psfCellSize);
 * the science's PSF as given when it is (its cell widths already under way).
 */
function cutoutImages(
  science: Exposure,
  sciencePsf: Psf | null,
  template: Exposure,
  difference: Exposure,
  cellSize: number,
): CutoutSources {
  const cached = (e: Exposure, psf = e.psf && cellPsfOf(e.psf, cellSize)): Exposure =>
    new Exposure(e.image, e.mask, e.variance, e.wcs, psf, e.info);
  const diff = cached(difference);
  return {
    science: cached(science, sciencePsf ?? undefined),
    template: cached(template),
    difference: diff,
    differencePsf: diff.psf,
  };
}

/** Forced PSF photometry of DIAObjects at their sky positions: on the difference and on the science image. */
function forcedAt(
  science: Exposure,
  difference: Exposure,
  positions: ReadonlyArray<{ ra: number; dec: number }>,
): ForcedMeasurement[] {
  const ra = positions.map((p) => p.ra);
  const dec = positions.map((p) => p.dec);
  const diff = forcedPhotometryAtSky(
    difference,
    difference.psf ?? (science.psf as NonNullable<Exposure['psf']>),
    ra,
    dec,
  );
  const sci = science.psf ? forcedPhotometryAtSky(science, science.psf, ra, dec) : null;
  return diff.map((d, i) => ({
    psfFlux: d.flux,
    psfFluxErr: d.fluxErr,
    scienceFlux: sci ? sci[i].flux : Number.NaN,
    scienceFluxErr: sci ? sci[i].fluxErr : Number.NaN,
  }));
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}
