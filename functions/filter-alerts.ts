/**
 * filterAlerts (topic `alerts`): runs every active user filter (shared/filter) over each alert
 * and publishes each match to `filtered-alerts`, the frame unchanged and the alert's attributes
 * plus `filterId`. A message that is not an alert is dead-lettered with the reason.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { decodeAlert } from '../shared/alerts/wire.js';
import { TOPICS } from '../shared/cloud/names.js';
import { FilterMatcher } from '../shared/filter/service.js';
import { deadLetter } from './dead-letter.js';
import { pubsubMessage } from './events.js';
import { filterServices } from './filter-context.js';
import { services } from './context.js';

export async function filterAlerts(event: CloudEvent<unknown>): Promise<void> {
  const s = services();
  const f = filterServices();
  const message = pubsubMessage(event);
  let alert;
  try {
    alert = decodeAlert(message.data);
  } catch (err) {
    return deadLetter(s.pubsub, TOPICS.alerts, message, `not an alert: ${(err as Error).message}`);
  }
  f.matcher ??= new FilterMatcher(f.store, f.quotas);
  const ids = await f.matcher.match(alert);
  await Promise.all(
    ids.map((filterId) => f.streams.publish(message.data, { ...message.attributes, filterId })),
  );
}
