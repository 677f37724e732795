/**
 * The filtering service's logic, cloud-free: the HTTP API's routes (functions/filter-api.ts is a
 * thin handler), per-user quotas, and the matcher the `alerts`-triggered function runs
 * (functions/filter-alerts.ts). Filters are compiled against their owner's watchlists and
 * watchmaps, so a user's names never reach another user's filters.
 */
import { randomUUID } from 'node:crypto';
import type { Alert } from '../alerts/types.js';
import { compileFilter, FilterError, type CompiledFilter, type SkyRegion } from './index.js';
import { parseMoc } from './moc.js';
import { FilterSet } from './filter-set.js';
import type {
  FilterDoc,
  FilterStore,
  FilterStreams,
  MatchLedger,
  RegionDoc,
  RegionKind,
} from './store.js';
import { parseWatchlistCsv, MAX_WATCHLIST_ENTRIES } from './watchlist.js';

export interface Quotas {
  /** Filters a user may hold (active or paused). */
  filtersPerUser: number;
  /** Watchlists plus watchmaps a user may hold. */
  regionsPerUser: number;
  /** Entries of one watchlist. */
  watchlistEntries: number;
  /** Bytes of one uploaded watchlist CSV or MOC. */
  regionBytes: number;
  /** Matches one filter may deliver per visit, all instances together; beyond it they are counted and dropped. */
  matchesPerVisit: number;
  /**
   * Matches an instance takes at once from a filter's shared per-visit count (one Firestore
   * transaction each). Larger means fewer transactions; an instance may hold up to this many
   * minus one unused when the visit ends, so with N instances up to (N - 1) x (this - 1) fewer
   * than matchesPerVisit can be delivered, never more.
   */
  matchesClaimedAtOnce: number;
  /** Days a replay may reach back. */
  replayDays: number;
}

/** Rubin's requirement: >= 100 users with ~20 full alerts per visit each; these leave headroom. */
export const DEFAULT_QUOTAS: Quotas = {
  filtersPerUser: 20,
  regionsPerUser: 10,
  watchlistEntries: MAX_WATCHLIST_ENTRIES,
  regionBytes: 8 * 1024 * 1024,
  matchesPerVisit: 200,
  matchesClaimedAtOnce: 10,
  replayDays: 30,
};

export interface ApiRequest {
  method: string;
  /** Path without the query string, e.g. /v1/filters/abc. */
  path: string;
  body: unknown;
  /** The authenticated user. */
  user: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

/** A request the user can fix: its status and one line saying why. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Per-visit grants kept before they are forgotten (a night has ~1,000 visits). */
const MAX_COUNTED_VISITS = 100_000;
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function field(body: unknown, name: string): string {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
  if (typeof value !== 'string' || value === '')
    throw new ApiError(400, `body needs a string "${name}"`);
  return value;
}

function checkName(name: string): string {
  if (!NAME.test(name))
    throw new ApiError(400, `name '${name.slice(0, 64)}' must be 1-64 of A-Z a-z 0-9 _ . -`);
  return name;
}

/** Parses a region's text; an Error's message names the cause. */
export function parseRegion(kind: RegionKind, text: string): { region: SkyRegion; size: number } {
  if (kind === 'watchlist') {
    const list = parseWatchlistCsv(text);
    return { region: list, size: list.entries.length };
  }
  const moc = parseMoc(text);
  return { region: moc, size: moc.rangeCount };
}

/** Parsed regions by owner, kind and name, kept while their upload time is unchanged. */
export type RegionCache = Map<string, { createdAt: string; region: SkyRegion }>;

/**
 * Compiles a filter with its owner's regions, loading only the ones it names; with a cache, a
 * region is read and parsed again only when it was uploaded again (a 100,000-entry watchlist
 * takes seconds to index).
 */
export async function compileForOwner(
  store: FilterStore,
  owner: string,
  where: string,
  cache: RegionCache = new Map(),
): Promise<CompiledFilter> {
  const watchlists = new Map<string, SkyRegion>();
  const watchmaps = new Map<string, SkyRegion>();
  for (const summary of await store.listRegions(owner)) {
    if (!where.includes(summary.name)) continue;
    const key = `${owner}|${summary.kind}|${summary.name}`;
    let cached = cache.get(key);
    if (cached?.createdAt !== summary.createdAt) {
      const doc = await store.getRegion(owner, summary.kind, summary.name);
      if (!doc) continue;
      let region: SkyRegion;
      try {
        region = parseRegion(summary.kind, doc.text).region;
      } catch (err) {
        // A stored region the code no longer reads: the filter's own fault, like a deleted one.
        throw new FilterError(
          Math.max(0, where.indexOf(summary.name)),
          `${summary.kind} '${summary.name}' no longer parses: ${(err as Error).message}`,
        );
      }
      cached = { createdAt: doc.createdAt, region };
      cache.set(key, cached);
    }
    (summary.kind === 'watchlist' ? watchlists : watchmaps).set(summary.name, cached.region);
  }
  return compileFilter(where, { watchlists, watchmaps });
}

export class FilterApi {
  constructor(
    private readonly store: FilterStore,
    private readonly streams: FilterStreams,
    private readonly quotas: Quotas = DEFAULT_QUOTAS,
    /** Runs a replay (shared/filter/replay.ts) and returns what it did. */
    private readonly replay?: (
      filter: CompiledFilter,
      doc: FilterDoc,
      days: number,
    ) => Promise<unknown>,
  ) {}

