/**
 * filterAlerts (topic `alerts`): runs every active user filter (shared/filter) over each alert
 * and publishes each match to `filtered-alerts`: the frame as received (its bytes, never
 * re-encoded) with the alert's attributes plus `filterId`. The frame is decoded once, to the
 * fields the filters read only. A message that is not an alert is dead-lettered with the reason.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { TOPICS } from '../shared/cloud/names.js';
import { AlertDecodeError } from '../shared/filter/projection.js';
import { FilterMatcher } from '../shared/filter/service.js';
import { deadLetter } from './dead-letter.js';
import { pubsubMessage } from './events.js';
import { filterServices } from './filter-context.js';
import { services } from './context.js';

export async function filterAlerts(event: CloudEvent<unknown>): Promise<void> {
  const s = services();
  const f = filterServices();
  const message = pubsubMessage(event);
  f.matcher ??= new FilterMatcher(f.store, f.ledger, f.quotas);
  let ids: string[];
  try {
    ids = await f.matcher.matchFrame(message.data);
  } catch (err) {
    if (!(err instanceof AlertDecodeError)) throw err;
    return deadLetter(s.pubsub, TOPICS.alerts, message, `not an alert: ${err.message}`);
  }
  await Promise.all(
    ids.map((filterId) => f.streams.publish(message.data, { ...message.attributes, filterId })),
  );
}
