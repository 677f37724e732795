/**
 * What the filtering service stores (in Firestore on the cloud, shared/adapters/filter-store.ts):
 * users' filters and their named sky regions (watchlists, watchmaps), and the interface to them.
 */

export type RegionKind = 'watchlist' | 'watchmap';

export interface FilterDoc {
  /** Unique id; also the `filterId` attribute of the filter's messages on `filtered-alerts`. */
  id: string;
  /** The user (Google account email, or a local token file's user) who owns it. */
  owner: string;
  name: string;
  /** The expression, as submitted. */
  where: string;
  paused: boolean;
  /** ISO time of creation. */
  createdAt: string;
  /** The Pub/Sub subscription that delivers its matches (a `filterId` subscription filter). */
  subscription: string;
}

export interface RegionDoc {
  owner: string;
  kind: RegionKind;
  name: string;
  /** The uploaded text: watchlist CSV or MOC (ASCII or JSON). */
  text: string;
  /** Watchlist entries or MOC cells, for quotas and listings. */
  size: number;
  createdAt: string;
}

export interface FilterStore {
  listFilters(owner?: string): Promise<FilterDoc[]>;
  getFilter(id: string): Promise<FilterDoc | null>;
  /** Replaces a filter (pause, resume). */
  putFilter(doc: FilterDoc): Promise<void>;
  /**
   * Adds a new filter unless its owner already holds `maxPerUser`, atomically (a transaction),
   * so that two instances creating at once cannot both pass; returns whether it was added.
   */
  createFilter(doc: FilterDoc, maxPerUser: number): Promise<boolean>;
  deleteFilter(id: string): Promise<void>;
  listRegions(owner: string, kind?: RegionKind): Promise<Array<Omit<RegionDoc, 'text'>>>;
  getRegion(owner: string, kind: RegionKind, name: string): Promise<RegionDoc | null>;
  /**
   * Writes (or replaces) a region unless it is new and its owner already holds `maxPerUser`,
   * atomically; returns whether it was written.
   */
  putRegion(doc: RegionDoc, maxPerUser: number): Promise<boolean>;
  deleteRegion(owner: string, kind: RegionKind, name: string): Promise<void>;
}

/** Where matches go: one `filtered-alerts` topic, a subscription per filter on its `filterId` attribute. */
export interface FilterStreams {
  /** Creates the filter's subscription (filter `attributes.filterId = "<id>"`); returns its name. */
  createStream(filterId: string, owner: string): Promise<string>;
  deleteStream(filterId: string): Promise<void>;
  /** Publishes an alert frame, unchanged, with its attributes plus `filterId`. */
  publish(frame: Buffer, attributes: Record<string, string>): Promise<void>;
}

/** How many matches each filter delivered in each visit, shared by all instances of the service. */
export interface MatchLedger {
  /**
   * Takes up to `want` more of a filter's `limit` matches in a visit, atomically (a Firestore
   * transaction on the cloud); returns how many it took: 0 once the visit's quota is spent.
   */
  claim(filterId: string, visit: number, want: number, limit: number): Promise<number>;
}
