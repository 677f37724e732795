/**
 * filterAlerts (topic `alerts`): runs every active user filter (shared/filter) over each alert
 * and publishes each match to `filtered-alerts`: the frame as received (its bytes, never
 * re-encoded) with the alert's attributes plus `filterId`. The frame is decoded once, to the
 * fields the filters read only.
 *
 * No match is lost without a reason: a message that is not an alert, or whose matching fails for
 * a reason other than a transient one (a bug), is dead-lettered at once with the reason; a
 * transient failure (the filter store, the quota ledger's transactions, the publish) is thrown,
 * so Pub/Sub redelivers, until the delivery beyond `maxAttempts` (below the subscription's
 * maxDeliveryAttempts), which dead-letters it with the reason, the stage and `retryable`; a call
 * that hangs past the invocation's deadline is such a failure (DeadlineError). A
 * replayed dead letter runs every filter again (a filter that had its match gets it twice).
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { TOPICS } from '../shared/cloud/names.js';
import { AlertDecodeError } from '../shared/filter/projection.js';
import { FilterMatcher, type MatchProgress } from '../shared/filter/service.js';
import { deadLetter } from './dead-letter.js';
import { isTransient, withDeadline } from './errors.js';
import { pubsubMessage } from './events.js';
import { filterServices } from './filter-context.js';
import { services } from './context.js';

export async function filterAlerts(event: CloudEvent<unknown>): Promise<void> {
  const s = services();
  const f = filterServices();
  const message = pubsubMessage(event);
  f.matcher ??= new FilterMatcher(f.store, f.ledger, f.quotas);
  const progress: MatchProgress = { stage: 'filters' };
  /** Matches being published, once matching is done. */
  let publishing: number | null = null;
  const stage = () => (publishing === null ? progress.stage : 'publish');
  const work = async (matcher: FilterMatcher) => {
    const ids = await matcher.matchFrame(message.data, progress);
    publishing = ids.length;
    await Promise.all(
      ids.map((filterId) => f.streams.publish(message.data, { ...message.attributes, filterId })),
    );
  };
  try {
    const seconds = f.deadlineSeconds;
    await withDeadline(work(f.matcher), Date.now() + seconds * 1000, seconds, stage);
  } catch (err) {
    if (err instanceof AlertDecodeError)
      return deadLetter(s.pubsub, TOPICS.alerts, message, `not an alert: ${err.message}`, {
        stage: 'decode',
        attempts: 0,
      });
    const delivery = message.deliveryAttempt ?? 0;
    const transient = isTransient(err);
    // Without a delivery count (no dead-letter policy) Pub/Sub retries for ever: nothing is lost.
    if (transient && delivery <= s.config.maxAttempts) throw err;
    const e = err as Error;
    const what = publishing === null ? '' : `, ${publishing} match(es) to publish`;
    const reason = transient
      ? `gave up after ${delivery} deliveries${what}: ${e.name}: ${e.message}`
      : `${e.name}: ${e.message}${what}`;
    return deadLetter(s.pubsub, TOPICS.alerts, message, reason, {
      stage: stage(),
      attempts: delivery,
      ...(transient ? { retryable: true } : {}),
    });
  }
}
