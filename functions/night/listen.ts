/**
 * A long-lived subscriber with the official client that survives its stream ending: when the
 * client gives up on a StreamingPull stream it emits 'error' and closes; a broker (and this
 * harness) then opens the subscription again, as the client's own retries would for other codes.
 */
import type {
  CreateSubscriptionOptions,
  Message,
  PubSub,
  Subscription,
  SubscriberOptions,
} from '@google-cloud/pubsub';

export interface Listener {
  close(): Promise<void>;
}

export function listen(
  pubsub: PubSub,
  subscription: string,
  options: SubscriberOptions,
  onMessage: (m: Message) => void,
  onReopen: (error: unknown) => void = () => {},
): Listener {
  let current: Subscription;
  let closed = false;
  const open = () => {
    current = pubsub.subscription(subscription, options);
    current.on('message', onMessage);
    current.once('error', (error: unknown) => {
      if (closed) return;
      onReopen(error);
      void current.close().catch(() => {});
      setTimeout(() => closed || open(), 200);
    });
  };
  open();
  return {
    async close() {
      closed = true;
      await current.close();
    },
  };
}

const NOT_FOUND = 5;

/**
 * Subscription `name` on `topic`, created afresh: one left by an earlier night on reused
 * emulators is deleted first, so its undelivered messages are not counted in this one.
 */
export async function freshSubscription(
  pubsub: PubSub,
  topic: string,
  name: string,
  options: CreateSubscriptionOptions = {},
): Promise<Subscription> {
  await pubsub
    .subscription(name)
    .delete()
    .catch((err: { code?: number }) => {
      if (err.code !== NOT_FOUND) throw err;
    });
  const [subscription] = await pubsub.topic(topic).createSubscription(name, options);
  return subscription;
}
