/** Request checks of the Pub/Sub emulator, with the INVALID_ARGUMENT messages Pub/Sub gives. */
import { durationSeconds, fail, Status } from '../grpc.js';
import type { Subscription } from './types.js';

export function checkDeadline(seconds: number, min = 0): void {
  if (!Number.isInteger(seconds) || seconds < min || seconds > 600) {
    fail(
      Status.INVALID_ARGUMENT,
      `Invalid ack deadline given: ${seconds}. The minimum deadline is ${min} seconds and the maximum is 600 seconds.`,
    );
  }
}

export function validateSubscription(sub: Subscription): void {
  if (sub.ackDeadlineSeconds && (sub.ackDeadlineSeconds < 10 || sub.ackDeadlineSeconds > 600))
    checkDeadline(sub.ackDeadlineSeconds, 10);
  const retention = durationSeconds(sub.messageRetentionDuration);
  if (sub.messageRetentionDuration && (retention < 600 || retention > 31 * 24 * 3600)) {
    fail(
      Status.INVALID_ARGUMENT,
      'Invalid message_retention_duration: must be between 10 minutes and 31 days.',
    );
  }
  const attempts = sub.deadLetterPolicy?.maxDeliveryAttempts;
  if (sub.deadLetterPolicy?.deadLetterTopic && attempts && (attempts < 5 || attempts > 100)) {
    fail(Status.INVALID_ARGUMENT, 'max_delivery_attempts must be between 5 and 100.');
  }
}

/** Copies the fields named in an update mask (snake_case paths) from `source` to `target`. */
export function applyMask(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  mask: { paths: string[] } | null,
): void {
  if (!mask?.paths.length) fail(Status.INVALID_ARGUMENT, 'The update_mask is required.');
  for (const path of mask.paths) {
    const field = path.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (field === 'name' || field === 'topic')
      fail(Status.INVALID_ARGUMENT, `Cannot update field ${path}.`);
    target[field] = source[field];
  }
}
