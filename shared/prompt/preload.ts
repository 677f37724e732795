/**
 * The rules of the per-visit preload cache (DMTN-260), without the cloud: where a detector's
 * preload lives, the template cut-out around a predicted footprint, the APDB snapshot of that
 * region and the reads through it, and the reference stars of the footprint. functions/preload.ts
 * applies them to the buckets and the database.
 */
import type { Apdb, DiaForcedSource, DiaObject, DiaSource } from '../apdb/types.js';
import type { Exposure } from '../image/exposure.js';
import { readTableColumns } from '../fits/table.js';
import { readRefcat, writeRefcatFits, type ReferenceStar } from '../pipeline/refcat.js';
import { angularSeparationDeg, type SkyCircle } from './camera.js';

/** History kept in alerts: 12 months. */
export const HISTORY_DAYS = 365;

export interface ApdbSnapshot {
  /** Wall-clock MJD when the rows were read. */
  snapshotMjd: number;
  region: SkyCircle;
  diaObjects: DiaObject[];
  diaSources: DiaSource[];
  forcedSources: DiaForcedSource[];
}

/** Object prefix of a detector's preload in the work bucket. */
export const preloadPrefix = (groupId: string, detector: number) =>
  `preload/${groupId}/${detector}/`;

/** Wall-clock MJD (UTC) now. */
export function mjdNow(): number {
  return Date.now() / 86_400_000 + 40587;
}

/** The part of `template` within the circle (pixel bounding box of its rim), as a view. */
export function cutOut(template: Exposure, region: SkyCircle): Exposure | null {
  if (!template.wcs) return template;
  const n = 32;
  const ra = new Float64Array(n);
  const dec = new Float64Array(n);
  const [ra0, dec0] = region.center;
  const cosDec = Math.max(Math.cos((dec0 * Math.PI) / 180), 1e-6);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / n;
    ra[i] = ra0 + (region.radiusDeg * Math.cos(t)) / cosDec;
    dec[i] = dec0 + region.radiusDeg * Math.sin(t);
  }
  const { x, y } = template.wcs.skyToPixel({ ra, dec });
  const x0 = Math.max(0, Math.floor(Math.min(...x)));
  const y0 = Math.max(0, Math.floor(Math.min(...y)));
  const x1 = Math.min(template.width, Math.ceil(Math.max(...x)) + 1);
  const y1 = Math.min(template.height, Math.ceil(Math.max(...y)) + 1);
  if (x1 <= x0 || y1 <= y0) return null;
  return template.view({ x: x0, y: y0, width: x1 - x0, height: y1 - y0 });
}

/** The APDB rows of the region (DIAObjects and their last HISTORY_DAYS of history), read at MJD `now`. */
export async function snapshotApdb(
  apdb: Apdb,
  region: SkyCircle,
  snapshotMjd = mjdNow(),
): Promise<ApdbSnapshot> {
  const diaObjects = await apdb.getDiaObjectsInRegion({
    ra: region.center[0],
    dec: region.center[1],
    radiusDeg: region.radiusDeg,
  });
  const ids = diaObjects.map((o) => o.diaObjectId);
  const since = snapshotMjd - HISTORY_DAYS;
  const [diaSources, forcedSources] = await Promise.all([
    apdb.getDiaSourcesForObjects(ids, since),
    apdb.getForcedSourcesForObjects(ids, since),
  ]);
  return { snapshotMjd, region, diaObjects, diaSources, forcedSources };
}

/**
 * Reads through a preload snapshot: DiaObjects are always read fresh (another visit may have
 * updated them since); history rows, which never change once written, come from the snapshot,
 * topped up with rows observed from a day before the snapshot on (visits processed since).
 */
export class PreloadedApdb implements Apdb {
  constructor(
    private readonly live: Apdb,
    private readonly snapshot: ApdbSnapshot,
  ) {}

  getDiaObjectsInRegion(cone: {
    ra: number;
    dec: number;
    radiusDeg: number;
  }): Promise<DiaObject[]> {
    return this.live.getDiaObjectsInRegion(cone);
  }

