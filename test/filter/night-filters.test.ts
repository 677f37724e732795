/**
 * The night's account of the filtering service (functions/night/filters.ts): when filterAlerts
 * cannot take one visit's matches from the quota ledger, it dead-letters those alerts with the
 * reason after its deliveries, and the night reads them from `alerts-dead-letter`: each filter's
 * matches are received or dead-lettered, none missing, and the night says why it stopped waiting.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { PubSub } from '@google-cloud/pubsub';
import { startEmulators } from '../../emulators/main.js';
import { alertAttributes } from '../../shared/alerts/attributes.js';
import { encodeAlert } from '../../shared/alerts/wire.js';
import type { MatchLedger } from '../../shared/filter/store.js';
import type { LocalCloud } from '../../functions/night/cloud.js';
import { LogBus } from '../../functions/night/log-bus.js';
import { runScene } from '../alerts/scene.js';

const PROJECT = 'night-filters-test';
const emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
Object.assign(process.env, emulators.env, {
  GOOGLE_CLOUD_PROJECT: PROJECT,
  AP_BUCKET_PREFIX: 'nf',
  AP_FILTER_TOKENS: 'unused.json',
  AP_FILTER_MATCHES_PER_VISIT: '1000000',
  METADATA_SERVER_DETECTION: 'none',
});
const { services } = await import('../../functions/context.js');
const { filterServices, setFilterServices } = await import('../../functions/filter-context.js');
const { startNightFilters } = await import('../../functions/night/filters.js');
const pubsub = new PubSub({ projectId: PROJECT });
for (const topic of ['alerts', 'filtered-alerts']) await pubsub.createTopic(topic);

after(async () => {
  await pubsub.close();
  await services().pubsub.close();
  await services().firestore.terminate();
  await emulators.stop();
});

const { visits } = await runScene(3, undefined, false);
const alerts = visits.flatMap((v) => v.alerts);
const failingVisit = alerts[0].diaSource.visit;

test("the night counts filterAlerts' dead letters per filter, none missing, and says why it stopped", async () => {
  const f = filterServices();
  const ledger: MatchLedger = {
    claim: (filterId, visit, want, limit) =>
      visit === failingVisit
        ? Promise.reject(Object.assign(new Error('10 ABORTED: Too much contention'), { code: 10 }))
        : f.ledger.claim(filterId, visit, want, limit),
  };
  setFilterServices({ ...f, ledger });
  const cloud = {
    pubsub,
    projectId: PROJECT,
    emulators: { pubsubHost: emulators.pubsubHost },
    logs: new LogBus(),
  } as unknown as LocalCloud;
  const first = alerts[0].diaSource;
  const transients = alerts.slice(0, 30).map((a, id) => ({ ...a.diaSource, id }));
  const night = await startNightFilters(cloud, [first.ra, first.dec], transients);
  const topic = pubsub.topic('alerts');
  await Promise.all(
    alerts.map((a) =>
      topic.publishMessage({ data: encodeAlert(a), attributes: alertAttributes(a) }),
    ),
  );
  const run = await night.finish(alerts.length, 500);

  assert.equal(run.alerts, alerts.length);
  assert.equal(run.handled, alerts.length, 'every alert filtered or dead-lettered');
  assert.match(run.stopped, /^every alert filtered or dead-lettered/);
  assert.ok(run.deadLetters.length > 0, "the failing visit's matched alerts are dead-lettered");
  for (const d of run.deadLetters) {
    assert.match(d.reason, /gave up after 5 deliveries: Error: 10 ABORTED/);
    assert.equal(d.stage, 'quota');
  }
  const byVisit = new Map(alerts.map((a) => [String(a.diaSourceId), a.diaSource.visit]));
  assert.ok(run.deadLetters.every((d) => byVisit.get(String(d.diaSourceId)) === failingVisit));
  assert.ok(run.outcomes.some((o) => o.deadLettered > 0 && o.received > 0));
  for (const o of run.outcomes) {
    assert.equal(o.missing, 0, `${o.name}: every match received or dead-lettered`);
    assert.equal(o.received + o.deadLettered, o.matched, o.name);
  }
});
