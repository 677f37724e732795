/**
 * The APDB on Firestore (`Apdb` of shared/apdb/types.ts).
 *
 * Collections (names prefixed by `options.prefix`, default none):
 *   DiaObject/{diaObjectId}              the newest row of each DiaObject, plus `healpix16`
 *   DiaSource/{diaSourceId}              plus `healpix16`
 *   DiaForcedSource/{diaForcedSourceId}  plus `healpix16`
 *   ApdbVisit/{visit}_{detector}         written last, when a (visit, detector) is stored
 *
 * `healpix16` is the nested HEALPix index at order 16 (~3.2 arcsec), so a cone or a detector
 * footprint is a handful of single-field range queries (shared/healpix coneRanges). History
 * reads use `diaObjectId in [..30]` with `midpointMjdTai >=`, which needs composite indexes
 * (diaObjectId ASC, midpointMjdTai ASC) on DiaSource and DiaForcedSource.
 *
 * Firestore limits respected: rows are small (a DiaObject is ~5 KB of the 1 MiB limit), writes go
 * in batches of at most 500, and no document is written more than once per (visit, detector):
 * there are no counters or other shared documents.
 */
import type { Firestore } from '@google-cloud/firestore';
import { summarizeDiaObject } from '../association/diaobject.js';
import { coneRanges, healpixNest, separationDeg } from '../healpix/index.js';
import type {
  Apdb,
  DiaForcedSource,
  DiaObject,
  DiaSource,
  SkyCone,
  VisitBatch,
} from '../apdb/types.js';

/** Firestore's limit of writes in one batch. */
export const MAX_BATCH_WRITES = 500;
/** Firestore's limit of values in an `in` filter. */
const MAX_IN_VALUES = 30;
const ALREADY_EXISTS = 6;
/** DiaObject transactions (of <= MAX_IN_VALUES objects each) in flight at once per stored visit. */
const MAX_CONCURRENT_UPDATES = 4;

export interface FirestoreApdbOptions {
  /** Prefix of the collection names (e.g. 'test_'); default ''. */
  prefix?: string;
}

type Row = { ra: number; dec: number };

function withPixel<T extends Row>(row: T): T & { healpix16: number | null } {
  const ok = Number.isFinite(row.ra) && Number.isFinite(row.dec);
  return { ...row, healpix16: ok ? healpixNest(row.ra, row.dec) : null };
}

function withoutPixel<T>(data: Record<string, unknown>): T {
  const row = { ...data };
  delete row.healpix16;
  return row as T;
}

export class FirestoreApdb implements Apdb {
  private readonly names: { objects: string; sources: string; forced: string; visits: string };

  constructor(
    private readonly db: Firestore,
    options: FirestoreApdbOptions = {},
  ) {
    const p = options.prefix ?? '';
    this.names = {
      objects: `${p}DiaObject`,
      sources: `${p}DiaSource`,
      forced: `${p}DiaForcedSource`,
      visits: `${p}ApdbVisit`,
    };
  }

  async getDiaObjectsInRegion(cone: SkyCone): Promise<DiaObject[]> {
    const col = this.db.collection(this.names.objects);
    const snaps = await Promise.all(
      coneRanges(cone.ra, cone.dec, cone.radiusDeg).map(([lo, hi]) =>
        col.where('healpix16', '>=', lo).where('healpix16', '<', hi).get(),
      ),
    );
    return snaps
      .flatMap((snap) => snap.docs.map((d) => withoutPixel<DiaObject>(d.data())))
      .filter((o) => separationDeg(cone.ra, cone.dec, o.ra, o.dec) <= cone.radiusDeg);
  }

  getDiaSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaSource[]> {
    return this.history<DiaSource>(this.names.sources, ids, sinceMjd);
  }

  getForcedSourcesForObjects(ids: readonly number[], sinceMjd: number): Promise<DiaForcedSource[]> {
    return this.history<DiaForcedSource>(this.names.forced, ids, sinceMjd);
  }

  private async history<T>(
    collection: string,
    ids: readonly number[],
    sinceMjd: number,
  ): Promise<T[]> {
    const col = this.db.collection(collection);
    const chunks: number[][] = [];
    for (let k = 0; k < ids.length; k += MAX_IN_VALUES)
      chunks.push(ids.slice(k, k + MAX_IN_VALUES));
    const snaps = await Promise.all(
      chunks.map((chunk) =>
        col.where('diaObjectId', 'in', chunk).where('midpointMjdTai', '>=', sinceMjd).get(),
      ),
    );
    return snaps.flatMap((snap) => snap.docs.map((d) => withoutPixel<T>(d.data())));
  }

  private visitDoc(visit: number, detector: number) {
    return this.db.collection(this.names.visits).doc(`${visit}_${detector}`);
  }

  async hasVisit(visit: number, detector: number): Promise<boolean> {
    return (await this.visitDoc(visit, detector).get()).exists;
  }

  async visitDigest(visit: number, detector: number): Promise<string | null | undefined> {
    const snap = await this.visitDoc(visit, detector).get();
    return snap.exists ? ((snap.get('imageDigest') as string | undefined) ?? null) : undefined;
  }

