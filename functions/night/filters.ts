/**
 * The night's alert filtering (shared/filter/README.md): example filters of one user, one per
 * capability of the language, created through the filtering API's logic before the night; the
 * filterAlerts function triggered by `alerts` (through the local Eventarc, on the main thread: it
 * is light; restarted when its subscription's stream fails); each filter's stream (its
 * subscription on `filtered-alerts`) read back; filterAlerts' dead letters (`alerts-dead-letter`)
 * read with their reasons; and, as the check, every alert also decoded from a subscription of its
 * own and run through each filter in process. The report says, per filter, what it matched,
 * what its stream received (once each after de-duplication by diaSourceId, each message the
 * alert's bytes as published on `alerts`, compared by SHA-256), which of its matches were
 * dead-lettered instead, and which are neither (lost); and why the night stopped waiting.
 */
import { createHash } from 'node:crypto';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message } from '@google-cloud/pubsub';
import type { PubsubCloudEvent } from '../../emulators/triggers.js';
import { decodeAlert } from '../../shared/alerts/wire.js';
import { deadLetterTopic, TOPICS } from '../../shared/cloud/names.js';
import type { CompiledFilter } from '../../shared/filter/index.js';
import { conePixels, healpixNest } from '../../shared/healpix/index.js';
import { compileForOwner, FilterApi } from '../../shared/filter/service.js';
import { filterAlerts } from '../filter-alerts.js';
import { filterServices } from '../filter-context.js';
import type { LocalCloud } from './cloud.js';
import { freshSubscription, listen, type Listener } from './listen.js';
import { startRestartingTriggers } from './restarting-triggers.js';

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
  /** Matches its stream did not receive whose alert filterAlerts dead-lettered, with a reason. */
  deadLettered: number;
  /** Matches neither received nor dead-lettered: lost, or still on their way when the night stopped. */
  missing: number;
  /** Received diaSourceIds the filter does not match. */
  extra: number;
  /** Messages whose bytes differ from the alert's as published on `alerts`. */
  altered: number;
  /** Whether the stream's set equals the matched set, every message unaltered. */
  exact: boolean;
  /** Up to 5 matched diaSourceIds, for the report. */
  examples: string[];
}

/** A dead letter of filterAlerts: the alert (when its frame decodes) and why. */
export interface FilterDeadLetter {
  diaSourceId: string | null;
  /** The function's reason; for one forwarded by the subscription's policy, that and its delivery count. */
  reason: string;
  stage: string | null;
}

export interface FilterRun {
  outcomes: FilterOutcome[];
  /** Every message filterAlerts dead-lettered during the night. */
  deadLetters: FilterDeadLetter[];
  /** Alerts seen on `alerts`, and those filterAlerts finished (matched and published, or dead-lettered). */
  alerts: number;
  handled: number;
  /** Why the night stopped waiting: everything accounted for, or what it still lacked and for how long nothing moved. */
  stopped: string;
}

/** How long the night's own subscription of `alerts` may receive nothing while it lacks some of the broker's alerts before the night stops waiting for it. */
const ALERTS_STALL_MS = 60_000;
/** How long filterAlerts may finish no alert (nor dead-letter one) while some wait before the night stops waiting for it. */
const HANDLER_STALL_MS = 120_000;
/** How long a stream may deliver nothing while it still lacks matches before the night stops waiting for it. */
const STREAM_STALL_MS = 30_000;
/** The subscription the night reads filterAlerts' dead letters from. */
const DEAD_LETTER_SUBSCRIPTION = 'night-filter-dead-letters';

export interface NightFilters {
  /**
   * Waits for `alerts` distinct alerts (while they come), for filterAlerts to finish each (while it makes
   * progress), for each stream's matches (while they make progress) and quiet streams; stops, and
   * reports each filter, the dead letters and why it stopped.
   */
  finish(alerts: number, quietMs?: number): Promise<FilterRun>;
}

