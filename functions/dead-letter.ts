/**
 * Dead-lettering with a reason: a message that cannot be processed (malformed, bad image, or
 * failing on every attempt) is published to `<topic>-dead-letter` with its original data and
 * attributes plus `reason`, `stage` (where it failed), `attempts` (deliveries that processed it),
 * `sourceTopic`, `sourceMessageId` (and `retryable` = `true` when transient errors, not the input,
 * made the function give up), and then acknowledged, so it never loops and an operator can
 * inspect or replay it (republished as it is to its source topic).
 */
import type { PubSub } from '@google-cloud/pubsub';
import { deadLetterTopic } from '../shared/cloud/names.js';
import type { PubsubDelivery } from './events.js';
import { log } from './log.js';

/** Longest reason kept, characters (attribute values are limited to 1024 bytes). */
const MAX_REASON = 900;

/** Where the message failed and after how many processing attempts. */
export interface FailurePlace {
  stage: string;
  attempts: number;
  /** Given up on transient errors, not the input: the dead letter may be replayed as it is once the cause is gone (attribute `retryable`). */
  retryable?: boolean;
}

export async function deadLetter(
  pubsub: PubSub,
  sourceTopic: string,
  message: PubsubDelivery,
  reason: string,
  place: FailurePlace = { stage: 'unknown', attempts: 0 },
): Promise<void> {
  const attributes = {
    ...message.attributes,
    reason: reason.slice(0, MAX_REASON),
    stage: place.stage,
    attempts: String(place.attempts),
    ...(place.retryable ? { retryable: 'true' } : {}),
    sourceTopic,
    sourceMessageId: message.messageId,
  };
  await pubsub
    .topic(deadLetterTopic(sourceTopic))
    .publishMessage({ data: message.data, attributes });
  log('WARNING', 'dead-lettered', { sourceTopic, messageId: message.messageId, reason, ...place });
}