  /**
   * Writes sources, forced sources and objects (each document set whole, deterministic content)
   * in batches of <= 500, then creates the visit marker: a run interrupted midway rewrites the
   * same documents when replayed; once the marker exists a replay writes nothing.
   */
  async storeVisit(batch: VisitBatch): Promise<boolean> {
    if (await this.hasVisit(batch.visit, batch.detector)) return false;
    // Objects this visit created are its own; the others may be updated by a concurrent visit.
    const created = new Set(batch.diaSources.map((s) => s.diaSourceId));
    const shared =
      batch.historySinceMjd === undefined
        ? []
        : batch.diaObjects.filter((o) => !created.has(o.diaObjectId));
    const sharedSet = new Set(shared);
    const own = batch.diaObjects.filter((o) => !sharedSet.has(o));
    const writes: Array<{ collection: string; id: number; data: object }> = [
      ...batch.diaSources.map((s) => ({
        collection: this.names.sources,
        id: s.diaSourceId,
        data: withPixel(s),
      })),
      ...batch.forcedSources.map((f) => ({
        collection: this.names.forced,
        id: f.diaForcedSourceId,
        data: withPixel(f),
      })),
      ...own.map((o) => ({
        collection: this.names.objects,
        id: o.diaObjectId,
        data: withPixel(o),
      })),
    ];
    for (let k = 0; k < writes.length; k += MAX_BATCH_WRITES) {
      const wb = this.db.batch();
      for (const w of writes.slice(k, k + MAX_BATCH_WRITES))
        wb.set(this.db.collection(w.collection).doc(String(w.id)), w.data);
      await wb.commit();
    }
    // In id order, so that concurrent visits lock the DiaObjects they share in one order.
    const ids = shared.map((o) => o.diaObjectId).sort((a, b) => a - b);
    const chunks: number[][] = [];
    for (let k = 0; k < ids.length; k += MAX_IN_VALUES)
      chunks.push(ids.slice(k, k + MAX_IN_VALUES));
    const rows = new Map(shared.map((o) => [o.diaObjectId, o]));
    for (let k = 0; k < chunks.length; k += MAX_CONCURRENT_UPDATES) {
      await Promise.all(
        chunks.slice(k, k + MAX_CONCURRENT_UPDATES).map((chunk) =>
          this.updateObjects(
            chunk.map((id) => rows.get(id) as DiaObject),
            batch.historySinceMjd as number,
          ),
        ),
      );
    }
    try {
      await this.visitDoc(batch.visit, batch.detector).create({
        visit: batch.visit,
        detector: batch.detector,
        nDiaSources: batch.diaSources.length,
        imageDigest: batch.imageDigest ?? null,
      });
    } catch (err) {
      if ((err as { code?: number }).code === ALREADY_EXISTS) return false;
      throw err;
    }
    return true;
  }

  /**
   * Rewrites DiaObjects that other visits may update at the same time from everything stored
   * for them, in one transaction per chunk of <= 30 (one `in` query per history table): a row is
   * a function of its DiaSources and DiaForcedSources in the history window, so whichever visit
   * writes last (after its own sources) includes every visit's, and no update is lost (the
   * transaction locks the rows before it reads their history; Firestore retries on contention).
   */
  private async updateObjects(rows: DiaObject[], sinceMjd: number): Promise<void> {
    const col = this.db.collection(this.names.objects);
    const docs = rows.map((row) => col.doc(String(row.diaObjectId)));
    const ids = rows.map((row) => row.diaObjectId);
    await this.db.runTransaction(async (tx) => {
      const stored = await tx.getAll(...docs);
      const history = (collection: string) =>
        this.db
          .collection(collection)
          .where('diaObjectId', 'in', ids)
          .where('midpointMjdTai', '>=', sinceMjd);
      const [sources, forced] = await Promise.all([
        tx.get(history(this.names.sources)),
        tx.get(history(this.names.forced)),
      ]);
      const byObject = <T extends { diaObjectId: number | null; midpointMjdTai: number }>(
        snap: typeof sources,
      ) => {
        const out = new Map<number, T[]>(ids.map((id) => [id, []]));
        for (const d of snap.docs) {
          const row = withoutPixel<T>(d.data());
          if (row.diaObjectId !== null) out.get(row.diaObjectId)?.push(row);
        }
        for (const list of out.values()) list.sort((a, b) => a.midpointMjdTai - b.midpointMjdTai);
        return out;
      };
      const sourcesOf = byObject<DiaSource>(sources);
      const forcedOf = byObject<DiaForcedSource>(forced);
      rows.forEach((row, i) => {
        const previous = stored[i].exists
          ? withoutPixel<DiaObject>(stored[i].data() as Record<string, unknown>)
          : null;
        const merged = summarizeDiaObject(
          row.diaObjectId,
          sourcesOf.get(row.diaObjectId) ?? [],
          forcedOf.get(row.diaObjectId) ?? [],
          previous,
          Math.max(row.validityStartMjdTai, previous?.validityStartMjdTai ?? -Infinity),
        );
        tx.set(docs[i], withPixel(merged));
      });
    });
  }

  async close(): Promise<void> {
    await this.db.terminate();
  }
}
