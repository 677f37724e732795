/**
 * A local Eventarc: delivers each topic's messages to Cloud Functions (functions-framework
 * `cloudEvent` handlers, looked up by name, or handlers passed directly) as CloudEvents of type
 * google.cloud.pubsub.topic.v1.messagePublished, the way Eventarc does in production. A handler that
 * throws or rejects nacks the message, which comes back after the retry policy's backoff; after
 * `maxDeliveryAttempts` it goes to the dead-letter topic, when one is given.
 *
 * @example
 *   const runner = await startTriggerRunner({
 *     pubsubHost: 'localhost:8085',
 *     triggers: [{ topic: 'raw-arrived', functionName: 'onRawArrived' }],
 *   });
 *   ...
 *   await runner.stop();
 */
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { getFunction } from '@google-cloud/functions-framework/testing';

/** The `data` of a messagePublished CloudEvent; `message.data` is absent for attributes-only messages. */
export interface MessagePublishedData {
  message: {
    data?: string;
    attributes?: Record<string, string>;
    messageId: string;
    publishTime: string;
    /** Snake-case copies, as Pub/Sub push (under Eventarc) sends them too. */
    message_id: string;
    publish_time: string;
    orderingKey?: string;
  };
  subscription: string;
  /** Which delivery this is (1 = the first), when the subscription has a dead-letter policy, as in Pub/Sub's push body. */
  deliveryAttempt?: number;
}

/** The CloudEvent (v1.0 structured form) handed to a handler. */
export interface PubsubCloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: 'google.cloud.pubsub.topic.v1.messagePublished';
  datacontenttype: 'application/json';
  time: string;
  data: MessagePublishedData;
}

export type TriggerHandler = (event: PubsubCloudEvent) => unknown;

export interface Trigger {
  /** Topic id (in `projectId`) or full name; created when missing, as `--trigger-topic` does. */
  topic: string;
  /** A function registered with functions-framework's `cloudEvent(name, fn)`. */
  functionName?: string;
  /** Or the handler itself. */
  handler?: TriggerHandler;
  /** Subscription id; default `eventarc-<topic>-<function>`. */
  subscription?: string;
  /** Topic id or full name for undeliverable messages; none by default. */
  deadLetterTopic?: string;
  /** Delivery attempts before dead-lettering (5..100); default 5. */
  maxDeliveryAttempts?: number;
  /** Retry backoff bounds in seconds; Eventarc's defaults are 10 and 600. */
  minBackoffSeconds?: number;
  maxBackoffSeconds?: number;
  /** Handler invocations in flight at once (like max instances x concurrency); default 10. */
  maxConcurrency?: number;
  /**
   * The function's timeout, seconds (Cloud Functions' default 300): an invocation still running
   * then fails and its message is nacked for redelivery, as the platform does. A handler in this
   * process cannot be killed; run functions in instances (functions/night/instances.ts) for that.
   */
  deadlineSeconds?: number;
}

/** Cloud Functions' default timeout, seconds. */
const DEFAULT_DEADLINE_SECONDS = 300;

/** The handler's promise, rejected once `seconds` pass. */
function withTimeout(work: Promise<unknown>, seconds: number, what: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} overran its ${seconds} s deadline`)),
      seconds * 1000,
    );
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

export interface TriggerRunnerOptions {
  /** `host:port` of the Pub/Sub emulator. */
  pubsubHost: string;
  /** Project of topic ids; default $GOOGLE_CLOUD_PROJECT, else `local-project`. */
  projectId?: string;
  triggers: Trigger[];
  /** Called when a handler fails (the message will be retried); default logs a JSON line. */
  onError?: (error: unknown, trigger: Trigger, event?: PubsubCloudEvent) => void;
}

export interface TriggerRunner {
  /** Full subscription names, one per trigger. */
  subscriptions: string[];
  /** Stops listening; messages in flight are nacked. */
  stop(): Promise<void>;
}

function fullName(project: string, kind: 'topics' | 'subscriptions', id: string): string {
  return id.startsWith('projects/') ? id : `projects/${project}/${kind}/${id}`;
}

function duration(seconds: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(seconds), nanos: Math.round((seconds % 1) * 1e9) };
}

function resolveHandler(trigger: Trigger): TriggerHandler {
  if (trigger.handler) return trigger.handler;
  if (!trigger.functionName)
    throw new Error(`trigger on ${trigger.topic}: give a functionName or a handler`);
  const fn = getFunction(trigger.functionName);
  if (!fn)
    throw new Error(
      `trigger on ${trigger.topic}: no function '${trigger.functionName}' is registered with functions-framework`,
    );
  const call = fn as (...args: unknown[]) => unknown;
  // CloudEvent functions with a callback take (event, callback).
  if (call.length >= 2)
    return (event) =>
      new Promise((resolve, reject) =>
        call(event, (err: unknown) => (err ? reject(err) : resolve(undefined))),
      );
  return (event) => call(event);
}

/** Builds the CloudEvent Eventarc sends for a Pub/Sub message. */
export function toCloudEvent(
  message: Message,
  topic: string,
  subscription: string,
): PubsubCloudEvent {
  const publishTime = message.publishTime.toISOString();
  return {
    specversion: '1.0',
    id: message.id,
    source: `//pubsub.googleapis.com/${topic}`,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    datacontenttype: 'application/json',
    time: publishTime,
    data: {
      message: {
        ...(message.data.length > 0 ? { data: message.data.toString('base64') } : {}),
        ...(Object.keys(message.attributes).length > 0 ? { attributes: message.attributes } : {}),
        messageId: message.id,
        message_id: message.id,
        publishTime,
        publish_time: publishTime,
        ...(message.orderingKey ? { orderingKey: message.orderingKey } : {}),
      },
      subscription,
      ...(message.deliveryAttempt > 0 ? { deliveryAttempt: message.deliveryAttempt } : {}),
    },
  };
}

