/**
 * Template tiles in Firestore (docs/contracts.md): one record per (band, tile) in `TemplateTile`,
 * document `{band}_hpx8-{tile}`, with its candidates in the subcollection `candidates` (one
 * document per image and generation, so a redelivered candidate is recorded once). A tile is
 * `collecting` until its first build succeeds, then `frozen`: only a release makes a new version.
 * A build holds the tile's lease (AP_LEASE_SECONDS, renewed by the running build every third of
 * it) so that two deliveries never build one tile at once, and a killed build's lease lapses soon.
 */
import type { Firestore } from '@google-cloud/firestore';
import { TILE_ORDER } from '../shared/prompt/template-tiles.js';
import { candidateId, type TemplateCandidate } from '../shared/template/candidates.js';

export const TEMPLATE_TILE_COLLECTION = 'TemplateTile';

export type TileState = 'collecting' | 'frozen';

export interface TileRecord {
  band: string;
  tile: number;
  state: TileState;
  /** Distinct candidates recorded. */
  candidates: number;
  /** Candidates there were at the last build that found too few usable inputs (no new build until more arrive). */
  triedAt: number;
  /** Why the tile has no template yet (the last build's reason), or null. */
  reason: string | null;
  /** Version of the frozen template (0: none yet), its TMPLID (null when the file has none) and inputs. */
  version: number;
  tmplId: string | null;
  nUsed: number;
  /** Inputs of the last build not used, with the reason each. */
  rejected: Array<{ file: string; reason: string }>;
  /** Fraction of the tile the frozen template covers (shared/template/candidates.ts tileFillFactor). */
  fillFactor: number;
  /** Wall time of the last build, seconds, and when it froze (ISO). */
  buildSeconds: number | null;
  builtAt: string | null;
  /** Until when a build holds the tile (ISO), or null. */
  leaseUntil: string | null;
  updatedAt: string;
}

/** What a frozen build records. */
export type FrozenBuild = Pick<
  TileRecord,
  'version' | 'tmplId' | 'nUsed' | 'rejected' | 'fillFactor' | 'buildSeconds'
>;

export const tileDocId = (band: string, tile: number) => `${band}_hpx${TILE_ORDER}-${tile}`;

function fresh(band: string, tile: number): TileRecord {
  return {
    band,
    tile,
    state: 'collecting',
    candidates: 0,
    triedAt: 0,
    reason: null,
    version: 0,
    tmplId: null,
    nUsed: 0,
    rejected: [],
    fillFactor: 0,
    buildSeconds: null,
    builtAt: null,
    leaseUntil: null,
    updatedAt: '',
  };
}

/**
 * Whether a build of the tile is due: collecting, with at least `minCandidates` candidates and more
 * than at its last build that found too few usable inputs.
 */
export function isDue(r: TileRecord, minCandidates: number): boolean {
  return r.state === 'collecting' && r.candidates >= minCandidates && r.candidates > r.triedAt;
}

/** Whether a build holds the tile now. */
export const isLeased = (r: TileRecord) =>
  r.leaseUntil !== null && Date.parse(r.leaseUntil) > Date.now();

export class TemplateTiles {
  constructor(
    private readonly db: Firestore,
    private readonly collection = TEMPLATE_TILE_COLLECTION,
  ) {}

  private doc(band: string, tile: number) {
    return this.db.collection(this.collection).doc(tileDocId(band, tile));
  }

  async get(band: string, tile: number): Promise<TileRecord | null> {
    const snap = await this.doc(band, tile).get();
    return snap.exists ? (snap.data() as TileRecord) : null;
  }

  /** Every tile record, or those of one band. */
  async list(band?: string): Promise<TileRecord[]> {
    const base = this.db.collection(this.collection);
    const snap = await (band ? base.where('band', '==', band) : base).get();
    return snap.docs.map((d) => d.data() as TileRecord);
  }

