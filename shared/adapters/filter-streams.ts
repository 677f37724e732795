/**
 * Per-filter streams on Pub/Sub (FilterStreams of shared/filter/store.ts): one topic,
 * `filtered-alerts`, carrying each match as the alert's frame, unchanged, with the alert's
 * attributes plus `filterId`; each filter gets a subscription `filter-{filterId}` whose
 * server-side filter is `attributes.filterId = "{filterId}"`. The subscription is the user's
 * stream: IAM on it (roles/pubsub.subscriber for the owner) lets only its owner read it.
 */
import type { PubSub } from '@google-cloud/pubsub';
import type { FilterStreams } from '../filter/store.js';
import { TOPICS } from '../cloud/names.js';

export const filterSubscription = (filterId: string): string => `filter-${filterId}`;

export class PubSubFilterStreams implements FilterStreams {
  private readonly topic;

  constructor(
    private readonly pubsub: PubSub,
    /** Grant the owner roles/pubsub.subscriber on their subscription (on Google Cloud; the emulator has no IAM). */
    private readonly grantOwner = false,
  ) {
    this.topic = pubsub.topic(TOPICS.filteredAlerts, {
      batching: { maxMessages: 500, maxMilliseconds: 5 },
    });
  }

  async createStream(filterId: string, owner: string): Promise<string> {
    const name = filterSubscription(filterId);
    const [subscription] = await this.pubsub.createSubscription(TOPICS.filteredAlerts, name, {
      filter: `attributes.filterId = "${filterId}"`,
      ackDeadlineSeconds: 60,
      messageRetentionDuration: { seconds: 7 * 86400 },
    });
    if (this.grantOwner) {
      const [policy] = await subscription.iam.getPolicy();
      policy.bindings = [
        ...(policy.bindings ?? []),
        { role: 'roles/pubsub.subscriber', members: [`user:${owner}`] },
      ];
      await subscription.iam.setPolicy(policy);
    }
    return subscription.name;
  }

  async deleteStream(filterId: string): Promise<void> {
    try {
      await this.pubsub.subscription(filterSubscription(filterId)).delete();
    } catch (err) {
      if ((err as { code?: number }).code !== 5) throw err; // NOT_FOUND: already gone
    }
  }

  async publish(frame: Buffer, attributes: Record<string, string>): Promise<void> {
    await this.topic.publishMessage({ data: frame, attributes });
  }

  async flush(): Promise<void> {
    await this.topic.flush();
  }
}