/** One thing the night waits for: how much is still lacking, when it last moved, how long it may stand still, and how that reads. */
interface Wait {
  lacking: () => number;
  movedAt: () => number;
  stallMs: number;
  /** What stood still, and what the count lacking counts. */
  quiet: string;
  lacks: string;
}

/** The wait's poll; a gap between two polls counts as quiet for at most twice this. */
const POLL_MS = 200;

/**
 * Waits until nothing is lacking or nothing has moved for `stallMs` of quiet; what is still
 * lacking. Quiet is summed poll by poll, each gap counted up to 2 x POLL_MS: when the main thread
 * stalls (a minute under load), the messages that came meanwhile wait in the sockets behind this
 * timer, and a stall must not read as quiet streams (the old wait measured wall time since the
 * last message and so could stop right after one, leaving matches uncounted).
 */
async function waitFor(w: Pick<Wait, 'lacking' | 'movedAt' | 'stallMs'>): Promise<number> {
  let quiet = 0;
  let moved = w.movedAt();
  let tick = Date.now();
  while (w.lacking() > 0 && quiet < w.stallMs) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const now = Date.now();
    quiet = w.movedAt() !== moved ? 0 : quiet + Math.min(now - tick, 2 * POLL_MS);
    moved = w.movedAt();
    tick = now;
  }
  return w.lacking();
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

  const deadTopic = deadLetterTopic(TOPICS.alerts);
  await cloud.pubsub.createTopic(deadTopic).catch((err: { code?: number }) => {
    if (err.code !== 6) throw err;
  });
  const dead = await freshSubscription(cloud.pubsub, deadTopic, DEAD_LETTER_SUBSCRIPTION);
  const matched = new Map<string, Set<string>>(filters.map((x) => [x.name, new Set()]));
  const [check] = await cloud.pubsub
    .topic(TOPICS.alerts)
    .createSubscription('night-filter-check', { ackDeadlineSeconds: 60 });
  /** When the check last received an alert, a stream delivered, and filterAlerts finished or dead-lettered an alert. */
  let lastSeen = Date.now();
  let lastDelivery = Date.now();
  let lastHandled = Date.now();
  const seen = new Set<string>();
  const handled = new Set<string>();
  const deadLetters: FilterDeadLetter[] = [];
  const deadIds = new Set<string>();
  const published = new Map<string, string>();
  const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');
  const listeners: Listener[] = [
    listen(cloud.pubsub, check.name, { flowControl: { maxMessages: 2000 } }, (m: Message) => {
      const alert = decodeAlert(m.data);
      seen.add(String(alert.diaSourceId));
      published.set(String(alert.diaSourceId), digest(m.data));
      lastSeen = Date.now();
      for (const x of filters)
        if (x.compiled.matches(alert)) matched.get(x.name)?.add(String(alert.diaSourceId));
      m.ack();
    }),
    ...filters.map((x) =>
      listen(cloud.pubsub, `filter-${x.id}`, {}, (m: Message) => {
        const id = m.attributes.diaSourceId;
        x.received.set(id, (x.received.get(id) ?? 0) + 1);
        x.digests.push([id, digest(m.data)]);
        lastDelivery = Date.now();
        m.ack();
      }),
    ),
    listen(cloud.pubsub, dead.name, {}, (m: Message) => {
      const id = m.attributes.diaSourceId ?? null;
      const reason =
        m.attributes.reason ??
        `no reason: forwarded by the subscription's dead-letter policy after ${m.attributes.CloudPubSubDeadLetterSourceDeliveryCount ?? '?'} deliveries`;
      deadLetters.push({ diaSourceId: id, reason, stage: m.attributes.stage ?? null });
      if (id) deadIds.add(id);
      lastHandled = Date.now();
      cloud.logs.add({
        severity: 'WARNING',
        message: 'dead letter received',
        topic: TOPICS.alerts,
        reason,
        diaSourceId: id,
      });
      m.ack();
    }),
  ];
  const runner = await startRestartingTriggers(
    cloud.emulators.pubsubHost,
    cloud.projectId,
    [
      {
        topic: TOPICS.alerts,
        subscription: 'eventarc-alerts-filterAlerts',
        handler: async (event: PubsubCloudEvent) => {
          await filterAlerts(event as unknown as CloudEvent<unknown>);
          const id = event.data.message.attributes?.diaSourceId;
          if (id) handled.add(id);
          lastHandled = Date.now();
        },
        deadLetterTopic: deadTopic,
        maxDeliveryAttempts: 5,
        minBackoffSeconds: 1,
        maxBackoffSeconds: 10,
      },
    ],
    cloud.logs,
  );

  /** Matches of a filter its stream has not received, and of those the ones whose alert was dead-lettered. */
  const lacking = (x: (typeof filters)[number]) =>
    [...(matched.get(x.name) ?? [])].filter((id) => !x.received.has(id));
  const unaccounted = () =>
    filters.reduce((n, x) => n + lacking(x).filter((id) => !deadIds.has(id)).length, 0);
  const unhandled = () => [...seen].filter((id) => !handled.has(id) && !deadIds.has(id)).length;

  return {
    async finish(alerts, quietMs = 3000) {
      const waits: Wait[] = [
        // The night's own copy of the alerts lags the broker under load.
        {
          lacking: () => alerts - seen.size,
          movedAt: () => lastSeen,
          stallMs: ALERTS_STALL_MS,
          quiet: "the night's subscription of alerts received nothing",
          lacks: `of the broker's ${alerts} alerts not seen`,
        },
        // filterAlerts works through its backlog, retrying failures.
        {
          lacking: unhandled,
          movedAt: () => lastHandled,
          stallMs: HANDLER_STALL_MS,
          quiet: 'filterAlerts finished nothing',
          lacks: 'alert(s) neither filtered nor dead-lettered',
        },
        // Streams lag the publishes a little.
        {
          lacking: unaccounted,
          movedAt: () => lastDelivery,
          stallMs: STREAM_STALL_MS,
          quiet: 'the streams delivered nothing',
          lacks: 'match(es) neither received nor dead-lettered',
        },
      ];
      const stops: string[] = [];
      for (const w of waits) {
        const lacking = await waitFor(w);
        if (lacking > 0)
          stops.push(`${w.quiet} for ${w.stallMs / 1000} s with ${lacking} ${w.lacks}`);
      }
      // Then for quiet streams, so that extras would show.
      await waitFor({ lacking: () => 1, movedAt: () => lastDelivery, stallMs: quietMs });
      await runner.stop();
      await Promise.all(listeners.map((l) => l.close()));
      const outcomes = filters.map((x) => {
        const want = matched.get(x.name) ?? new Set<string>();
        const got = [...x.received.keys()];
        const altered = x.digests.filter(([id, d]) => published.get(id) !== d).length;
        const notReceived = lacking(x);
        const deadLettered = notReceived.filter((id) => deadIds.has(id)).length;
        const extra = got.filter((id) => !want.has(id)).length;
        return {
          name: x.name,
          where: x.where,
          matched: want.size,
          received: got.length,
          duplicates: [...x.received.values()].reduce((s, n) => s + n - 1, 0),
          deadLettered,
          missing: notReceived.length - deadLettered,
          extra,
          altered,
          exact: altered === 0 && extra === 0 && notReceived.length === 0,
          examples: [...want].slice(0, 5),
        };
      });
      return {
        outcomes,
        deadLetters,
        alerts: seen.size,
        handled: [...seen].filter((id) => handled.has(id) || deadIds.has(id)).length,
        stopped: stops.length
          ? stops.join('; ')
          : 'every alert filtered or dead-lettered, every match received or dead-lettered',
      };
    },
  };
}