  /** Records the candidate for the tile once (with its overlap there); the tile's record after. */
  async record(c: TemplateCandidate, tile: number, overlap: number): Promise<TileRecord> {
    const tileDoc = this.doc(c.band, tile);
    const candidateDoc = tileDoc.collection('candidates').doc(candidateId(c));
    return this.db.runTransaction(async (tx) => {
      const [t, seen] = await Promise.all([tx.get(tileDoc), tx.get(candidateDoc)]);
      const current = t.exists ? (t.data() as TileRecord) : fresh(c.band, tile);
      if (seen.exists) return current;
      tx.set(candidateDoc, {
        ...c,
        tiles: undefined,
        overlaps: undefined,
        overlap,
        recordedAt: new Date().toISOString(),
      });
      const next = {
        ...current,
        candidates: current.candidates + 1,
        updatedAt: new Date().toISOString(),
      };
      tx.set(tileDoc, next);
      return next;
    });
  }

  /** The tile's candidates, oldest first. */
  async candidates(band: string, tile: number): Promise<TemplateCandidate[]> {
    const snap = await this.doc(band, tile).collection('candidates').get();
    return snap.docs
      .map((d) => {
        const { overlap, ...c } = d.data() as Omit<TemplateCandidate, 'tiles' | 'overlaps'> & {
          overlap?: number;
        };
        return { ...c, tiles: [tile], overlaps: [overlap ?? 1] };
      })
      .sort((a, b) => a.mjd - b.mjd || a.key.localeCompare(b.key));
  }

  /**
   * Takes the tile's build lease when a build is due: a collecting tile with at least `minInputs`
   * candidates and more than at its last try, or any tile when `release` (an operator's call).
   * Null when not due or another build holds the lease (`busy`).
   */
  async claimBuild(
    band: string,
    tile: number,
    minInputs: number,
    leaseSeconds: number,
    release = false,
  ): Promise<{ record: TileRecord | null; busy: boolean }> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.doc(band, tile));
      const r = snap.exists ? (snap.data() as TileRecord) : fresh(band, tile);
      if (isLeased(r)) return { record: null, busy: true };
      if (!release && !isDue(r, minInputs)) return { record: null, busy: false };
      const record = {
        ...r,
        leaseUntil: new Date(Date.now() + leaseSeconds * 1000).toISOString(),
        updatedAt: new Date().toISOString(),
      };
      tx.set(this.doc(band, tile), record);
      return { record, busy: false };
    });
  }

  /**
   * Extends the build lease that ends at `until` (the running build's heartbeat) to `leaseSeconds`
   * from now; the lease's new end, or null when the build no longer holds it (it ended, or lapsed
   * and another delivery took the tile over).
   */
  async renewLease(
    band: string,
    tile: number,
    until: string,
    leaseSeconds: number,
  ): Promise<string | null> {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.doc(band, tile));
      if (!snap.exists || (snap.data() as TileRecord).leaseUntil !== until) return null;
      const leaseUntil = new Date(Date.now() + leaseSeconds * 1000).toISOString();
      tx.update(this.doc(band, tile), { leaseUntil, updatedAt: new Date().toISOString() });
      return leaseUntil;
    });
  }

  private async change(band: string, tile: number, f: (r: TileRecord) => TileRecord) {
    return this.db.runTransaction(async (tx) => {
      const snap = await tx.get(this.doc(band, tile));
      const next = {
        ...f(snap.exists ? (snap.data() as TileRecord) : fresh(band, tile)),
        updatedAt: new Date().toISOString(),
      };
      tx.set(this.doc(band, tile), next);
      return next;
    });
  }

  /** The build froze the tile at this version. */
  markFrozen(band: string, tile: number, build: FrozenBuild): Promise<TileRecord> {
    return this.change(band, tile, (r) => ({
      ...r,
      ...build,
      state: 'frozen',
      reason: null,
      builtAt: new Date().toISOString(),
      leaseUntil: null,
    }));
  }

  /** The build found too few usable inputs among `tried` candidates: wait for more. */
  markWaiting(
    band: string,
    tile: number,
    tried: number,
    reason: string,
    rejected: TileRecord['rejected'],
  ): Promise<TileRecord> {
    return this.change(band, tile, (r) => ({
      ...r,
      triedAt: tried,
      reason,
      rejected,
      leaseUntil: null,
    }));
  }

  /** Gives the lease back after a failed build (the reason is kept). */
  release(band: string, tile: number, reason: string): Promise<TileRecord> {
    return this.change(band, tile, (r) => ({ ...r, reason, leaseUntil: null }));
  }
}
