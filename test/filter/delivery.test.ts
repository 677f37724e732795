/**
 * Never a lost match, never a silent skip: a filter the matcher could not read for a moment is not
 * left out of an alert (the alert fails and is retried), and filterAlerts, when the quota ledger's
 * transactions keep failing, throws (Pub/Sub redelivers) until its last delivery, which it
 * dead-letters itself with the reason, the stage and `retryable` instead of leaving the
 * subscription's dead-letter policy to forward it without one; so too when the ledger hangs, at
 * the invocation's deadline.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message } from '@google-cloud/pubsub';
import { startEmulators } from '../../emulators/main.js';
import { alertAttributes } from '../../shared/alerts/attributes.js';
import type { Alert } from '../../shared/alerts/types.js';
import { encodeAlert } from '../../shared/alerts/wire.js';
import { FilterMatcher } from '../../shared/filter/service.js';
import type {
  FilterDoc,
  FilterStore,
  MatchLedger,
  RegionDoc,
  RegionKind,
} from '../../shared/filter/store.js';
import { runScene } from '../alerts/scene.js';

const emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
Object.assign(process.env, emulators.env, {
  GOOGLE_CLOUD_PROJECT: 'filter-delivery-test',
  AP_BUCKET_PREFIX: 'fd',
  AP_FILTER_TOKENS: 'unused.json',
  METADATA_SERVER_DETECTION: 'none',
});
const { services } = await import('../../functions/context.js');
const { filterAlerts } = await import('../../functions/filter-alerts.js');
const { filterServices, setFilterServices } = await import('../../functions/filter-context.js');
const s = services();
for (const topic of ['alerts', 'filtered-alerts', 'alerts-dead-letter'])
  await s.pubsub.createTopic(topic);

after(async () => {
  await s.pubsub.close();
  await s.firestore.terminate();
  await emulators.stop();
});

const OWNER = 'carol@example.org';
const FILTER: FilterDoc = {
  id: 'every-alert',
  owner: OWNER,
  name: 'every',
  where: 'diaSource.snr > -1e9',
  paused: false,
  createdAt: '2026-12-07T00:00:00Z',
  subscription: 'filter-every-alert',
};

/** Firestore's answer when it cannot be reached, or a transaction lost to contention too often. */
const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code });

/** One user's filter and no regions, in memory; `failures` reads of regions throw UNAVAILABLE first. */
class FlakyStore implements FilterStore {
  constructor(public failures = 0) {}
  listFilters = async () => [FILTER];
  getFilter = async (id: string) => (id === FILTER.id ? FILTER : null);
  putFilter = async () => {};
  createFilter = async () => false;
  deleteFilter = async () => {};
  async listRegions(owner: string, kind?: RegionKind): Promise<Array<Omit<RegionDoc, 'text'>>> {
    void kind;
    if (this.failures > 0) {
      this.failures--;
      throw grpcError(14, `14 UNAVAILABLE: regions of ${owner} not read`);
    }
    return [];
  }
  getRegion = async () => null;
  putRegion = async () => false;
  deleteRegion = async () => {};
}

const unlimited: MatchLedger = { claim: async (_f, _v, want) => want };
const contended: MatchLedger = {
  claim: () => Promise.reject(grpcError(10, '10 ABORTED: Too much contention on these documents')),
};

const { visits } = await runScene(2, undefined, false);
const alert: Alert = visits[0].alerts[0];

test('a filter whose regions could not be read is not skipped: the alert fails, then matches', async () => {
  const matcher = new FilterMatcher(new FlakyStore(1), unlimited);
  await assert.rejects(matcher.match(alert), /UNAVAILABLE/, 'the failed read fails the alert');
  assert.deepEqual(await matcher.match(alert), [FILTER.id], 'the retry matches it');
  assert.equal(matcher.broken.size, 0, 'a failed read does not mark the filter broken');
});

/** The CloudEvent Eventarc sends for the alert's `delivery`-th delivery. */
function event(delivery: number): CloudEvent<unknown> {
  return {
    specversion: '1.0',
    id: 'alert-message-1',
    source: '//pubsub.googleapis.com/projects/filter-delivery-test/topics/alerts',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: {
      message: {
        data: encodeAlert(alert).toString('base64'),
        attributes: alertAttributes(alert),
        messageId: 'alert-message-1',
        publishTime: new Date().toISOString(),
      },
      deliveryAttempt: delivery,
    },
  } as CloudEvent<unknown>;
}

let deadSubscriptions = 0;

/** The alert's deliveries up to the last one through filterAlerts with `ledger`; the one dead letter it leaves. */
async function deliverUntilDeadLettered(
  ledger: MatchLedger,
  deadlineSeconds: number,
  retried: RegExp,
): Promise<Message> {
  const f = filterServices();
  setFilterServices({ ...f, store: new FlakyStore(), ledger, deadlineSeconds, matcher: null });
  const [subscription] = await s.pubsub
    .topic('alerts-dead-letter')
    .createSubscription(`dead-${++deadSubscriptions}`);
  const maxAttempts = s.config.maxAttempts;
  for (let delivery = 1; delivery <= maxAttempts; delivery++)
    await assert.rejects(filterAlerts(event(delivery)), retried, `delivery ${delivery} retries`);
  await filterAlerts(event(maxAttempts + 1));
  const got: Message[] = [];
  await new Promise<void>((resolve) => {
    subscription.on('message', (m: Message) => {
      got.push(m);
      m.ack();
      resolve();
    });
  });
  await subscription.close();
  setFilterServices({ ...f, matcher: null });
  assert.equal(got.length, 1);
  const a = got[0].attributes;
  assert.equal(a.diaSourceId, String(alert.diaSourceId), 'the alert itself, with its attributes');
  assert.ok(got[0].data.equals(encodeAlert(alert)), 'the frame unchanged');
  assert.equal(a.stage, 'quota');
  assert.equal(a.retryable, 'true');
  return got[0];
}

test("filterAlerts retries the quota ledger's failures, then dead-letters the alert with the reason", async () => {
  const dead = await deliverUntilDeadLettered(contended, 48, /ABORTED/);
  assert.match(
    dead.attributes.reason,
    /gave up after 5 deliveries: Error: 10 ABORTED: Too much contention/,
  );
});

test('filterAlerts gives up on a ledger that never answers at its deadline, with the reason', async () => {
  const hung: MatchLedger = { claim: () => new Promise<number>(() => {}) };
  const dead = await deliverUntilDeadLettered(hung, 0.2, /DeadlineError|deadline/);
  assert.match(
    dead.attributes.reason,
    /gave up after 5 deliveries: DeadlineError: did not finish within the 0.2 s invocation deadline \(in stage quota\)/,
  );
});
