/**
 * The per-visit preload cache (DMTN-260): before the exposure, for each detector, the template
 * cut out around the predicted footprint, already characterized (prepared: background, masks,
 * PSF model), the APDB rows of that region, the orbits of the known solar-system objects
 * predicted there (from the `<prefix>-orbits` bucket) and the reference stars of the footprint
 * (from the `<prefix>-refcats` bucket's HEALPix tiles) are written to the work bucket at
 * `preload/{groupId}/{detector}/`, so that processImage starts computing at once. The rules
 * (cut-out, snapshot, reads through it, stars in the footprint) are shared/prompt/preload.ts;
 * this module applies them to the buckets and the database. The prepared template is also kept at
 * `prepared/{template}/{generation}/{digest}.fits` (preparedTemplateKey), from which the next
 * visit of the same footprint copies it instead of preparing it again.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readExposureWithHeader } from '../shared/fits/index.js';
import type { Exposure } from '../shared/image/exposure.js';
import {
  PipelineInputError,
  prepareTemplate,
  readExposureOrPrepared,
  writePreparedImage,
  type PreparedImage,
} from '../shared/pipeline/index.js';
import { predictDetectorFootprint, type SkyCircle } from '../shared/prompt/camera.js';
import type { NextVisit } from '../shared/prompt/next-visit.js';
import {
  cutOut,
  footprintRefcat,
  mjdNow,
  preloadPrefix,
  readPreloadedRefcat,
  snapshotApdb,
  writePreloadedRefcat,
  type ApdbSnapshot,
  type PreloadedRefcat,
} from '../shared/prompt/preload.js';
import { refcatKey, templateKey, tileOf, tilesInCircle } from '../shared/prompt/template-tiles.js';
import { NOT_FOUND, PRECONDITION_FAILED, TRANSFER_VALIDATION } from '../shared/adapters/storage.js';
import type { CharacterizeOverrides } from '../shared/characterize/characterize.js';
import { DEFAULT_KNOWN_OBJECT_CONFIG } from '../shared/association/known-objects.js';
import { OrbitCatalog } from '../shared/solar/catalog.js';
import { formatOrbitsCsv, parseOrbitsCsv, type MpcOrbit } from '../shared/solar/orbit.js';
import { RUBIN_SITE } from '../shared/solar/site.js';
import { taiFromUtc } from '../shared/solar/time.js';
import type { Services } from './context.js';
import { orbitCatalog } from './known-objects.js';
import { log } from './log.js';
import { ARCSEC_PER_DEG } from '../shared/util/numeric.js';

/** Most template tiles a footprint may touch (a 4k detector at 0.2"/px touches ~4; 1.5 deg radius ~600). */
export const MAX_TEMPLATE_TILES = 1024;
/** Existence checks in flight at once: a bounded burst of storage calls, never one per tile at once. */
export const TEMPLATE_LOOKUP_CONCURRENCY = 8;

/** The tiles a footprint touches, checked against MAX_TEMPLATE_TILES. */
function footprintTiles(region: SkyCircle, what: string): number[] {
  const tiles = tilesInCircle(region);
  if (tiles.length > MAX_TEMPLATE_TILES)
    throw new PipelineInputError(
      'science',
      `footprint of radius ${region.radiusDeg.toFixed(2)} deg touches ${tiles.length} ${what} tiles, above ${MAX_TEMPLATE_TILES}`,
    );
  return tiles;
}

/** The objects among `names` in `bucket` that exist, downloaded, a few at a time. */
async function downloadExisting(
  bucket: Services['buckets']['refcats'],
  names: string[],
): Promise<Array<{ key: string; bytes: Buffer }>> {
  const out: Array<{ key: string; bytes: Buffer }> = [];
  for (let k = 0; k < names.length; k += TEMPLATE_LOOKUP_CONCURRENCY) {
    const batch = await Promise.all(
      names.slice(k, k + TEMPLATE_LOOKUP_CONCURRENCY).map(async (key) => {
        const file = bucket.file(key);
        if (!(await file.exists())[0]) return null;
        const [bytes] = await file.download({ validation: TRANSFER_VALIDATION });
        return { key, bytes };
      }),
    );
    for (const b of batch) if (b) out.push(b);
  }
  return out;
}

/** The footprint's reference stars in `band` from the refcats bucket's tiles; null when it holds none there. */
async function referenceStarsNear(
  s: Services,
  band: string,
  region: SkyCircle,
): Promise<PreloadedRefcat | null> {
  const tiles = await downloadExisting(
    s.buckets.refcats,
    footprintTiles(region, 'reference catalog').map(refcatKey),
  );
  return tiles.length ? footprintRefcat(tiles, band, region) : null;
}