  async handle(req: ApiRequest): Promise<ApiResponse> {
    try {
      return await this.route(req);
    } catch (err) {
      if (err instanceof ApiError) return { status: err.status, body: { error: err.message } };
      if (err instanceof FilterError)
        return { status: 400, body: { error: `where: ${err.message}`, position: err.position } };
      throw err;
    }
  }

  private async route(req: ApiRequest): Promise<ApiResponse> {
    const parts = req.path.split('/').filter(Boolean);
    if (parts[0] !== 'v1' || parts.length < 2)
      throw new ApiError(404, `no such path ${req.path.slice(0, 100)}`);
    const [, collection, id, action] = parts;
    const method = req.method.toUpperCase();
    if (collection === 'filters') {
      if (method === 'GET' && !id)
        return { status: 200, body: { filters: await this.store.listFilters(req.user) } };
      if (method === 'POST' && !id) return this.createFilter(req);
      const doc = id ? await this.store.getFilter(id) : null;
      if (!doc || doc.owner !== req.user)
        throw new ApiError(404, `no filter ${String(id).slice(0, 64)}`);
      if (method === 'GET' && !action) return { status: 200, body: doc };
      if (method === 'DELETE' && !action) {
        await this.streams.deleteStream(doc.id);
        await this.store.deleteFilter(doc.id);
        return { status: 200, body: { deleted: doc.id } };
      }
      if (method === 'POST' && (action === 'pause' || action === 'resume')) {
        const next = { ...doc, paused: action === 'pause' };
        await this.store.putFilter(next);
        return { status: 200, body: next };
      }
      if (method === 'POST' && action === 'replay') return this.replayFilter(doc, req.body);
    }
    if (collection === 'watchlists' || collection === 'watchmaps') {
      const kind: RegionKind = collection === 'watchlists' ? 'watchlist' : 'watchmap';
      if (method === 'GET' && !id)
        return {
          status: 200,
          body: { [collection]: await this.store.listRegions(req.user, kind) },
        };
      if (method === 'POST' && !id) return this.createRegion(req, kind);
      const doc = id ? await this.store.getRegion(req.user, kind, id) : null;
      if (!doc) throw new ApiError(404, `no ${kind} ${String(id).slice(0, 64)}`);
      const { text, ...summary } = doc;
      if (method === 'GET' && !action) return { status: 200, body: { ...summary, text } };
      if (method === 'DELETE' && !action) {
        const users = (await this.store.listFilters(req.user)).filter((f) =>
          f.where.includes(`'${doc.name}'`),
        );
        if (users.length)
          throw new ApiError(
            409,
            `${kind} ${doc.name} is used by filter(s) ${users.map((f) => f.id).join(', ')}`,
          );
        await this.store.deleteRegion(req.user, kind, doc.name);
        return { status: 200, body: { deleted: doc.name } };
      }
    }
    throw new ApiError(405, `${method} ${req.path.slice(0, 100)} is not supported`);
  }

