/**
 * The filtering service end to end on the project's emulators: filterApi over HTTP (token file
 * authentication, per-user isolation and quotas, filters, watchlists and watchmaps in Firestore),
 * filterAlerts triggered by the `alerts` topic through the local Eventarc, and each filter's
 * subscription on `filtered-alerts` receiving exactly its filter's matches (after de-duplication
 * by diaSourceId), frames unchanged; pause stops a stream, replay publishes from the archive's
 * last N days only, delete removes the stream.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message } from '@google-cloud/pubsub';
import { startEmulators } from '../../emulators/main.js';
import { startTriggerRunner } from '../../emulators/triggers.js';
import { FirestoreFilterStore, FirestoreMatchLedger } from '../../shared/adapters/filter-store.js';
import { alertAttributes } from '../../shared/alerts/attributes.js';
import type { Alert } from '../../shared/alerts/types.js';
import { decodeAlert, encodeAlert } from '../../shared/alerts/wire.js';
import { compileFilter } from '../../shared/filter/index.js';
import { parseMoc } from '../../shared/filter/moc.js';
import { PubSubFilterStreams } from '../../shared/adapters/filter-streams.js';
import {
  compileForOwner,
  DEFAULT_QUOTAS,
  FilterApi,
  FilterMatcher,
} from '../../shared/filter/service.js';
import type { RegionKind } from '../../shared/filter/store.js';
import { mjdNow } from '../../shared/filter/replay.js';
import { parseWatchlistCsv } from '../../shared/filter/watchlist.js';
import { runScene } from '../alerts/scene.js';
import { watchlistCsv, watchmapMoc } from './cases.js';

const dir = mkdtempSync(join(tmpdir(), 'ap-filter-service-'));
const emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
Object.assign(process.env, emulators.env, {
  GOOGLE_CLOUD_PROJECT: 'filter-test',
  AP_BUCKET_PREFIX: 'ft',
  AP_FILTER_TOKENS: join(dir, 'tokens.json'),
  AP_FILTER_FILTERS_PER_USER: '6',
});
writeFileSync(
  join(dir, 'tokens.json'),
  JSON.stringify({ 'alice-token-0001': 'alice@example.org', 'bob-token-00002': 'bob@example.org' }),
);
const { services } = await import('../../functions/context.js');
const { filterAlerts } = await import('../../functions/filter-alerts.js');
const { filterApi } = await import('../../functions/filter-api.js');
functions.http('filterApi', filterApi);
const s = services();
for (const topic of ['alerts', 'filtered-alerts', 'alerts-dead-letter'])
  await s.pubsub.createTopic(topic);
await s.storage.createBucket('ft-alerts');
const server = getTestServer('filterApi').listen(0, 'localhost');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://localhost:${(server.address() as AddressInfo).port}`;
const runner = await startTriggerRunner({
  pubsubHost: emulators.pubsubHost,
  projectId: 'filter-test',
  triggers: [
    {
      topic: 'alerts',
      handler: (event) => filterAlerts(event as unknown as CloudEvent<unknown>),
      minBackoffSeconds: 1,
    },
  ],
});

after(async () => {
  await runner.stop();
  server.close();
  await s.pubsub.close();
  await s.firestore.terminate();
  await emulators.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
const alice = (method: string, path: string, body?: unknown) =>
  call(method, path, 'alice-token-0001', body);

/**
 * Messages on a subscription (acked): until `expected` distinct diaSourceIds have come (or a
 * minute passes), then until none arrives for `quietMs`, so that extras would be seen too.
 */
async function drain(subscription: string, expected = 0, quietMs = 1500): Promise<Message[]> {
  const sub = s.pubsub.subscription(subscription);
  const got: Message[] = [];
  const ids = new Set<string>();
  let last = Date.now();
  sub.on('message', (m: Message) => {
    got.push(m);
    ids.add(m.attributes.diaSourceId);
    last = Date.now();
    m.ack();
  });
  const started = Date.now();
  while (ids.size < expected && Date.now() - started < 60_000)
    await new Promise((r) => setTimeout(r, 100));
  while (Date.now() - last < quietMs) await new Promise((r) => setTimeout(r, 100));
  await sub.close();
  return got;
}

