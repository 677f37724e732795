/**
 * The filtering service's storage on Firestore (FilterStore of shared/filter/store.ts).
 *
 * Collections (names prefixed by `prefix`, default none):
 *   FilterDef/{filterId}                      a user's filter
 *   FilterRegion/{owner}|{kind}|{name}        a watchlist or watchmap, without its text
 *   FilterRegionChunk/{regionId}|{k}          the text in chunks of CHUNK_CHARS (a document is at
 *                                              most 1 MiB; a 100,000-entry watchlist is ~4 MB)
 *   FilterOwner/{owner}                       touched by every transaction that adds to an owner's
 *                                              filters or regions, so they serialize (a query locks
 *                                              only the documents it returns, not a new one)
 *   FilterMatchCount/{filterId}|{visit}       matches a filter delivered in a visit, all instances
 *                                              together (FirestoreMatchLedger); `expireAt` for a
 *                                              Firestore TTL policy (terraform/filtering.tf)
 * A region's chunks and summary are written in one transaction with the owner's count, so a
 * reader sees all of a version or none and the quota holds across instances.
 */
import { Timestamp, type Firestore, type Transaction } from '@google-cloud/firestore';
import type {
  FilterDoc,
  FilterStore,
  MatchLedger,
  RegionDoc,
  RegionKind,
} from '../filter/store.js';

/** Characters of region text per chunk document (ASCII CSV: ~512 KB). */
const CHUNK_CHARS = 512 * 1024;

type RegionSummary = Omit<RegionDoc, 'text'> & { chunks: number };

export class FirestoreFilterStore implements FilterStore {
  private readonly names: { filters: string; regions: string; chunks: string; owners: string };

  constructor(
    private readonly db: Firestore,
    prefix = '',
  ) {
    this.names = {
      filters: `${prefix}FilterDef`,
      regions: `${prefix}FilterRegion`,
      chunks: `${prefix}FilterRegionChunk`,
      owners: `${prefix}FilterOwner`,
    };
  }

  private regionId(owner: string, kind: RegionKind, name: string): string {
    return `${encodeURIComponent(owner)}|${kind}|${name}`;
  }

