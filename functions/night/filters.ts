/**
 * The night's alert filtering (shared/filter/README.md): example filters of one user, one per
 * capability of the language, created through the filtering API's logic before the night; the
 * filterAlerts function triggered by `alerts` (through the local Eventarc, on the main thread: it
 * is light); each filter's stream (its subscription on `filtered-alerts`) read back; and, as the
 * check, every alert also decoded from a subscription of its own and run through each filter
 * in process. The report says, per filter, what it matched and whether its stream received
 * exactly that, once each after de-duplication by diaSourceId, each message the alert's bytes
 * as published on `alerts` (compared by SHA-256).
 */
import { createHash } from 'node:crypto';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message } from '@google-cloud/pubsub';
import { startTriggerRunner, type TriggerRunner } from '../../emulators/triggers.js';
import { decodeAlert } from '../../shared/alerts/wire.js';
import { TOPICS } from '../../shared/cloud/names.js';
import type { CompiledFilter } from '../../shared/filter/index.js';
import { conePixels, healpixNest } from '../../shared/healpix/index.js';
import { compileForOwner, FilterApi } from '../../shared/filter/service.js';
import { filterAlerts } from '../filter-alerts.js';
import { filterServices } from '../filter-context.js';
import type { LocalCloud } from './cloud.js';
import { listen, type Listener } from './listen.js';

const USER = 'night@example.org';
const DEG_PER_ARCMIN = 1 / 60;

export interface FilterOutcome {
  name: string;
  where: string;
  /** Alerts the filter matches, evaluated in process over every alert the night published. */
  matched: number;
  /** Distinct diaSourceIds its stream received, and repeated deliveries. */
  received: number;
  duplicates: number;
  /** Messages whose bytes differ from the alert's as published on `alerts`. */
  altered: number;
  /** Whether the stream's set equals the matched set, every message unaltered. */
  exact: boolean;
  /** Up to 5 matched diaSourceIds, for the report. */
  examples: string[];
}

/** How long a stream may deliver nothing while it still lacks matches before the night stops waiting for it. */
const STREAM_STALL_MS = 30_000;

export interface NightFilters {
  /** Waits for `alerts` distinct alerts (at most a minute), for each stream's matches (while it makes progress) and quiet streams, stops, and reports each filter. */
  finish(alerts: number, quietMs?: number): Promise<FilterOutcome[]>;
}

/** A MOC of mixed orders around the boresight: order-12 pixels within 2', and one order-10 pixel beside. */
function fieldMoc(ra: number, dec: number): string {
  const inner = conePixels(ra, dec, 2 * DEG_PER_ARCMIN, 12);
  const beside = healpixNest(ra + 8 * DEG_PER_ARCMIN, dec, 10);
  return `10/${beside} 12/${inner.sort((a, b) => a - b).join(' ')}`;
}

/** A watchlist of every third of the night's simulated transients (2" circles), and far-away decoys. */
function transientCsv(positions: Array<{ ra: number; dec: number; id: number }>): string {
  const rows = positions
    .filter((_, k) => k % 3 === 0)
    .map((p) => `${p.ra},${p.dec},2,transient ${p.id}`);
  return `ra,dec,radius,name\n${rows.join('\n')}\n10,-30,5,decoy\n200,40,5,decoy\n`;
}