async function publishAlerts(alerts: Alert[]): Promise<void> {
  const topic = s.pubsub.topic('alerts');
  await Promise.all(
    alerts.map((a) =>
      topic.publishMessage({ data: encodeAlert(a), attributes: alertAttributes(a) }),
    ),
  );
}

const { visits } = await runScene(5, undefined, false);
const now = mjdNow();
// Recent alerts (one day old) and old ones (40 days), so a 30-day replay must tell them apart.
const alerts = visits
  .flatMap((v) => v.alerts)
  .map((a, k) => ({
    ...a,
    diaSource: { ...a.diaSource, midpointMjdTai: now - (k % 4 === 0 ? 40 : 1) },
  }));
const csv = watchlistCsv(alerts);
const moc = watchmapMoc(alerts);
const EXAMPLES: Record<string, string> = {
  bright: "diaSource.snr > 10 AND diaSource.band IN ('g', 'r')",
  faint: 'mag(diaSource.psfFlux) BETWEEN 21 AND 23 AND NOT diaSource.isDipole',
  cone: 'cone(150.1, 2.2, 60)',
  targets: "watchlist('targets')",
  field: "watchmap('field') AND abs(diaSource.snr) >= 6",
  history: 'count(prvDiaSources) >= 3 AND max(prvDiaSources.snr) > 15',
};
const expected = (where: string) => {
  const filter = compileFilter(where, {
    watchlists: new Map([['targets', parseWatchlistCsv(csv)]]),
    watchmaps: new Map([['field', parseMoc(moc)]]),
  });
  return alerts
    .filter((a) => filter.matches(a))
    .map((a) => a.diaSourceId)
    .sort((x, y) => x - y);
};

test('the API authenticates, isolates users, validates and enforces quotas', async () => {
  assert.equal((await call('GET', '/v1/filters', null)).status, 401);
  assert.equal((await call('GET', '/v1/filters', 'not-a-token-at-all')).status, 401);
  assert.equal((await alice('POST', '/v1/watchlists', { name: 'targets', csv })).status, 201);
  assert.equal((await alice('POST', '/v1/watchmaps', { name: 'field', moc })).status, 201);
  const badList = await alice('POST', '/v1/watchlists', { name: 'bad', csv: 'ra,dec\n1,2\n' });
  assert.equal(badList.status, 400);
  assert.match(String(badList.body.error), /header lacks column 'radius'/);
  const bad = await alice('POST', '/v1/filters', { name: 'bad', where: 'diaSource.snr >> 5' });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, `where: at column 16: expected a value, field or '(', found ">"`);
  const bobs = await call('POST', '/v1/filters', 'bob-token-00002', {
    name: 'x',
    where: "watchlist('targets')",
  });
  assert.equal(bobs.status, 400, "bob cannot use alice's watchlist");
  assert.match(String(bobs.body.error), /unknown watchlist "targets"/);
  const lists = await alice('GET', '/v1/watchlists');
  assert.deepEqual(
    (lists.body.watchlists as Array<{ name: string; size: number }>).map((w) => [w.name, w.size]),
    [['targets', csv.trim().split('\n').length - 1]],
  );
});