  async listFilters(owner?: string): Promise<FilterDoc[]> {
    const col = this.db.collection(this.names.filters);
    const snap = await (owner === undefined ? col.get() : col.where('owner', '==', owner).get());
    return snap.docs
      .map((d) => d.data() as FilterDoc)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async getFilter(id: string): Promise<FilterDoc | null> {
    if (id.includes('/')) return null;
    const snap = await this.db.collection(this.names.filters).doc(id).get();
    return snap.exists ? (snap.data() as FilterDoc) : null;
  }

  async putFilter(doc: FilterDoc): Promise<void> {
    await this.db.collection(this.names.filters).doc(doc.id).set(doc);
  }

  /**
   * Runs `body` in a transaction that first reads and at the end writes the owner's lock
   * document: two transactions adding to one owner's count cannot both commit on what they
   * counted.
   */
  private withOwnerLock(
    owner: string,
    body: (tx: Transaction) => Promise<boolean>,
  ): Promise<boolean> {
    const lock = this.db.collection(this.names.owners).doc(encodeURIComponent(owner));
    return this.db.runTransaction(async (tx) => {
      await tx.get(lock);
      const done = await body(tx);
      if (done) tx.set(lock, { owner, changedAt: new Date().toISOString() });
      return done;
    });
  }

  async createFilter(doc: FilterDoc, maxPerUser: number): Promise<boolean> {
    const col = this.db.collection(this.names.filters);
    return this.withOwnerLock(doc.owner, async (tx) => {
      const owned = await tx.get(col.where('owner', '==', doc.owner));
      if (owned.size >= maxPerUser) return false;
      tx.create(col.doc(doc.id), doc);
      return true;
    });
  }

  async deleteFilter(id: string): Promise<void> {
    await this.db.collection(this.names.filters).doc(id).delete();
  }

  async listRegions(owner: string, kind?: RegionKind): Promise<Array<Omit<RegionDoc, 'text'>>> {
    const snap = await this.db.collection(this.names.regions).where('owner', '==', owner).get();
    return snap.docs
      .map((d) => {
        const summary: Partial<RegionSummary> = { ...(d.data() as RegionSummary) };
        delete summary.chunks;
        return summary as Omit<RegionDoc, 'text'>;
      })
      .filter((r) => kind === undefined || r.kind === kind)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async getRegion(owner: string, kind: RegionKind, name: string): Promise<RegionDoc | null> {
    const id = this.regionId(owner, kind, name);
    const snap = await this.db.collection(this.names.regions).doc(id).get();
    if (!snap.exists) return null;
    const { chunks, ...summary } = snap.data() as RegionSummary;
    const refs = Array.from({ length: chunks }, (_, k) =>
      this.db.collection(this.names.chunks).doc(`${id}|${k}`),
    );
    const parts = refs.length ? await this.db.getAll(...refs) : [];
    return { ...summary, text: parts.map((p) => (p.data() as { text: string }).text).join('') };
  }

  async putRegion(doc: RegionDoc, maxPerUser: number): Promise<boolean> {
    const id = this.regionId(doc.owner, doc.kind, doc.name);
    const { text, ...summary } = doc;
    const chunks = Math.ceil(text.length / CHUNK_CHARS);
    const regions = this.db.collection(this.names.regions);
    return this.withOwnerLock(doc.owner, async (tx) => {
      const owned = await tx.get(regions.where('owner', '==', doc.owner));
      const old = owned.docs.find((d) => d.id === id);
      if (!old && owned.size >= maxPerUser) return false;
      const oldChunks = old ? (old.data() as RegionSummary).chunks : 0;
      for (let k = 0; k < chunks; k++)
        tx.set(this.db.collection(this.names.chunks).doc(`${id}|${k}`), {
          text: text.slice(k * CHUNK_CHARS, (k + 1) * CHUNK_CHARS),
        });
      for (let k = chunks; k < oldChunks; k++)
        tx.delete(this.db.collection(this.names.chunks).doc(`${id}|${k}`));
      tx.set(regions.doc(id), { ...summary, chunks });
      return true;
    });
  }

  async deleteRegion(owner: string, kind: RegionKind, name: string): Promise<void> {
    const id = this.regionId(owner, kind, name);
    const snap = await this.db.collection(this.names.regions).doc(id).get();
    if (!snap.exists) return;
    const batch = this.db.batch();
    for (let k = 0; k < (snap.data() as RegionSummary).chunks; k++)
      batch.delete(this.db.collection(this.names.chunks).doc(`${id}|${k}`));
    batch.delete(snap.ref);
    await batch.commit();
  }
}

/** How long a visit's match counts are kept (a TTL policy deletes them after): a visit is minutes. */
const MATCH_COUNT_TTL_MS = 2 * 86_400_000;

/** The per-visit match counts in Firestore, one document per filter and visit. */
export class FirestoreMatchLedger implements MatchLedger {
  private readonly collection: string;

  constructor(
    private readonly db: Firestore,
    prefix = '',
  ) {
    this.collection = `${prefix}FilterMatchCount`;
  }

  async claim(filterId: string, visit: number, want: number, limit: number): Promise<number> {
    const ref = this.db.collection(this.collection).doc(`${filterId}|${visit}`);
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(ref);
      const count = snap.exists ? (snap.data() as { count: number }).count : 0;
      const granted = Math.max(0, Math.min(want, limit - count));
      if (granted > 0)
        tx.set(ref, {
          filterId,
          visit,
          count: count + granted,
          expireAt: Timestamp.fromMillis(Date.now() + MATCH_COUNT_TTL_MS),
        });
      return granted;
    });
  }
}