  private covered(ids: readonly number[]): { cached: Set<number>; rest: number[] } {
    const cached = new Set(this.snapshot.diaObjects.map((o) => o.diaObjectId));
    return { cached, rest: ids.filter((id) => !cached.has(id)) };
  }

  private async merge<T extends { diaObjectId: number | null; midpointMjdTai: number }>(
    ids: readonly number[],
    sinceMjd: number,
    rows: T[],
    idOf: (row: T) => number,
    read: (ids: readonly number[], since: number) => Promise<T[]>,
  ): Promise<T[]> {
    const { cached, rest } = this.covered(ids);
    const wanted = new Set(ids);
    // Rows stored after the snapshot belong to visits observed after (or within a day before) its newest row.
    const newest = rows.reduce((m, r) => Math.max(m, r.midpointMjdTai), -Infinity);
    const recentSince = Math.max(sinceMjd, Number.isFinite(newest) ? newest - 1 : sinceMjd);
    const [fresh, recent] = await Promise.all([
      read(rest, sinceMjd),
      read(
        [...cached].filter((id) => wanted.has(id)),
        recentSince,
      ),
    ]);
    const byId = new Map<number, T>();
    for (const row of rows) {
      if (row.diaObjectId !== null && wanted.has(row.diaObjectId) && row.midpointMjdTai >= sinceMjd)
        byId.set(idOf(row), row);
    }
    for (const row of [...fresh, ...recent]) byId.set(idOf(row), row);
    return [...byId.values()];
  }

  getDiaSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaSource[]> {
    return this.merge(
      ids,
      sinceMjd,
      this.snapshot.diaSources,
      (r) => r.diaSourceId,
      (i, s) => this.live.getDiaSourcesForObjects(i, s),
    );
  }

  getForcedSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaForcedSource[]> {
    return this.merge(
      ids,
      sinceMjd,
      this.snapshot.forcedSources,
      (r) => r.diaForcedSourceId,
      (i, s) => this.live.getForcedSourcesForObjects(i, s),
    );
  }

  hasVisit(visit: number, detector: number): Promise<boolean> {
    return this.live.hasVisit(visit, detector);
  }

  visitDigest(visit: number, detector: number): Promise<string | null | undefined> {
    return this.live.visitDigest(visit, detector);
  }

  storeVisit(batch: Parameters<Apdb['storeVisit']>[0]): Promise<boolean> {
    return this.live.storeVisit(batch);
  }

  async close(): Promise<void> {}
}

/** The reference stars within the circle (the tiles that hold them reach beyond it). */
export function starsInRegion(stars: readonly ReferenceStar[], region: SkyCircle): ReferenceStar[] {
  const [ra, dec] = region.center;
  return stars.filter((s) => angularSeparationDeg(ra, dec, s.ra, s.dec) <= region.radiusDeg);
}

/** The footprint's reference stars in one band, as a detector's preload holds them. */
export interface PreloadedRefcat {
  band: string;
  stars: ReferenceStar[];
}

/** The stars of the refcat tiles `tiles` (file bytes by name) within `region`, in `band`; a bad tile throws naming it. */
export function footprintRefcat(
  tiles: ReadonlyArray<{ key: string; bytes: Uint8Array }>,
  band: string,
  region: SkyCircle,
): PreloadedRefcat {
  const stars = tiles.flatMap(({ key, bytes }) => {
    try {
      return readRefcat(bytes, band);
    } catch (err) {
      throw new Error(`reference catalog tile ${key}: ${(err as Error).message}`);
    }
  });
  return { band, stars: starsInRegion(stars, region) };
}

/** The preload file of a footprint's reference stars: a FITS table of ra, dec and `<band>_mag`. */
export function writePreloadedRefcat(refcat: PreloadedRefcat): Uint8Array {
  return writeRefcatFits(refcat.stars, refcat.band);
}

/** Reads writePreloadedRefcat's file back (the band from its one `<band>_mag` column). */
export function readPreloadedRefcat(bytes: Uint8Array, source: string): PreloadedRefcat {
  const column = readTableColumns(bytes).names.find((n) => n.endsWith('_mag'));
  if (!column) throw new Error(`${source}: no <band>_mag column`);
  const band = column.slice(0, -'_mag'.length);
  return { band, stars: readRefcat(bytes, band) };
}