/** The key of a template for the footprint: its centre's tile first, then the other tiles it touches, a few at a time. */
export async function findTemplateKey(
  s: Services,
  band: string,
  region: SkyCircle,
): Promise<string | null> {
  const centre = tileOf(region.center[0], region.center[1]);
  const tiles = [centre, ...footprintTiles(region, 'template').filter((t) => t !== centre)];
  const candidates = tiles.map((tile) => templateKey(band, tile));
  for (let k = 0; k < candidates.length; k += TEMPLATE_LOOKUP_CONCURRENCY) {
    const batch = candidates.slice(k, k + TEMPLATE_LOOKUP_CONCURRENCY);
    const exists = await Promise.all(
      batch.map(async (name) => (await s.buckets.templates.file(name).exists())[0]),
    );
    const key = batch.find((_, i) => exists[i]);
    if (key !== undefined) return key;
  }
  return null;
}

/** Finds a template for the footprint (findTemplateKey) and downloads it. */
export async function findTemplate(
  s: Services,
  band: string,
  region: SkyCircle,
): Promise<{ key: string; bytes: Buffer } | null> {
  const key = await findTemplateKey(s, band, region);
  if (key === null) return null;
  const [bytes] = await s.buckets.templates.file(key).download({ validation: TRANSFER_VALIDATION });
  return { key, bytes };
}

/**
 * Sky margin of the known-object preload, degrees: the motion between the preload and the exposure
 * (2 deg/day, faster than all but the closest near-Earth objects, for 2.4 hours) plus the largest
 * match radius.
 */
export const KNOWN_OBJECT_MARGIN_DEG =
  0.2 + DEFAULT_KNOWN_OBJECT_CONFIG.maxRadiusArcsec / ARCSEC_PER_DEG;

/** The orbits of the objects predicted within the footprint (grown by KNOWN_OBJECT_MARGIN_DEG) now. */
async function knownObjectsNear(s: Services, region: SkyCircle): Promise<MpcOrbit[]> {
  const catalog = await orbitCatalog(s);
  if (!catalog) return [];
  const cone = {
    ra: region.center[0],
    dec: region.center[1],
    radiusDeg: region.radiusDeg + KNOWN_OBJECT_MARGIN_DEG,
  };
  return catalog
    .predictInCone(cone, taiFromUtc(mjdNow()), RUBIN_SITE)
    .map((p) => catalog.orbits[p.index]);
}

export interface PreloadSummary {
  detector: number;
  template: string | null;
  /** FWHM of the prepared template's PSF, px. */
  templateFwhmPx: number | null;
  /** The prepared template was copied from an earlier visit's preload of the same footprint. */
  templateCached: boolean;
  diaObjects: number;
  /** Known solar-system objects predicted on the detector. */
  knownObjects: number;
  /** Reference stars of the footprint in the visit's band (null: the refcats bucket has no tile there). */
  referenceStars: number | null;
}

/**
 * Where the work bucket keeps the template prepared for a footprint, for the next visit of the
 * same pointing: named by the template object (key and generation), the footprint and the
 * characterization settings, so that a new template, another footprint or other settings miss.
 */
export function preparedTemplateKey(
  template: string,
  generation: string,
  region: SkyCircle,
  config: CharacterizeOverrides,
): string {
  const digest = createHash('sha256')
    .update(JSON.stringify({ region, config }))
    .digest('hex')
    .slice(0, 32);
  return `prepared/${template}/${generation}/${digest}.fits`;
}

/**
 * The detector's prepared template at `${prefix}template.fits`: copied within the work bucket when
 * an earlier visit of the same footprint prepared it (Rubin observes each field twice a night),
 * else cut out, characterized and stored both there and under preparedTemplateKey.
 */
async function preloadTemplate(
  s: Services,
  band: string,
  region: SkyCircle,
  detector: number,
  target: string,
): Promise<{ template: string; psfFwhmPx: number; cached: boolean } | null> {
  const key = await findTemplateKey(s, band, region);
  if (key === null) return null;
  const [meta] = await s.buckets.templates.file(key).getMetadata();
  const config = s.config.pipeline.characterize;
  const cache = s.buckets.work.file(
    preparedTemplateKey(key, String(meta.generation), region, config),
  );
  const cached = await cache.getMetadata().then(
    ([m]) => m,
    (err: { code?: number }) => (err.code === NOT_FOUND ? null : Promise.reject(err)),
  );
  const fwhm = Number(cached?.metadata?.psfFwhmPx);
  if (cached && Number.isFinite(fwhm)) {
    const [exists] = await s.buckets.work.file(target).exists();
    if (!exists) await cache.copy(s.buckets.work.file(target));
    return { template: key, psfFwhmPx: fwhm, cached: true };
  }
  const [bytes] = await s.buckets.templates.file(key).download({ validation: TRANSFER_VALIDATION });
  const cut = cutOut(readExposureWithHeader(bytes, key).exposure, region);
  const prepared = cut ? prepareCut(cut, `${key} for detector ${detector}`, config) : null;
  if (!prepared) return null;
  const fits = Buffer.from(writePreparedImage(prepared));
  await Promise.all([
    s.work.putIfAbsent(target, fits, 'application/fits'),
    cache
      .save(fits, {
        resumable: false,
        validation: TRANSFER_VALIDATION,
        contentType: 'application/fits',
        metadata: { metadata: { psfFwhmPx: String(prepared.psfFwhmPx) } },
        preconditionOpts: { ifGenerationMatch: 0 },
      })
      .catch((err: { code?: number }) =>
        err.code === PRECONDITION_FAILED ? undefined : Promise.reject(err),
      ),
  ]);
  return { template: key, psfFwhmPx: prepared.psfFwhmPx, cached: false };
}