  private async createFilter(req: ApiRequest): Promise<ApiResponse> {
    const name = checkName(field(req.body, 'name'));
    const where = field(req.body, 'where');
    const existing = await this.store.listFilters(req.user);
    if (existing.length >= this.quotas.filtersPerUser)
      throw new ApiError(429, `quota: at most ${this.quotas.filtersPerUser} filters per user`);
    const compiled = await compileForOwner(this.store, req.user, where);
    const id = randomUUID();
    const subscription = await this.streams.createStream(id, req.user);
    const doc: FilterDoc = {
      id,
      owner: req.user,
      name,
      where,
      paused: false,
      createdAt: new Date().toISOString(),
      subscription,
    };
    if (!(await this.store.createFilter(doc, this.quotas.filtersPerUser))) {
      await this.streams.deleteStream(id);
      throw new ApiError(429, `quota: at most ${this.quotas.filtersPerUser} filters per user`);
    }
    return { status: 201, body: { ...doc, explain: compiled.explain, cost: compiled.cost } };
  }

  private async createRegion(req: ApiRequest, kind: RegionKind): Promise<ApiResponse> {
    const name = checkName(field(req.body, 'name'));
    const text = field(req.body, kind === 'watchlist' ? 'csv' : 'moc');
    if (Buffer.byteLength(text) > this.quotas.regionBytes)
      throw new ApiError(413, `quota: a ${kind} is at most ${this.quotas.regionBytes} bytes`);
    const existing = await this.store.listRegions(req.user);
    if (
      !existing.some((r) => r.kind === kind && r.name === name) &&
      existing.length >= this.quotas.regionsPerUser
    )
      throw new ApiError(
        429,
        `quota: at most ${this.quotas.regionsPerUser} watchlists and watchmaps per user`,
      );
    let size: number;
    try {
      size = parseRegion(kind, text).size;
    } catch (err) {
      throw new ApiError(400, `${kind} ${name}: ${(err as Error).message}`);
    }
    if (kind === 'watchlist' && size > this.quotas.watchlistEntries)
      throw new ApiError(429, `quota: at most ${this.quotas.watchlistEntries} watchlist entries`);
    const doc: RegionDoc = {
      owner: req.user,
      kind,
      name,
      text,
      size,
      createdAt: new Date().toISOString(),
    };
    if (!(await this.store.putRegion(doc, this.quotas.regionsPerUser)))
      throw new ApiError(
        429,
        `quota: at most ${this.quotas.regionsPerUser} watchlists and watchmaps per user`,
      );
    return { status: 201, body: { owner: doc.owner, kind, name, size, createdAt: doc.createdAt } };
  }

  private async replayFilter(doc: FilterDoc, body: unknown): Promise<ApiResponse> {
    if (!this.replay) throw new ApiError(501, 'replay is not configured');
    const days = Number((body as { days?: unknown } | null)?.days ?? 1);
    if (!(days > 0 && days <= this.quotas.replayDays))
      throw new ApiError(400, `days must be in (0, ${this.quotas.replayDays}]`);
    const compiled = await compileForOwner(this.store, doc.owner, doc.where);
    return {
      status: 200,
      body: { filterId: doc.id, days, ...((await this.replay(compiled, doc, days)) as object) },
    };
  }
}

/** Where the matcher stands on a frame, for the reason of a failure: reading the filters, decoding, or counting the quota. */
export interface MatchProgress {
  stage: 'filters' | 'decode' | 'quota';
}

/** What the matcher reads beside the filters: the visit, which its quota is counted by. */
const SERVICE_READS = [['diaSource', 'visit']] as const;

/** An instance's share of a filter's per-visit matches, taken from the shared ledger. */
interface Grant {
  left: number;
  /** The ledger had none left: the visit's quota is spent. */
  spent: boolean;
  claiming: Promise<void> | null;
}

/**
 * The active filters of all users, compiled, refreshed from the store at most every `ttlMs`.
 * Matches are capped per filter and visit across all instances: each instance takes blocks of
 * the count from the ledger (`matchesClaimedAtOnce`); what the cap drops is counted.
 */
export class FilterMatcher {
  private set = new FilterSet(SERVICE_READS);
  private loadedAt = -Infinity;
  /** The refresh in flight, shared by the alerts that find the filters stale meanwhile. */
  private refreshing: Promise<void> | null = null;
  private readonly grants = new Map<string, Grant>();
  private readonly regions: RegionCache = new Map();
  /** Matches dropped by the per-visit quota, by filter id. */
  readonly dropped = new Map<string, number>();
  /** Filters that no longer compile (a region deleted or changed), with the error. */
  readonly broken = new Map<string, string>();

