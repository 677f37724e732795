/**
 * APDB tables (DiaObject, DiaSource, DiaForcedSource) as rows, and the `Apdb` interface.
 *
 * Row fields are named and typed as the alert schema (schema/1/0, after Rubin's lsst.v11_0) so a
 * row goes into an alert as it is. Fluxes in nJy, times MJD TAI, angles in degrees. `null` marks
 * an unknown value (Avro null); numbers are kept as float64 here and rounded to the schema's
 * float only when serialised.
 */
export const BANDS = ['u', 'g', 'r', 'i', 'z', 'y'] as const;
export type Band = (typeof BANDS)[number];

/** Per-band DiaObject features (ap_association's DiaObject calculation plugins). */
export const BAND_FEATURES = [
  'psfFluxMean',
  'psfFluxMeanErr',
  'psfFluxSigma',
  'fpFluxMean',
  'fpFluxMeanErr',
  'scienceFluxMean',
  'scienceFluxMeanErr',
  'scienceFluxSigma',
  'psfFluxMin',
  'psfFluxMax',
  'psfFluxMaxSlope',
  'psfFluxErrMean',
  'psfFluxChi2',
  'psfFluxMAD',
  'psfFluxSkew',
  'psfFluxPercentile05',
  'psfFluxPercentile25',
  'psfFluxPercentile50',
  'psfFluxPercentile75',
  'psfFluxPercentile95',
  'psfFluxStetsonJ',
  'psfFluxLinearSlope',
  'psfFluxLinearIntercept',
] as const;
export type BandFeature = (typeof BAND_FEATURES)[number];

export type BandFeatureFields = { [K in `${Band}_${BandFeature}`]: number | null } & {
  [K in `${Band}_psfFluxNdata`]: number;
};

export interface DiaObject extends BandFeatureFields {
  diaObjectId: number;
  validityStartMjdTai: number;
  ra: number;
  dec: number;
  raErr: number | null;
  decErr: number | null;
  ra_dec_Cov: number | null;
  firstDiaSourceMjdTai: number | null;
  lastDiaSourceMjdTai: number | null;
  nDiaSources: number;
}

/** Pixel flags of a DiaSource, named as Rubin's schema. */
export type PixelFlagName =
  | 'pixelFlags'
  | 'pixelFlags_bad'
  | 'pixelFlags_cr'
  | 'pixelFlags_crCenter'
  | 'pixelFlags_edge'
  | 'pixelFlags_nodata'
  | 'pixelFlags_nodataCenter'
  | 'pixelFlags_interpolated'
  | 'pixelFlags_interpolatedCenter'
  | 'pixelFlags_offimage'
  | 'pixelFlags_saturated'
  | 'pixelFlags_saturatedCenter'
  | 'pixelFlags_suspect'
  | 'pixelFlags_suspectCenter';

export interface DiaSource extends Partial<Record<PixelFlagName, boolean | null>> {
  diaSourceId: number;
  visit: number;
  detector: number;
  diaObjectId: number | null;
  ssObjectId: number | null;
  parentDiaSourceId: number | null;
  midpointMjdTai: number;
  ra: number;
  raErr: number | null;
  dec: number;
  decErr: number | null;
  ra_dec_Cov: number | null;
  x: number;
  xErr: number | null;
  y: number;
  yErr: number | null;
  centroid_flag: boolean | null;
  apFlux: number | null;
  apFluxErr: number | null;
  isNegative: boolean | null;
  snr: number | null;
  psfFlux: number | null;
  psfFluxErr: number | null;
  psfNdata: number;
  psfFlux_flag: boolean | null;
  trailNdata: number;
  /** Trailed-source fit (known solar-system objects; shared/solar/trail-measure.ts): nJy, deg, arcsec, deg east of north. */
  trailFlux?: number | null;
  trailFluxErr?: number | null;
  trailRa?: number | null;
  trailRaErr?: number | null;
  trailDec?: number | null;
  trailDecErr?: number | null;
  trailLength?: number | null;
  trailLengthErr?: number | null;
  trailAngle?: number | null;
  trailAngleErr?: number | null;
  trailChi2?: number | null;
  trail_flag_edge?: boolean | null;
  dipoleMeanFlux: number | null;
  dipoleFluxDiff: number | null;
  dipoleLength: number | null;
  dipoleAngle: number | null;
  dipoleNdata: number;
  scienceFlux: number | null;
  scienceFluxErr: number | null;
  templateFlux: number | null;
  templateFluxErr: number | null;
  ixx: number | null;
  iyy: number | null;
  ixy: number | null;
  reliability: number | null;
  reliabilityModel: string | null;
  /** Hash of the effective pipeline configuration (APCONFIG); schema 1.1. Null in rows made before it was recorded. */
  configHash?: string | null;
  /** Code version that made the row (APVERSION); schema 1.1. */
  codeVersion?: string | null;
  /** Version id (TMPLID) of the template the row was differenced against; schema 1.1. Null: a template without one. */
  templateVersion?: string | null;
  band: string | null;
  isDipole: boolean | null;
  dipoleFitAttempted: boolean | null;
  timeProcessedMjdTai: number;
  bboxSize: number;
}

export interface DiaForcedSource {
  diaForcedSourceId: number;
  diaObjectId: number;
  ra: number;
  dec: number;
  visit: number;
  detector: number;
  psfFlux: number | null;
  psfFluxErr: number | null;
  midpointMjdTai: number;
  scienceFlux: number | null;
  scienceFluxErr: number | null;
  band: string | null;
  timeProcessedMjdTai: number;
}

/** A sky cone: centre and radius in degrees. */
export interface SkyCone {
  ra: number;
  dec: number;
  radiusDeg: number;
}

/** Everything one (visit, detector) adds to the APDB, stored at once. */
export interface VisitBatch {
  visit: number;
  detector: number;
  /** Content digest of the image the rows came from (sha256 hex), kept with the visit marker. */
  imageDigest?: string | null;
  /**
   * Start of the history window the DiaObjects were summarized over (MJD TAI): lets a store
   * recompute a DiaObject from its stored history when other visits update it concurrently.
   */
  historySinceMjd?: number;
  /** New and updated DiaObjects (whole rows; the newest row of an id replaces the older). */
  diaObjects: DiaObject[];
  diaSources: DiaSource[];
  forcedSources: DiaForcedSource[];
}

/**
 * The Alert Production Database, as Rubin's dax_apdb: spatial reads of DiaObjects, history reads
 * of their sources, and one idempotent write per (visit, detector).
 */
export interface Apdb {
  /** DiaObjects whose position lies in the cone. */
  getDiaObjectsInRegion(cone: SkyCone): Promise<DiaObject[]>;
  /** DiaSources of these objects with midpointMjdTai >= sinceMjd. */
  getDiaSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaSource[]>;
  /** DiaForcedSources of these objects with midpointMjdTai >= sinceMjd. */
  getForcedSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaForcedSource[]>;
  /** True when this (visit, detector) has been stored already. */
  hasVisit(visit: number, detector: number): Promise<boolean>;
  /** The digest stored with this (visit, detector) (null when stored without one), or undefined when not stored. */
  visitDigest(visit: number, detector: number): Promise<string | null | undefined>;
  /**
   * Stores a visit's rows. Idempotent per (visit, detector): a second call for a stored pair
   * changes nothing and returns false.
   */
  storeVisit(batch: VisitBatch): Promise<boolean>;
  close(): Promise<void>;
}
