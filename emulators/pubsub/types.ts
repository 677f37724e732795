/** Shapes of the google.pubsub.v1 messages the emulator reads and writes (as decoded by proto-loader). */
import type { Timestamp } from '../grpc.js';

export interface Duration {
  seconds: string | number;
  nanos: number;
}

export interface PubsubMessage {
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
  publishTime: Timestamp | null;
  orderingKey: string;
}

/** A published message as stored: the wire message plus its publish time in ms. */
export interface StoredMessage extends PubsubMessage {
  publishMs: number;
}

export interface PushConfig {
  pushEndpoint: string;
  attributes: Record<string, string>;
  noWrapper?: { writeMetadata: boolean } | null;
}

export interface DeadLetterPolicy {
  deadLetterTopic: string;
  maxDeliveryAttempts: number;
}

export interface RetryPolicy {
  minimumBackoff: Duration | null;
  maximumBackoff: Duration | null;
}

export interface Topic {
  name: string;
  labels: Record<string, string>;
  messageRetentionDuration: Duration | null;
  [field: string]: unknown;
}

export interface Subscription {
  name: string;
  topic: string;
  pushConfig: PushConfig | null;
  ackDeadlineSeconds: number;
  retainAckedMessages: boolean;
  messageRetentionDuration: Duration | null;
  labels: Record<string, string>;
  enableMessageOrdering: boolean;
  filter: string;
  deadLetterPolicy: DeadLetterPolicy | null;
  retryPolicy: RetryPolicy | null;
  enableExactlyOnceDelivery: boolean;
  state?: string;
  [field: string]: unknown;
}

export interface ReceivedMessage {
  ackId: string;
  message: PubsubMessage;
  deliveryAttempt: number;
}

/** Publishes messages to a topic by full name, returning the message ids; used for dead-lettering. */
export type Republish = (
  topic: string,
  messages: Array<Pick<PubsubMessage, 'data' | 'attributes' | 'orderingKey'>>,
) => string[];

/**
 * A journal record (`--data`): messages published to a topic, delivered once more (their delivery
 * attempt counts go up) or done (acked or dead-lettered) on a subscription.
 */
export type PubSubRecord =
  | { topic: string; messages: StoredMessage[] }
  | { delivered: string; ids: string[] }
  | { done: string; ids: string[] };
