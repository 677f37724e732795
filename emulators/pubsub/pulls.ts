/** Pull and StreamingPull: how subscribers receive messages over gRPC. */
import { endWithError, fail, Status } from '../grpc.js';
import { StreamConsumer, type StreamingPullCall, type StreamingPullRequest } from './stream.js';
import type { Consumer, SubscriptionState } from './subscription.js';
import type { ReceivedMessage } from './types.js';
import { checkDeadline } from './validate.js';

/** How long a Pull without returnImmediately waits for messages. */
const PULL_WAIT_MS = 2000;

/** A unary Pull: what is ready now, else what arrives within PULL_WAIT_MS (unless returnImmediately). */
export function pull(
  state: SubscriptionState,
  max: number,
  returnImmediately: boolean,
): Promise<{ receivedMessages: ReceivedMessage[] }> {
  return new Promise((resolve) => {
    let done = false;
    const consumer: Consumer = {
      capacity: () => (done ? 0 : max),
      ackDeadlineMs: () => state.config.ackDeadlineSeconds * 1000,
      deliver: (receivedMessages) => finish(receivedMessages),
    };
    const finish = (receivedMessages: ReceivedMessage[]) => {
      done = true;
      clearTimeout(timer);
      state.removeConsumer(consumer);
      resolve({ receivedMessages });
    };
    const first = state.take(consumer, max);
    const timer = setTimeout(
      () => finish([]),
      first.length > 0 || returnImmediately ? 0 : PULL_WAIT_MS,
    );
    if (first.length > 0) finish(first);
    else if (!returnImmediately) state.addConsumer(consumer);
  });
}

/**
 * Serves one StreamingPull call: the first request names the subscription, later ones ack and
 * modify deadlines. `lookup` resolves (or fails on) a subscription; `open` tracks live streams.
 */
export function streamingPull(
  call: StreamingPullCall,
  lookup: (name: string) => SubscriptionState,
  open: Map<string, Set<StreamingPullCall>>,
): void {
  let consumer: StreamConsumer | undefined;
  let state: SubscriptionState | undefined;
  const cleanup = () => {
    if (!state || !consumer) return;
    state.removeConsumer(consumer);
    open.get(state.config.name)?.delete(call);
    consumer = undefined;
  };
  call.on('data', (req: StreamingPullRequest) => {
    try {
      if (!state) {
        state = lookup(req.subscription);
        if (req.streamAckDeadlineSeconds) checkDeadline(req.streamAckDeadlineSeconds, 10);
        const current = state;
        consumer = new StreamConsumer(call, current.config, req, () => current.schedule());
        if (!open.has(current.config.name)) open.set(current.config.name, new Set());
        open.get(current.config.name)!.add(call);
        current.addConsumer(consumer);
      }
      if (req.modifyDeadlineAckIds.length !== req.modifyDeadlineSeconds.length) {
        fail(
          Status.INVALID_ARGUMENT,
          'modify_deadline_ack_ids and modify_deadline_seconds must be the same length',
        );
      }
      if (req.ackIds.length > 0) state.acknowledge(req.ackIds);
      req.modifyDeadlineAckIds.forEach((ackId, i) =>
        state!.modifyAckDeadline([ackId], req.modifyDeadlineSeconds[i]),
      );
      if (req.streamAckDeadlineSeconds) consumer?.setDeadline(req.streamAckDeadlineSeconds);
    } catch (err) {
      cleanup();
      endWithError(call, err);
    }
  });
  call.on('end', () => {
    cleanup();
    call.end();
  });
  call.on('cancelled', cleanup);
  call.on('error', cleanup);
  call.on('close', cleanup);
}
