/**
 * The Pub/Sub emulator: google.pubsub.v1 Publisher and Subscriber over gRPC, served from the protos
 * that ship with @google-cloud/pubsub. Topics, subscriptions (pull, streaming pull, push, filters,
 * ordering, dead letters, retry policy, retention), snapshots and seek, all in one process.
 */
import * as grpc from '@grpc/grpc-js';
import {
  bindServer,
  clientProtoDirs,
  endWithError,
  fail,
  loadService,
  RpcError,
  Status,
  timestampFromMs,
  timestampToMs,
  unary,
  type Timestamp,
} from '../grpc.js';
import { paginate, pubsubName } from '../names.js';
import { FilterSyntaxError, parseFilter } from './filter.js';
import { Http2StreamingPull } from './http2-call.js';
import { PushConsumer } from './push.js';
import { pull, streamingPull } from './pulls.js';
import type { StreamingPullCall, StreamingPullRequest } from './stream.js';
import { SubscriptionState } from './subscription.js';
import { applyMask, checkDeadline, validateSubscription } from './validate.js';
import type { PubsubMessage, PubSubRecord, StoredMessage, Subscription, Topic } from './types.js';

const DELETED_TOPIC = '_deleted-topic_';
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;
const SWEEP_MS = 100;
/** Calls that write journal records themselves, or change nothing. */
const JOURNALED_OR_READ_ONLY =
  /^(publish|acknowledge|modifyAckDeadline|pull|streamingPull|get|list)/;

interface SnapshotRecord {
  snapshot: { name: string; topic: string; expireTime: Timestamp; labels: Record<string, string> };
  messages: Map<string, StoredMessage>;
}

/** What `--data` persistence stores. */
export interface PubSubDump {
  nextMessageId: number;
  topics: Topic[];
  /** `attempts[i]`: delivery attempts of `messages[i]` so far (absent in older saves: 0). */
  subscriptions: Array<{ config: Subscription; messages: StoredMessage[]; attempts?: number[] }>;
  snapshots: Array<{ snapshot: SnapshotRecord['snapshot']; messages: StoredMessage[] }>;
}

type Message = Pick<PubsubMessage, 'data' | 'attributes' | 'orderingKey'>;

export class PubSubEmulator {
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Map<string, SubscriptionState>();
  private readonly snapshots = new Map<string, SnapshotRecord>();
  private readonly pushers = new Map<string, PushConsumer>();
  private readonly streams = new Map<string, Set<StreamingPullCall>>();
  private nextMessageId = 1;
  private readonly server = new grpc.Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  private sweepTimer?: NodeJS.Timeout;
  /** Set by `--data` persistence: records publishes, deliveries and acks before the reply. */
  journal?: (record: PubSubRecord) => void;
  /** Set by `--data` persistence: a snapshot after any other change (topics, subscriptions...). */
  checkpoint?: () => void;

  constructor() {
    const protos = clientProtoDirs('@google-cloud/pubsub');
    const file = 'google/pubsub/v1/pubsub.proto';
    this.server.addService(
      loadService(protos, file, 'google.pubsub.v1.Publisher'),
      this.checkpointed(this.publisherHandlers()),
    );
    const subscriber = loadService(protos, file, 'google.pubsub.v1.Subscriber');
    this.server.addService(subscriber, this.checkpointed(this.subscriberHandlers()));
    this.decodeStreamingPull = subscriber.StreamingPull.requestDeserialize;
  }

  private readonly decodeStreamingPull: (bytes: Buffer) => StreamingPullRequest;

  /**
   * Wraps the handlers of rare changes (topics, subscriptions, snapshots, seek) so that a success
   * is saved before its reply; the frequent ones (publish, pulls, acks) write journal records.
   */
  private checkpointed(
    handlers: grpc.UntypedServiceImplementation,
  ): grpc.UntypedServiceImplementation {
    return Object.fromEntries(
      Object.entries(handlers).map(([name, handler]) => [
        name,
        JOURNALED_OR_READ_ONLY.test(name)
          ? handler
          : (call: unknown, callback: (err: unknown, value?: unknown) => void) =>
              (handler as (call: unknown, callback: unknown) => void)(
                call,
                (err: unknown, value?: unknown) => {
                  if (!err) this.checkpoint?.();
                  callback(err, value);
                },
              ),
      ]),
    ) as grpc.UntypedServiceImplementation;
  }

