/**
 * The filtering service's parts of a function instance: the filter store and the per-visit
 * match ledger (Firestore), the
 * streams (Pub/Sub `filtered-alerts`), who is calling (Google ID tokens, or a local token file
 * named by AP_FILTER_TOKENS on the emulators) and the quotas, built once per instance.
 */
import { FirestoreFilterStore, FirestoreMatchLedger } from '../shared/adapters/filter-store.js';
import { PubSubFilterStreams } from '../shared/adapters/filter-streams.js';
import { googleIdentity, tokenFileIdentity, type Identify } from '../shared/adapters/identity.js';
import { DEFAULT_QUOTAS, FilterMatcher, type Quotas } from '../shared/filter/service.js';
import type { FilterStore, MatchLedger } from '../shared/filter/store.js';
import { services } from './context.js';

export interface FilterServices {
  store: FilterStore;
  /** Matches per filter and visit, counted across instances. */
  ledger: MatchLedger;
  streams: PubSubFilterStreams;
  identify: Identify;
  quotas: Quotas;
  /**
   * Deadline of one filterAlerts invocation, seconds (AP_FILTER_DEADLINE_SECONDS): below the
   * function's timeout (60 s, terraform/functions.tf), so that a call that hangs on the last
   * delivery ends in a dead letter with its reason, not in the platform's timeout and the
   * subscription's reason-less dead letter.
   */
  deadlineSeconds: number;
  /** Created on the first alert. */
  matcher: FilterMatcher | null;
}

/** filterAlerts' default deadline: 80 % of its 60 s function timeout, as the other functions' AP_DEADLINE_SECONDS. */
export const FILTER_DEADLINE_SECONDS = 48;

let instance: FilterServices | null = null;

function identityFromEnv(env: NodeJS.ProcessEnv): Identify {
  if (env.AP_FILTER_TOKENS) return tokenFileIdentity(env.AP_FILTER_TOKENS);
  if (env.AP_FILTER_AUDIENCE) return googleIdentity(env.AP_FILTER_AUDIENCE);
  throw new Error(
    'filterApi needs AP_FILTER_AUDIENCE (its URL, for Google ID tokens) or AP_FILTER_TOKENS (a local token file)',
  );
}

export function filterServices(env: NodeJS.ProcessEnv = process.env): FilterServices {
  if (!instance) {
    let identify: Identify | null = null;
    const s = services();
    const quota = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
    instance = {
      store: new FirestoreFilterStore(s.firestore),
      ledger: new FirestoreMatchLedger(s.firestore),
      streams: new PubSubFilterStreams(s.pubsub, Boolean(env.AP_FILTER_AUDIENCE)),
      identify: (authorization) => (identify ??= identityFromEnv(env))(authorization),
      quotas: {
        ...DEFAULT_QUOTAS,
        matchesPerVisit: quota('AP_FILTER_MATCHES_PER_VISIT', DEFAULT_QUOTAS.matchesPerVisit),
        filtersPerUser: quota('AP_FILTER_FILTERS_PER_USER', DEFAULT_QUOTAS.filtersPerUser),
      },
      deadlineSeconds: quota('AP_FILTER_DEADLINE_SECONDS', FILTER_DEADLINE_SECONDS),
      matcher: null,
    };
  }
  return instance;
}

/** Replaces the instance's filtering services (tests and the local runner). */
export function setFilterServices(next: FilterServices | null): void {
  instance = next;
}