/** Preloads one detector of a visit; idempotent (objects are created once). */
export async function preloadDetector(
  s: Services,
  visit: NextVisit,
  detector: number,
): Promise<PreloadSummary> {
  const region = predictDetectorFootprint(visit, s.config.camera, detector);
  const prefix = preloadPrefix(visit.groupId, detector);
  const [template, snapshot, known, refcat] = await Promise.all([
    preloadTemplate(s, visit.filters, region, detector, `${prefix}template.fits`),
    snapshotApdb(s.apdb, region),
    knownObjectsNear(s, region),
    referenceStarsNear(s, visit.filters, region),
  ]);
  await s.work.putIfAbsent(
    `${prefix}apdb.json.gz`,
    gzipSync(JSON.stringify(snapshot)),
    'application/gzip',
  );
  await s.work.putIfAbsent(`${prefix}orbits.csv`, Buffer.from(formatOrbitsCsv(known)), 'text/csv');
  if (refcat)
    await s.work.putIfAbsent(
      `${prefix}refcat.fits`,
      Buffer.from(writePreloadedRefcat(refcat)),
      'application/fits',
    );
  return {
    detector,
    template: template?.template ?? null,
    templateFwhmPx: template?.psfFwhmPx ?? null,
    templateCached: template?.cached ?? false,
    diaObjects: snapshot.diaObjects.length,
    knownObjects: known.length,
    referenceStars: refcat ? refcat.stars.length : null,
  };
}

/**
 * The cut-out characterized as the pipeline would; null when it cannot be (no star, no data):
 * processImage then looks for the template itself and dead-letters the image with the reason.
 */
function prepareCut(
  cut: Exposure,
  what: string,
  config: CharacterizeOverrides,
): PreparedImage | null {
  try {
    return prepareTemplate(cut, config);
  } catch (err) {
    if (!(err instanceof PipelineInputError)) throw err;
    log('WARNING', 'template not preloaded', { template: what, reason: err.message });
    return null;
  }
}

export interface Preload {
  /**
   * Prepared at preload (older preloads may hold the cut-out as read), still being read: the
   * largest object (~190 MB at 4k) is downloaded and decoded while the science is characterized.
   * Null when none was preloaded; resolves null if it is gone by the time it is read.
   */
  template: Promise<Exposure | PreparedImage | null> | null;
  snapshot: ApdbSnapshot | null;
  /** The known objects preloaded for the detector (null: not preloaded). */
  knownObjects: OrbitCatalog | null;
  /** The footprint's reference stars (null: none preloaded). */
  refcat: PreloadedRefcat | null;
}

/**
 * The preload of a detector, or nulls for what was not preloaded: the folder is listed first, so
 * that whether a template was preloaded is known before its bytes arrive. The template (~190 MB
 * prepared) is requested once `templateAfter` settles: the caller's raw image (its pipeline's
 * first need) then downloads alone, and its bytes are read before the template's are decoded
 * (~0.5 s on one thread), instead of after them.
 */
export async function loadPreload(
  s: Services,
  groupId: string,
  detector: number,
  templateAfter: Promise<unknown> = Promise.resolve(),
): Promise<Preload> {
  const prefix = preloadPrefix(groupId, detector);
  const present = new Set(await s.work.list(prefix));
  const get = (name: string) =>
    present.has(prefix + name) ? s.work.get(prefix + name) : Promise.resolve(null);
  const template = present.has(`${prefix}template.fits`)
    ? templateAfter
        .catch(() => undefined)
        .then(() => get('template.fits'))
        .then((bytes) => (bytes ? readExposureOrPrepared(bytes, `${prefix}template.fits`) : null))
    : null;
  // Handled where it is awaited; an error of the small objects first must not leave it unhandled.
  template?.catch(() => undefined);
  const [apdbBytes, orbitBytes, refcatBytes] = await Promise.all([
    get('apdb.json.gz'),
    get('orbits.csv'),
    get('refcat.fits'),
  ]);
  return {
    refcat: refcatBytes ? readPreloadedRefcat(refcatBytes, `${prefix}refcat.fits`) : null,
    knownObjects: orbitBytes
      ? new OrbitCatalog(parseOrbitsCsv(orbitBytes.toString('utf8'), `${prefix}orbits.csv`))
      : null,
    template,
    snapshot: apdbBytes
      ? (JSON.parse(gunzipSync(apdbBytes).toString('utf8')) as ApdbSnapshot)
      : null,
  };
}