  /** Binds host:port (0 = a free port) and returns the bound port. */
  async start(port: number, host = 'localhost'): Promise<number> {
    // StreamingPull bypasses grpc-js, whose framing would copy every payload once more.
    const bound = await bindServer(this.server, host, port, {
      '/google.pubsub.v1.Subscriber/StreamingPull': (stream) => {
        this.serveStreamingPull(new Http2StreamingPull(stream, this.decodeStreamingPull));
      },
    });
    this.sweepTimer = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweepTimer.unref();
    return bound;
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const pusher of this.pushers.values()) pusher.stop();
    const shutdown = new RpcError(Status.UNAVAILABLE, 'The Pub/Sub emulator is shutting down.');
    for (const calls of this.streams.values())
      for (const call of calls) endWithError(call, shutdown);
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
  }

  /** Publishes to a topic in process (GCS notifications, dead letters); returns message ids. */
  publish(topic: string, messages: Message[]): string[] {
    if (!this.topics.has(topic)) fail(Status.NOT_FOUND, `Topic not found`);
    const now = Date.now();
    const ids: string[] = [];
    const stored = messages.map((m): StoredMessage => {
      const messageId = String(this.nextMessageId++);
      ids.push(messageId);
      return {
        data: m.data,
        attributes: m.attributes ?? {},
        orderingKey: m.orderingKey ?? '',
        messageId,
        publishTime: timestampFromMs(now),
        publishMs: now,
      };
    });
    this.journal?.({ topic, messages: stored });
    for (const state of this.subscriptions.values()) {
      if (state.config.topic !== topic) continue;
      for (const m of stored) state.enqueue(m);
    }
    for (const record of this.snapshots.values()) {
      if (record.snapshot.topic === topic)
        for (const m of stored) record.messages.set(m.messageId, m);
    }
    return ids;
  }

  dump(): PubSubDump {
    return {
      nextMessageId: this.nextMessageId,
      topics: [...this.topics.values()],
      subscriptions: [...this.subscriptions.values()].map((s) => {
        const backlog = s.backlog();
        return {
          config: s.config,
          messages: backlog.map((e) => e.message),
          attempts: backlog.map((e) => e.attempts),
        };
      }),
      snapshots: [...this.snapshots.values()].map((r) => ({
        snapshot: r.snapshot,
        messages: [...r.messages.values()],
      })),
    };
  }

  restore(dump: PubSubDump): void {
    this.nextMessageId = dump.nextMessageId;
    for (const topic of dump.topics) this.topics.set(topic.name, topic);
    for (const { config, messages, attempts } of dump.subscriptions) {
      const state = this.addSubscription(config);
      state.resetTo(messages, attempts);
    }
    for (const { snapshot, messages } of dump.snapshots) {
      this.snapshots.set(snapshot.name, {
        snapshot,
        messages: new Map(messages.map((m) => [m.messageId, m])),
      });
    }
  }

  replay(dump: PubSubDump | undefined, records: PubSubRecord[]): PubSubDump {
    const subscriptions = (dump?.subscriptions ?? []).map(({ config, messages, attempts }) => ({
      config,
      filter: parseFilter(config.filter ?? ''),
      backlog: new Map(messages.map((m, i) => [m.messageId, { m, attempts: attempts?.[i] ?? 0 }])),
    }));
    const byName = new Map(subscriptions.map((s) => [s.config.name, s]));
    const snapshots = dump?.snapshots ?? [];
    let nextMessageId = dump?.nextMessageId ?? 1;
    for (const record of records) {
      if ('topic' in record) {
        for (const m of record.messages) {
          nextMessageId = Math.max(nextMessageId, Number(m.messageId) + 1);
          for (const s of subscriptions)
            if (s.config.topic === record.topic && s.filter(m.attributes))
              s.backlog.set(m.messageId, { m, attempts: 0 });
          for (const snap of snapshots)
            if (snap.snapshot.topic === record.topic) snap.messages.push(m);
        }
      } else if ('delivered' in record) {
        const backlog = byName.get(record.delivered)?.backlog;
        for (const id of record.ids) {
          const entry = backlog?.get(id);
          if (entry) entry.attempts++;
        }
      } else {
        const backlog = byName.get(record.done)?.backlog;
        for (const id of record.ids) backlog?.delete(id);
      }
    }
    return {
      nextMessageId,
      topics: dump?.topics ?? [],
      subscriptions: subscriptions.map(({ config, backlog }) => ({
        config,
        messages: [...backlog.values()].map((e) => e.m),
        attempts: [...backlog.values()].map((e) => e.attempts),
      })),
      snapshots,
    };
  }

  private sweep(): void {
    const now = Date.now();
    for (const state of this.subscriptions.values()) state.sweep(now);
    for (const [name, record] of this.snapshots)
      if (timestampToMs(record.snapshot.expireTime) < now) this.snapshots.delete(name);
  }

  private topic(name: string): Topic {
    pubsubName(name, 'topics');
    return this.topics.get(name) ?? fail(Status.NOT_FOUND, `Topic not found`);
  }

  private subscription(name: string): SubscriptionState {
    pubsubName(name, 'subscriptions');
    return (
      this.subscriptions.get(name) ??
      fail(Status.NOT_FOUND, `Subscription does not exist (resource=${name.split('/')[3]})`)
    );
  }

  private addSubscription(config: Subscription): SubscriptionState {
    let filter;
    try {
      filter = parseFilter(config.filter ?? '');
    } catch (err) {
      if (err instanceof FilterSyntaxError)
        fail(Status.INVALID_ARGUMENT, `Invalid filter: ${err.message}`);
      throw err;
    }
    const state = new SubscriptionState(
      config,
      filter,
      (topic, messages) => this.publish(topic, messages),
      (record) => this.journal?.(record),
    );
    this.subscriptions.set(config.name, state);
    this.updatePush(state);
    return state;
  }

  private updatePush(state: SubscriptionState): void {
    const old = this.pushers.get(state.config.name);
    if (old) {
      old.stop();
      state.removeConsumer(old);
      this.pushers.delete(state.config.name);
    }
    if (state.config.pushConfig?.pushEndpoint) {
      const pusher = new PushConsumer(state);
      this.pushers.set(state.config.name, pusher);
      state.addConsumer(pusher);
    }
  }

  private publisherHandlers(): grpc.UntypedServiceImplementation {
    return {
      createTopic: unary((topic: Topic) => {
        pubsubName(topic.name, 'topics');
        if (this.topics.has(topic.name)) fail(Status.ALREADY_EXISTS, 'Topic already exists');
        this.topics.set(topic.name, topic);
        return topic;
      }),
      updateTopic: unary((req: { topic: Topic; updateMask: { paths: string[] } | null }) => {
        const topic = this.topic(req.topic?.name);
        applyMask(topic, req.topic, req.updateMask);
        return topic;
      }),
      getTopic: unary((req: { topic: string }) => this.topic(req.topic)),
      listTopics: unary((req: { project: string; pageSize: number; pageToken: string }) => {
        const all = [...this.topics.values()].filter((t) =>
          t.name.startsWith(`${req.project}/topics/`),
        );
        const { page, nextPageToken } = paginate(all, req.pageSize, req.pageToken);
        return { topics: page, nextPageToken };
      }),
      listTopicSubscriptions: unary(
        (req: { topic: string; pageSize: number; pageToken: string }) => {
          this.topic(req.topic);
          const names = [...this.subscriptions.values()]
            .filter((s) => s.config.topic === req.topic)
            .map((s) => s.config.name);
          const { page, nextPageToken } = paginate(names, req.pageSize, req.pageToken);
          return { subscriptions: page, nextPageToken };
        },
      ),
      listTopicSnapshots: unary((req: { topic: string; pageSize: number; pageToken: string }) => {
        this.topic(req.topic);
        const names = [...this.snapshots.values()]
          .filter((r) => r.snapshot.topic === req.topic)
          .map((r) => r.snapshot.name);
        const { page, nextPageToken } = paginate(names, req.pageSize, req.pageToken);
        return { snapshots: page, nextPageToken };
      }),
      deleteTopic: unary((req: { topic: string }) => {
        this.topic(req.topic);
        this.topics.delete(req.topic);
        for (const state of this.subscriptions.values())
          if (state.config.topic === req.topic) state.config.topic = DELETED_TOPIC;
        return {};
      }),
      detachSubscription: unary((req: { subscription: string }) => {
        const state = this.subscription(req.subscription);
        state.config.topic = DELETED_TOPIC;
        state.resetTo([]);
        return {};
      }),
      publish: unary((req: { topic: string; messages: PubsubMessage[] }) => {
        this.topic(req.topic);
        if (!req.messages?.length)
          fail(Status.INVALID_ARGUMENT, 'The request contains no messages.');
        for (const m of req.messages) {
          if (m.data.length === 0 && Object.keys(m.attributes).length === 0) {
            fail(
              Status.INVALID_ARGUMENT,
              'Some messages in the publish request are empty. Each message must contain a non-empty data field, or at least one attribute.',
            );
          }
          if (m.data.length > MAX_MESSAGE_BYTES)
            fail(Status.INVALID_ARGUMENT, 'Message is too large.');
          for (const [k, v] of Object.entries(m.attributes)) {
            if (!k || Buffer.byteLength(k) > 256)
              fail(Status.INVALID_ARGUMENT, `Invalid attribute key: ${k.slice(0, 40)}`);
            if (Buffer.byteLength(v) > 1024)
              fail(Status.INVALID_ARGUMENT, `Attribute value for ${k} exceeds 1024 bytes`);
          }
        }
        return { messageIds: this.publish(req.topic, req.messages) };
      }),
    };
  }

  private subscriberHandlers(): grpc.UntypedServiceImplementation {
    return {
      createSubscription: unary((sub: Subscription) => {
        pubsubName(sub.name, 'subscriptions');
        this.topic(sub.topic);
        if (this.subscriptions.has(sub.name))
          fail(Status.ALREADY_EXISTS, 'Subscription already exists');
        validateSubscription(sub);
        const policy = sub.deadLetterPolicy;
        if (policy?.deadLetterTopic) this.topic(policy.deadLetterTopic);
        sub.ackDeadlineSeconds = sub.ackDeadlineSeconds || 10;
        sub.messageRetentionDuration = sub.messageRetentionDuration ?? {
          seconds: String(7 * 24 * 3600),
          nanos: 0,
        };
        sub.state = 'ACTIVE';
        return this.addSubscription(sub).config;
      }),
      getSubscription: unary(
        (req: { subscription: string }) => this.subscription(req.subscription).config,
      ),
      updateSubscription: unary(
        (req: { subscription: Subscription; updateMask: { paths: string[] } | null }) => {
          const state = this.subscription(req.subscription?.name);
          if (req.updateMask?.paths.includes('filter'))
            fail(Status.INVALID_ARGUMENT, 'The filter of a subscription cannot be changed.');
          const updated = { ...state.config };
          applyMask(updated, req.subscription, req.updateMask);
          validateSubscription(updated);
          state.config = updated;
          this.updatePush(state);
          return updated;
        },
      ),
      listSubscriptions: unary((req: { project: string; pageSize: number; pageToken: string }) => {
        const all = [...this.subscriptions.values()]
          .map((s) => s.config)
          .filter((s) => s.name.startsWith(`${req.project}/subscriptions/`));
        const { page, nextPageToken } = paginate(all, req.pageSize, req.pageToken);
        return { subscriptions: page, nextPageToken };
      }),
      deleteSubscription: unary((req: { subscription: string }) => {
        const state = this.subscription(req.subscription);
        state.resetTo([]);
        this.pushers.get(req.subscription)?.stop();
        this.pushers.delete(req.subscription);
        this.subscriptions.delete(req.subscription);
        for (const call of this.streams.get(req.subscription) ?? [])
          endWithError(
            call,
            new RpcError(Status.NOT_FOUND, 'Subscription does not exist (it was deleted).'),
          );
        return {};
      }),
      modifyAckDeadline: unary(
        (req: { subscription: string; ackIds: string[]; ackDeadlineSeconds: number }) => {
          const state = this.subscription(req.subscription);
          checkDeadline(req.ackDeadlineSeconds);
          if (req.ackIds.length === 0) fail(Status.INVALID_ARGUMENT, 'No ack ids specified.');
          state.modifyAckDeadline(req.ackIds, req.ackDeadlineSeconds);
          return {};
        },
      ),
      acknowledge: unary((req: { subscription: string; ackIds: string[] }) => {
        const state = this.subscription(req.subscription);
        if (req.ackIds.length === 0) fail(Status.INVALID_ARGUMENT, 'No ack ids specified.');
        state.acknowledge(req.ackIds);
        return {};
      }),
      pull: unary(
        (req: { subscription: string; maxMessages: number; returnImmediately: boolean }) => {
          const state = this.subscription(req.subscription);
          if (req.maxMessages <= 0)
            fail(Status.INVALID_ARGUMENT, 'max_messages must be a positive integer.');
          return pull(state, req.maxMessages, req.returnImmediately);
        },
      ),
      streamingPull: (call: StreamingPullCall) => this.serveStreamingPull(call),
      modifyPushConfig: unary(
        (req: { subscription: string; pushConfig: Subscription['pushConfig'] }) => {
          const state = this.subscription(req.subscription);
          state.config = { ...state.config, pushConfig: req.pushConfig };
          this.updatePush(state);
          return {};
        },
      ),
      getSnapshot: unary((req: { snapshot: string }) => this.snapshot(req.snapshot).snapshot),
      listSnapshots: unary((req: { project: string; pageSize: number; pageToken: string }) => {
        const all = [...this.snapshots.values()]
          .map((r) => r.snapshot)
          .filter((s) => s.name.startsWith(`${req.project}/snapshots/`));
        const { page, nextPageToken } = paginate(all, req.pageSize, req.pageToken);
        return { snapshots: page, nextPageToken };
      }),
      createSnapshot: unary(
        (req: { name: string; subscription: string; labels: Record<string, string> }) => {
          pubsubName(req.name, 'snapshots');
          const state = this.subscription(req.subscription);
          if (this.snapshots.has(req.name)) fail(Status.ALREADY_EXISTS, 'Snapshot already exists');
          if (state.config.topic === DELETED_TOPIC)
            fail(Status.FAILED_PRECONDITION, 'The subscription topic was deleted.');
          const messages = new Map(state.unacked().map((m) => [m.messageId, m]));
          const oldest = Math.min(Date.now(), ...[...messages.values()].map((m) => m.publishMs));
          const snapshot = {
            name: req.name,
            topic: state.config.topic,
            labels: req.labels,
            expireTime: timestampFromMs(oldest + 7 * 24 * 3600 * 1000),
          };
          this.snapshots.set(req.name, { snapshot, messages });
          return snapshot;
        },
      ),
      updateSnapshot: unary(
        (req: { snapshot: SnapshotRecord['snapshot']; updateMask: { paths: string[] } | null }) => {
          const record = this.snapshot(req.snapshot?.name);
          applyMask(record.snapshot, req.snapshot, req.updateMask);
          return record.snapshot;
        },
      ),
      deleteSnapshot: unary((req: { snapshot: string }) => {
        this.snapshot(req.snapshot);
        this.snapshots.delete(req.snapshot);
        return {};
      }),
      seek: unary(
        (req: {
          subscription: string;
          time?: Timestamp | null;
          snapshot?: string;
          target?: string;
        }) => {
          const state = this.subscription(req.subscription);
          if (req.snapshot) {
            const record = this.snapshot(req.snapshot);
            if (record.snapshot.topic !== state.config.topic)
              fail(Status.FAILED_PRECONDITION, 'The snapshot and subscription topics differ.');
            state.resetTo([...record.messages.values()]);
          } else if (req.time) {
            state.seekToTime(timestampToMs(req.time));
          } else {
            fail(Status.INVALID_ARGUMENT, 'Seek needs a time or a snapshot.');
          }
          return {};
        },
      ),
    };
  }

  private serveStreamingPull(call: StreamingPullCall): void {
    streamingPull(call, (name) => this.subscription(name), this.streams);
  }

  private snapshot(name: string): SnapshotRecord {
    pubsubName(name, 'snapshots');
    return this.snapshots.get(name) ?? fail(Status.NOT_FOUND, 'Snapshot does not exist');
  }
}