export async function startNightFilters(
  cloud: LocalCloud,
  boresight: [number, number],
  transients: Array<{ ra: number; dec: number; id: number }>,
): Promise<NightFilters> {
  // Every match of the night is delivered: the per-visit quota is not what the night shows.
  process.env.AP_FILTER_MATCHES_PER_VISIT = '1000000';
  const f = filterServices();
  const api = new FilterApi(f.store, f.streams, f.quotas);
  const call = async (path: string, body: unknown) => {
    const response = await api.handle({ method: 'POST', path, body, user: USER });
    if (response.status >= 300)
      throw new Error(`filter API ${path}: ${JSON.stringify(response.body)}`);
    return response.body as { id: string; subscription: string };
  };
  await call('/v1/watchlists', { name: 'transients', csv: transientCsv(transients) });
  await call('/v1/watchmaps', { name: 'centre', moc: fieldMoc(...boresight) });
  // Selective, as a user's filter is (Rubin plans for ~20 full alerts per visit per user): each
  // match republishes a whole alert. On the default night (6 visits, ~4,900 alerts) each matches
  // a few hundred, ~1,700 together, where the first examples matched ~9,700.
  const examples: Record<string, string> = {
    threshold:
      "diaSource.snr > 50 AND diaSource.reliability >= 0.9 AND diaSource.band IN ('g', 'r')",
    magnitude: 'mag(diaSource.psfFlux) BETWEEN 20 AND 21 AND NOT diaSource.isDipole',
    negative: 'diaSource.snr < -8 OR diaSource.isNegative',
    cone: `cone(${boresight[0]}, ${boresight[1]}, 120)`,
    watchlist: "watchlist('transients')",
    watchmap: "watchmap('centre') AND abs(diaSource.snr) >= 6",
    history: 'count(prvDiaSources) >= 2 AND mean(prvDiaSources.snr) > 40',
    object: 'diaObject.nDiaSources >= 3 AND diaObject.r_psfFluxMean > 12000',
  };
  const filters: Array<{
    name: string;
    where: string;
    id: string;
    compiled: CompiledFilter;
    received: Map<string, number>;
    digests: Array<[string, string]>;
  }> = [];
  for (const [name, where] of Object.entries(examples)) {
    const created = await call('/v1/filters', { name, where });
    filters.push({
      name,
      where,
      id: created.id,
      compiled: await compileForOwner(f.store, USER, where),
      received: new Map(),
      digests: [],
    });
  }

  await cloud.pubsub.createTopic('alerts-dead-letter').catch((err: { code?: number }) => {
    if (err.code !== 6) throw err;
  });
  const matched = new Map<string, Set<string>>(filters.map((x) => [x.name, new Set()]));
  const [check] = await cloud.pubsub
    .topic(TOPICS.alerts)
    .createSubscription('night-filter-check', { ackDeadlineSeconds: 60 });
  let last = Date.now();
  const seen = new Set<string>();
  const published = new Map<string, string>();
  const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const listeners: Listener[] = [
    listen(cloud.pubsub, check.name, { flowControl: { maxMessages: 2000 } }, (m: Message) => {
      const alert = decodeAlert(m.data);
      seen.add(String(alert.diaSourceId));
      published.set(String(alert.diaSourceId), digest(m.data));
      last = Date.now();
      for (const x of filters)
        if (x.compiled.matches(alert)) matched.get(x.name)?.add(String(alert.diaSourceId));
      m.ack();
    }),
    ...filters.map((x) =>
      listen(cloud.pubsub, `filter-${x.id}`, {}, (m: Message) => {
        const id = m.attributes.diaSourceId;
        x.received.set(id, (x.received.get(id) ?? 0) + 1);
        x.digests.push([id, digest(m.data)]);
        last = Date.now();
        m.ack();
      }),
    ),
  ];
  const runner: TriggerRunner = await startTriggerRunner({
    pubsubHost: cloud.emulators.pubsubHost,
    projectId: cloud.projectId,
    triggers: [
      {
        topic: TOPICS.alerts,
        subscription: 'eventarc-alerts-filterAlerts',
        handler: (event) => filterAlerts(event as unknown as CloudEvent<unknown>),
        deadLetterTopic: 'alerts-dead-letter',
        maxDeliveryAttempts: 5,
        minBackoffSeconds: 1,
        maxBackoffSeconds: 10,
      },
    ],
  });

  return {
    async finish(alerts, quietMs = 3000) {
      const started = Date.now();
      while (seen.size < alerts && Date.now() - started < 60_000)
        await new Promise((r) => setTimeout(r, 200));
      // Streams lag the alerts (filterAlerts works through its backlog): wait while any stream
      // lacks some of its filter's matches and still makes progress (a stall of STREAM_STALL_MS
      // ends the wait, and a real loss then shows as not exact), then for quiet streams.
      const complete = () =>
        filters.every((x) => [...(matched.get(x.name) ?? [])].every((id) => x.received.has(id)));
      while (!complete() && Date.now() - last < STREAM_STALL_MS)
        await new Promise((r) => setTimeout(r, 200));
      while (Date.now() - last < quietMs) await new Promise((r) => setTimeout(r, 200));
      await runner.stop();
      await Promise.all(listeners.map((l) => l.close()));
      return filters.map((x) => {
        const want = matched.get(x.name) ?? new Set<string>();
        const got = [...x.received.keys()];
        const altered = x.digests.filter(([id, d]) => published.get(id) !== d).length;
        return {
          name: x.name,
          where: x.where,
          matched: want.size,
          received: got.length,
          duplicates: [...x.received.values()].reduce((s, n) => s + n - 1, 0),
          altered,
          exact: altered === 0 && got.length === want.size && got.every((id) => want.has(id)),
          examples: [...want].slice(0, 5),
        };
      });
    },
  };
}