function logError(error: unknown, trigger: Trigger, event?: PubsubCloudEvent): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `${JSON.stringify({ severity: 'ERROR', message: `function failed; message will be retried: ${message}`, topic: trigger.topic, function: trigger.functionName ?? null, messageId: event?.id ?? null })}\n`,
  );
}

/** Subscribes every trigger to its topic and starts delivering. */
export async function startTriggerRunner(options: TriggerRunnerOptions): Promise<TriggerRunner> {
  const project = options.projectId ?? process.env.GOOGLE_CLOUD_PROJECT ?? 'local-project';
  const pubsub = new PubSub({
    projectId: project,
    apiEndpoint: options.pubsubHost,
    emulatorMode: true,
  });
  const onError = options.onError ?? logError;
  const open: Subscription[] = [];
  const names: string[] = [];
  for (const trigger of options.triggers) {
    const handler = resolveHandler(trigger);
    const topicName = fullName(project, 'topics', trigger.topic);
    const topic = pubsub.topic(topicName);
    const [topicExists] = await topic.exists();
    if (!topicExists)
      await topic
        .create()
        .catch((err: { code?: number }) => (err.code === 6 ? undefined : Promise.reject(err)));
    const subId =
      trigger.subscription ??
      `eventarc-${topicName.split('/')[3]}-${trigger.functionName ?? 'handler'}`;
    const subName = fullName(project, 'subscriptions', subId);
    const deadLetterPolicy = trigger.deadLetterTopic
      ? {
          deadLetterTopic: fullName(project, 'topics', trigger.deadLetterTopic),
          maxDeliveryAttempts: trigger.maxDeliveryAttempts ?? 5,
        }
      : undefined;
    const [subscription] = await topic
      .createSubscription(subName, {
        ackDeadlineSeconds: 600,
        retryPolicy: {
          minimumBackoff: duration(trigger.minBackoffSeconds ?? 10),
          maximumBackoff: duration(trigger.maxBackoffSeconds ?? 600),
        },
        ...(deadLetterPolicy ? { deadLetterPolicy } : {}),
      })
      .catch((err: { code?: number }) =>
        err.code === 6 ? [pubsub.subscription(subName)] : Promise.reject(err),
      );
    const live = pubsub.subscription(subscription.name, {
      flowControl: { maxMessages: trigger.maxConcurrency ?? 10, allowExcessMessages: false },
    });
    live.on('message', (message: Message) => {
      const event = toCloudEvent(message, topicName, subscription.name);
      const what = trigger.functionName ?? `handler of ${trigger.topic}`;
      withTimeout(
        Promise.resolve().then(() => handler(event)),
        trigger.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS,
        what,
      ).then(
        () => message.ack(),
        (err: unknown) => {
          onError(err, trigger, event);
          message.nack();
        },
      );
    });
    live.on('error', (err: unknown) => onError(err, trigger));
    open.push(live);
    names.push(subscription.name);
  }
  return {
    subscriptions: names,
    async stop() {
      await Promise.all(open.map((s) => s.close()));
      await pubsub.close();
    },
  };
}