test("each filter's stream receives exactly its matches; pause, replay and delete", async () => {
  const ids: Record<string, { id: string; subscription: string }> = {};
  for (const [name, where] of Object.entries(EXAMPLES)) {
    const created = await alice('POST', '/v1/filters', { name, where });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    ids[name] = { id: String(created.body.id), subscription: String(created.body.subscription) };
  }
  const over = await alice('POST', '/v1/filters', { name: 'seventh', where: 'TRUE' });
  assert.equal(over.status, 429, 'quota of 6 filters');
  assert.equal(
    (await call('GET', `/v1/filters/${ids.bright.id}`, 'bob-token-00002')).status,
    404,
    "bob cannot see alice's filter",
  );
  assert.equal(
    (await alice('DELETE', '/v1/watchlists/targets')).status,
    409,
    'a watchlist in use is kept',
  );

  await publishAlerts(alerts);
  await publishAlerts(alerts.slice(0, 10)); // a redelivery: streams de-duplicate by diaSourceId
  for (const [name, where] of Object.entries(EXAMPLES)) {
    const messages = await drain(ids[name].subscription, expected(where).length);
    const got = [...new Set(messages.map((m) => Number(m.attributes.diaSourceId)))].sort(
      (x, y) => x - y,
    );
    assert.deepEqual(got, expected(where), name);
    for (const m of messages) {
      assert.equal(m.attributes.filterId, ids[name].id);
      assert.equal(
        decodeAlert(m.data).diaSourceId,
        Number(m.attributes.diaSourceId),
        'the frame is the alert, unchanged',
      );
    }
    assert.ok(got.length > 0, `${name} matched something`);
  }

  assert.equal((await alice('POST', `/v1/filters/${ids.cone.id}/pause`)).status, 200);
  const { filterServices } = await import('../../functions/filter-context.js');
  await filterServices().matcher?.refresh();
  await publishAlerts(alerts);
  for (const name of ['bright', 'targets', 'field', 'history', 'faint'])
    await drain(ids[name].subscription, expected(EXAMPLES[name]).length);
  assert.deepEqual(await drain(ids.cone.subscription), [], 'a paused filter delivers nothing');

  for (const a of alerts) await s.archive.putAlert(a.diaSourceId, encodeAlert(a));
  const replay = await alice('POST', `/v1/filters/${ids.bright.id}/replay`, { days: 30 });
  assert.equal(replay.status, 200, JSON.stringify(replay.body));
  const replayed = (await drain(ids.bright.subscription)).filter(
    (m) => m.attributes.replay === 'true',
  );
  const recent = alerts
    .filter((a) => a.diaSource.midpointMjdTai > now - 30)
    .map((a) => a.diaSourceId);
  assert.deepEqual(
    replayed.map((m) => Number(m.attributes.diaSourceId)).sort((x, y) => x - y),
    expected(EXAMPLES.bright).filter((id) => recent.includes(id)),
  );
  assert.equal(replay.body.published, replayed.length);

  assert.equal((await alice('DELETE', `/v1/filters/${ids.faint.id}`)).status, 200);
  const [exists] = await s.pubsub.subscription(ids.faint.subscription).exists();
  assert.equal(exists, false, 'the stream is deleted with its filter');
  assert.equal(
    (await alice('GET', '/v1/filters')).body.filters &&
      ((await alice('GET', '/v1/filters')).body.filters as unknown[]).length,
    5,
  );
});

test('the matcher re-reads a watchlist only when it was uploaded again', async () => {
  let reads = 0;
  class CountingStore extends FirestoreFilterStore {
    override async getRegion(owner: string, kind: RegionKind, name: string) {
      reads++;
      return super.getRegion(owner, kind, name);
    }
  }
  const store = new CountingStore(s.firestore);
  const matcher = new FilterMatcher(store, new FirestoreMatchLedger(s.firestore));
  await matcher.refresh();
  const first = reads;
  assert.ok(first >= 2, 'the watchlist and the watchmap in use are read');
  await matcher.refresh();
  assert.equal(reads, first, 'unchanged regions are not read again');
  await new Promise((r) => setTimeout(r, 5));
  assert.equal((await alice('POST', '/v1/watchlists', { name: 'targets', csv })).status, 201);
  await matcher.refresh();
  assert.equal(reads, first + 1, 'the uploaded watchlist is read once more');
});

test('the per-visit quota holds across instances: two matchers share the Firestore count', async () => {
  const quotas = { ...DEFAULT_QUOTAS, matchesPerVisit: 3, matchesClaimedAtOnce: 2 };
  const ledger = new FirestoreMatchLedger(s.firestore, 'quota-test-');
  const store = new FirestoreFilterStore(s.firestore);
  // Two instances of filterAlerts, each receiving every alert (as on redelivery or scale-out).
  const instances = [0, 1].map(() => new FilterMatcher(store, ledger, quotas));
  const frames = alerts.map((a) => encodeAlert(a));
  const delivered = new Map<string, number>();
  const matched = new Map<string, number>();
  await Promise.all(
    instances.map(async (matcher) => {
      for (const [k, frame] of frames.entries()) {
        const visit = alerts[k].diaSource.visit;
        for (const id of await matcher.matchFrame(frame)) {
          const key = `${id}/${visit}`;
          delivered.set(key, (delivered.get(key) ?? 0) + 1);
        }
      }
    }),
  );
  const active = (await store.listFilters()).filter((d) => !d.paused);
  const compiled = await Promise.all(
    active.map(async (d) => [d.id, await compileForOwner(store, d.owner, d.where)] as const),
  );
  for (const a of alerts)
    for (const [id, filter] of compiled)
      if (filter.matches(a)) {
        const key = `${id}/${a.diaSource.visit}`;
        matched.set(key, (matched.get(key) ?? 0) + 2);
      }
  assert.ok(
    [...matched.values()].some((n) => n > 3),
    'some filter matches more than the quota',
  );
  for (const [key, want] of matched) {
    const got = delivered.get(key) ?? 0;
    assert.ok(got <= 3, `${key}: ${got} delivered, more than the quota of 3`);
    // Each instance may be left holding one unused match of its last block of 2.
    assert.ok(got >= Math.min(3, want) - 2, `${key}: ${got} delivered of ${want} matched`);
  }
  const dropped = instances.reduce(
    (n, m) => n + [...m.dropped.values()].reduce((x, y) => x + y, 0),
    0,
  );
  assert.ok(dropped > 0, 'the matches beyond the quota are counted as dropped');
});