  constructor(
    private readonly store: FilterStore,
    private readonly ledger: MatchLedger,
    private readonly quotas: Quotas = DEFAULT_QUOTAS,
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Reads and compiles the active filters. A filter that no longer compiles (FilterError: a
   * region deleted or changed) is left out and listed in `broken`; any other failure (the store
   * unreachable) fails the refresh and keeps the filters as they were, so that no filter is
   * skipped for an alert because a read failed: the alert fails and is retried instead.
   */
  async refresh(): Promise<void> {
    const docs = (await this.store.listFilters()).filter((d) => !d.paused);
    const set = new FilterSet(SERVICE_READS);
    const broken = new Map<string, string>();
    for (const doc of docs) {
      try {
        set.set(doc.id, await compileForOwner(this.store, doc.owner, doc.where, this.regions));
      } catch (err) {
        if (!(err instanceof FilterError)) throw err;
        broken.set(doc.id, err.message);
      }
    }
    this.set = set;
    this.broken.clear();
    for (const [id, message] of broken) this.broken.set(id, message);
    this.loadedAt = this.now();
  }

  /** The filters, refreshed first when older than `ttlMs` (one refresh for all waiting alerts). */
  private async current(): Promise<FilterSet> {
    if (this.now() - this.loadedAt > this.ttlMs)
      await (this.refreshing ??= this.refresh().finally(() => (this.refreshing = null)));
    return this.set;
  }

  /**
   * Ids of the active filters that match the alert of a frame and are within their per-visit
   * quota. The frame is decoded once, to the fields the filters read; a frame that is not an
   * alert throws AlertDecodeError (./projection.ts). `progress` says where a failure happened.
   */
  async matchFrame(
    frame: Uint8Array,
    progress: MatchProgress = { stage: 'filters' },
  ): Promise<string[]> {
    progress.stage = 'filters';
    const set = await this.current();
    progress.stage = 'decode';
    const alert = set.decode(frame);
    progress.stage = 'quota';
    return this.withinQuota(set.match(alert), alert.diaSource.visit);
  }

  /** The same for an alert already decoded in full. */
  async match(alert: Alert): Promise<string[]> {
    const set = await this.current();
    return this.withinQuota(set.match(alert), alert.diaSource.visit);
  }

  private async withinQuota(matched: string[], visit: number): Promise<string[]> {
    const taken = await Promise.all(matched.map((id) => this.take(id, visit)));
    return matched.filter((id, k) => {
      if (!taken[k]) this.dropped.set(id, (this.dropped.get(id) ?? 0) + 1);
      return taken[k];
    });
  }

  /** Takes one of a filter's matches in a visit: from this instance's grant, else from the ledger. */
  private async take(filterId: string, visit: number): Promise<boolean> {
    const key = `${filterId}/${visit}`;
    if (this.grants.size > MAX_COUNTED_VISITS) this.grants.clear();
    let grant = this.grants.get(key);
    if (!grant) this.grants.set(key, (grant = { left: 0, spent: false, claiming: null }));
    for (;;) {
      if (grant.left > 0) {
        grant.left--;
        return true;
      }
      if (grant.spent) return false;
      const g = grant;
      g.claiming ??= this.ledger
        .claim(filterId, visit, this.quotas.matchesClaimedAtOnce, this.quotas.matchesPerVisit)
        .then((n) => {
          g.left += n;
          g.spent = n === 0;
        })
        .finally(() => {
          g.claiming = null;
        });
      await g.claiming;
    }
  }
}
