/**
 * Push delivery: POSTs each message to the subscription's push endpoint in Pub/Sub's push JSON
 * (or, with noWrapper, the raw data with attributes as x-goog-pubsub-* headers). A 102/200/201/
 * 202/204 response acks; anything else, or no answer within the ack deadline, nacks.
 */
import type { Consumer, SubscriptionState } from './subscription.js';
import type { ReceivedMessage } from './types.js';

const SUCCESS = new Set([102, 200, 201, 202, 204]);
/** Pushes in flight at once per subscription. */
const MAX_IN_FLIGHT = 32;

export function pushBody(subscription: string, received: ReceivedMessage): string {
  const m = received.message;
  const publishTime = m.publishTime
    ? new Date(Number(m.publishTime.seconds) * 1000 + m.publishTime.nanos / 1e6).toISOString()
    : undefined;
  const message = {
    attributes: m.attributes,
    data: m.data.toString('base64'),
    messageId: m.messageId,
    message_id: m.messageId,
    publishTime,
    publish_time: publishTime,
    ...(m.orderingKey ? { orderingKey: m.orderingKey } : {}),
  };
  return JSON.stringify({
    message,
    subscription,
    ...(received.deliveryAttempt ? { deliveryAttempt: received.deliveryAttempt } : {}),
  });
}

export class PushConsumer implements Consumer {
  private inFlight = 0;
  private stopped = false;

  constructor(private readonly state: SubscriptionState) {}

  capacity(): number {
    return this.stopped ? 0 : MAX_IN_FLIGHT - this.inFlight;
  }

  ackDeadlineMs(): number {
    return (this.state.config.ackDeadlineSeconds || 10) * 1000;
  }

  stop(): void {
    this.stopped = true;
  }

  deliver(messages: ReceivedMessage[]): void {
    for (const received of messages) {
      this.inFlight++;
      this.push(received)
        .then((ok) =>
          ok
            ? this.state.acknowledge([received.ackId])
            : this.state.modifyAckDeadline([received.ackId], 0),
        )
        // Acknowledging can fail when the subscription went away meanwhile: say so, never reject unhandled.
        .catch((err: Error) =>
          process.stderr.write(
            `${JSON.stringify({ severity: 'WARNING', message: `push delivery not settled: ${err.message}`, subscription: this.state.config.name })}\n`,
          ),
        )
        .finally(() => {
          this.inFlight--;
          this.state.schedule();
        });
    }
  }

  private async push(received: ReceivedMessage): Promise<boolean> {
    const config = this.state.config.pushConfig;
    if (!config?.pushEndpoint || this.stopped) return false;
    const noWrapper = config.noWrapper;
    const headers: Record<string, string> = {};
    let body: string | Uint8Array<ArrayBuffer>;
    if (noWrapper) {
      const data = received.message.data;
      body = new Uint8Array(data);
      if (noWrapper.writeMetadata) {
        for (const [k, v] of Object.entries(received.message.attributes))
          headers[`x-goog-pubsub-${k}`] = v;
        headers['x-goog-pubsub-message-id'] = received.message.messageId;
        headers['x-goog-pubsub-subscription-name'] = this.state.config.name;
      }
    } else {
      body = pushBody(this.state.config.name, received);
      headers['content-type'] = 'application/json';
    }
    try {
      const response = await fetch(config.pushEndpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.ackDeadlineMs()),
      });
      await response.arrayBuffer();
      return SUCCESS.has(response.status);
    } catch {
      return false;
    }
  }
}