test('the store adds at most the quota of filters, however many transactions race', async () => {
  const store = new FirestoreFilterStore(s.firestore, 'race-');
  const doc = (k: number) => ({
    id: `race-${k}`,
    owner: 'dave@example.org',
    name: `r${k}`,
    where: 'TRUE',
    paused: false,
    createdAt: new Date().toISOString(),
    subscription: `filter-race-${k}`,
  });
  const added = await Promise.all(
    Array.from({ length: 8 }, (_, k) => store.createFilter(doc(k), 3)),
  );
  assert.equal(added.filter(Boolean).length, 3);
  assert.equal((await store.listFilters('dave@example.org')).length, 3);
});

test('filter and region quotas hold against concurrent creation', async () => {
  const bob = (method: string, path: string, body?: unknown) =>
    call(method, path, 'bob-token-00002', body);
  const streamsBefore = (await s.pubsub.getSubscriptions())[0].length;
  const created = await Promise.all(
    Array.from({ length: 9 }, (_, k) =>
      bob('POST', '/v1/filters', { name: `b${k}`, where: 'diaSource.snr > 1e9' }),
    ),
  );
  assert.deepEqual(
    created.map((r) => r.status).sort(),
    [...Array<number>(6).fill(201), ...Array<number>(3).fill(429)],
    'exactly the quota of 6 filters is created',
  );
  for (const r of created.filter((r) => r.status === 429))
    assert.match(String(r.body.error), /quota: at most 6 filters per user/);
  const filters = (await bob('GET', '/v1/filters')).body.filters as Array<{ id: string }>;
  assert.equal(filters.length, 6);
  assert.equal(
    (await s.pubsub.getSubscriptions())[0].length - streamsBefore,
    6,
    'a refused filter leaves no stream',
  );
  for (const f of filters) assert.equal((await bob('DELETE', `/v1/filters/${f.id}`)).status, 200);

  const n = DEFAULT_QUOTAS.regionsPerUser + 3;
  const regions = await Promise.all(
    Array.from({ length: n }, (_, k) =>
      bob('POST', '/v1/watchmaps', { name: `m${k}`, moc: '3/3 10' }),
    ),
  );
  assert.equal(
    regions.filter((r) => r.status === 201).length,
    DEFAULT_QUOTAS.regionsPerUser,
    'exactly the quota of regions is stored',
  );
  assert.equal(
    ((await bob('GET', '/v1/watchmaps')).body.watchmaps as unknown[]).length,
    DEFAULT_QUOTAS.regionsPerUser,
  );
  for (let k = 0; k < n; k++) await bob('DELETE', `/v1/watchmaps/m${k}`);

  const api = new FilterApi(
    new FirestoreFilterStore(s.firestore),
    new PubSubFilterStreams(s.pubsub),
    {
      ...DEFAULT_QUOTAS,
      watchlistEntries: 3,
    },
  );
  const upload = (rows: number) =>
    api.handle({
      method: 'POST',
      path: '/v1/watchlists',
      user: 'carol@example.org',
      body: { name: 'few', csv: `ra,dec,radius\n${'10,20,1\n'.repeat(rows)}` },
    });
  assert.equal((await upload(3)).status, 201);
  const over = await upload(4);
  assert.equal(over.status, 429, 'a watchlist over the entry quota is refused at creation');
  assert.match(String((over.body as { error: string }).error), /at most 3 watchlist entries/);
});
