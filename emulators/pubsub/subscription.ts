/**
 * One subscription's delivery state: the backlog of unacked messages, leases with ack deadlines,
 * redelivery (with the retry policy's exponential backoff), ordering keys (one message of a key
 * out at a time, redelivered in order), dead-lettering after maxDeliveryAttempts, retention,
 * and the consumers (streaming pulls, pulls, a push endpoint) messages are dealt to.
 */
import { durationSeconds } from '../grpc.js';
import type { AttributeFilter } from './filter.js';
import type {
  PubSubRecord,
  ReceivedMessage,
  Republish,
  StoredMessage,
  Subscription,
} from './types.js';

interface Entry {
  message: StoredMessage;
  attempts: number;
  readyAt: number;
  /** The lease it is out on, if any. */
  ackId?: string;
}

/**
 * An ordering key's messages: those out (delivered together, in order), the head waiting in the
 * ready or delayed queue, and the rest. The next batch goes out once everything out is acked.
 */
interface KeyState {
  out: Entry[];
  headPending: boolean;
  backlog: Entry[];
}

interface Lease {
  entry: Entry;
  consumer: Consumer;
  deadline: number;
  /** Dealt to a stream but still in its buffer: the deadline starts once it is sent. */
  unsent?: boolean;
}

/** Anything messages can be dealt to: it says how many it can take and receives them. */
export interface Consumer {
  capacity(): number;
  ackDeadlineMs(): number;
  /** Sends a batch; `sent` is called once it has left for the client (not while it waits in a buffer). */
  deliver(messages: ReceivedMessage[], sent?: () => void): void;
  /** Called when a lease of this consumer ends (ack, nack or expiry). */
  released?(bytes: number): void;
}

/** Largest batch of bytes sent in one response, below gRPC's default 4 MiB receive limit. */
const MAX_BATCH_BYTES = 3_500_000;
const MAX_BATCH_MESSAGES = 1000;
const DEFAULT_RETENTION_S = 7 * 24 * 3600;

class Queue<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  toArray(): T[] {
    return this.items.slice(this.head);
  }
  drain(): T[] {
    const all = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return all;
  }
}

export class SubscriptionState {
  private ready = new Queue<Entry>();
  private delayed: Entry[] = [];
  private leases = new Map<string, Lease>();
  private keys = new Map<string, KeyState>();
  private retained: StoredMessage[] = [];
  private consumers: Consumer[] = [];
  private nextAck = 0;
  private scheduled = false;

  constructor(
    public config: Subscription,
    public filter: AttributeFilter,
    private readonly republish: Republish,
    /** Records deliveries and acks before they are acknowledged (`--data`). */
    private readonly journal: (record: PubSubRecord) => void = () => {},
  ) {}

  /** Accepts a message published to the topic (ignored when the filter rejects it). */
  enqueue(message: StoredMessage): void {
    if (!this.filter(message.attributes)) return;
    this.admit({ message, attempts: 0, readyAt: 0 });
  }

  private keyOf(entry: Entry): string {
    return this.config.enableMessageOrdering ? entry.message.orderingKey : '';
  }

  private admit(entry: Entry): void {
    const key = this.keyOf(entry);
    if (key) {
      let state = this.keys.get(key);
      if (!state) {
        state = { out: [], headPending: false, backlog: [] };
        this.keys.set(key, state);
      }
      if (state.out.length > 0 || state.headPending) {
        state.backlog.push(entry);
        return;
      }
      state.headPending = true;
    }
    this.ready.push(entry);
    this.schedule();
  }

  /** Sends a key's next message once nothing of it is out or pending. */
  private releaseKey(key: string): void {
    const state = this.keys.get(key);
    if (!state || state.out.length > 0 || state.headPending) return;
    const next = state.backlog.shift();
    if (!next) {
      this.keys.delete(key);
      return;
    }
    state.headPending = true;
    this.ready.push(next);
    this.schedule();
  }

  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.schedule();
  }

  removeConsumer(consumer: Consumer): void {
    this.consumers = this.consumers.filter((c) => c !== consumer);
  }

  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.dispatch());
  }

  /** Deals ready messages to consumers round robin, in batches each consumer can take. */
  private dispatch(): void {
    this.scheduled = false;
    let progress = true;
    while (progress && this.ready.length > 0) {
      progress = false;
      for (const consumer of [...this.consumers]) {
        const batch = this.take(consumer, consumer.capacity());
        if (batch.length > 0) {
          progress = true;
          this.holdLeases(batch);
          consumer.deliver(batch, () => this.startLeases(batch, consumer));
        }
        if (this.ready.length === 0) break;
      }
    }
  }

  /** Takes up to `max` messages off the ready queue and leases them to `consumer`. */
  take(consumer: Consumer, max: number): ReceivedMessage[] {
    const batch: ReceivedMessage[] = [];
    const limit = Math.min(max, MAX_BATCH_MESSAGES);
    let bytes = 0;
    const now = Date.now();
    const fits = (entry: Entry) =>
      batch.length < limit &&
      (batch.length === 0 || bytes + entry.message.data.length <= MAX_BATCH_BYTES);
    const delivered: string[] = [];
    const lease = (entry: Entry) => {
      entry.attempts++;
      delivered.push(entry.message.messageId);
      bytes += entry.message.data.length;
      entry.ackId = `${this.nextAck++}`;
      this.leases.set(entry.ackId, { entry, consumer, deadline: now + consumer.ackDeadlineMs() });
      const { data, attributes, messageId, publishTime, orderingKey } = entry.message;
      batch.push({
        ackId: entry.ackId,
        message: { data, attributes, messageId, publishTime, orderingKey },
        deliveryAttempt: this.config.deadLetterPolicy ? entry.attempts : 0,
      });
    };
    while (this.ready.length > 0 && fits(this.ready.peek()!)) {
      const entry = this.ready.shift()!;
      const key = this.keyOf(entry);
      const state = key ? this.keys.get(key) : undefined;
      if (state) state.headPending = false;
      if (this.expired(entry, now)) {
        this.finish(entry);
        continue;
      }
      lease(entry);
      if (!state) continue;
      // The key's following messages go out in the same batch, in order.
      state.out.push(entry);
      while (state.backlog.length > 0 && fits(state.backlog[0])) {
        const next = state.backlog.shift()!;
        if (this.expired(next, now)) continue;
        lease(next);
        state.out.push(next);
      }
    }
    if (delivered.length > 0) this.journal({ delivered: this.config.name, ids: delivered });
    return batch;
  }

  /**
   * A batch has left for the client: its ack deadlines run from now. A batch held in the
   * stream's buffer behind a slow reader (HTTP/2 flow control on a loaded machine) must not
   * expire before the client has even seen it: that redelivered messages the client then held
   * twice, under lease and renewed, and showed the broker duplicates.
   */
  private startLeases(batch: ReceivedMessage[], consumer: Consumer): void {
    const deadline = Date.now() + consumer.ackDeadlineMs();
    for (const { ackId } of batch) {
      const lease = this.leases.get(ackId);
      if (lease?.unsent) {
        lease.unsent = false;
        lease.deadline = Math.max(lease.deadline, deadline);
      }
    }
  }

  /** Until it is sent, a batch's leases do not expire (unless its stream goes away). */
  private holdLeases(batch: ReceivedMessage[]): void {
    for (const { ackId } of batch) {
      const lease = this.leases.get(ackId);
      if (lease) lease.unsent = true;
    }
  }

  private expired(entry: Entry, now: number): boolean {
    const retention = durationSeconds(this.config.messageRetentionDuration) || DEFAULT_RETENTION_S;
    return entry.message.publishMs < now - retention * 1000;
  }

  acknowledge(ackIds: string[]): void {
    const done: string[] = [];
    for (const ackId of ackIds) {
      const lease = this.endLease(ackId);
      if (!lease) continue;
      done.push(lease.entry.message.messageId);
      if (this.config.retainAckedMessages) this.retained.push(lease.entry.message);
      this.finish(lease.entry);
    }
    if (done.length > 0) this.journal({ done: this.config.name, ids: done });
    this.schedule();
  }

  /** Sets new deadlines; 0 s is a nack (redelivery after the retry policy's backoff). */
  modifyAckDeadline(ackIds: string[], seconds: number): void {
    const now = Date.now();
    for (const ackId of ackIds) {
      if (seconds > 0) {
        const lease = this.leases.get(ackId);
        if (lease) lease.deadline = now + seconds * 1000;
      } else {
        const lease = this.endLease(ackId);
        if (lease) this.fail(lease.entry, now);
      }
    }
    this.schedule();
  }

  private endLease(ackId: string): Lease | undefined {
    const lease = this.leases.get(ackId);
    if (!lease) return undefined;
    this.leases.delete(ackId);
    lease.consumer.released?.(lease.entry.message.data.length);
    return lease;
  }

  /** A message left its lease unacked: dead-letter it or queue its redelivery. */
  private fail(entry: Entry, now: number): void {
    const key = this.keyOf(entry);
    const state = key ? this.keys.get(key) : undefined;
    if (state) {
      // Ordered redelivery: the key's messages sent after this one come again after it.
      const i = state.out.indexOf(entry);
      const later = i >= 0 ? state.out.slice(i + 1) : [];
      state.out = i >= 0 ? state.out.slice(0, i) : state.out;
      for (const e of later) if (e.ackId) this.endLease(e.ackId);
      state.backlog = [...later, ...state.backlog];
    }
    const policy = this.config.deadLetterPolicy;
    if (policy && policy.deadLetterTopic && entry.attempts >= (policy.maxDeliveryAttempts || 5)) {
      const m = entry.message;
      this.republish(policy.deadLetterTopic, [
        {
          data: m.data,
          orderingKey: m.orderingKey,
          attributes: {
            ...m.attributes,
            CloudPubSubDeadLetterSourceDeliveryCount: String(entry.attempts),
            CloudPubSubDeadLetterSourceSubscription: this.config.name.split('/')[3],
            CloudPubSubDeadLetterSourceSubscriptionProject: this.config.name.split('/')[1],
            CloudPubSubDeadLetterSourceTopicPublishTime: new Date(m.publishMs).toISOString(),
          },
        },
      ]);
      this.journal({ done: this.config.name, ids: [m.messageId] });
      this.finish(entry);
      return;
    }
    // Pull redelivers at once unless a retry policy says otherwise; push always backs off.
    const retry = this.config.retryPolicy;
    const push = Boolean(this.config.pushConfig?.pushEndpoint);
    if (state) state.headPending = true;
    if (!retry && !push) {
      this.ready.unshift(entry);
      this.schedule();
      return;
    }
    const min = retry ? durationSeconds(retry.minimumBackoff) || 10 : 0.1;
    const max = retry ? durationSeconds(retry.maximumBackoff) || 600 : 60;
    entry.readyAt = now + Math.min(max, min * 2 ** (entry.attempts - 1)) * 1000;
    this.delayed.push(entry);
  }

  /** A message is done (acked, dead-lettered or expired): its key may send the next ones. */
  private finish(entry: Entry): void {
    const key = this.keyOf(entry);
    const state = key ? this.keys.get(key) : undefined;
    if (!state) return;
    state.out = state.out.filter((e) => e !== entry);
    this.releaseKey(key);
  }

  /** Periodic work: expire leases, release backed-off messages, drop what outlived retention. */
  sweep(now: number): void {
    for (const [ackId, lease] of this.leases) {
      if (lease.unsent && this.consumers.includes(lease.consumer)) continue;
      if (lease.deadline <= now) {
        this.endLease(ackId);
        this.fail(lease.entry, now);
      }
    }
    if (this.delayed.length > 0) {
      const due = this.delayed.filter((e) => e.readyAt <= now);
      this.delayed = this.delayed.filter((e) => e.readyAt > now);
      for (const entry of due) this.ready.push(entry);
    }
    if (this.config.retainAckedMessages)
      this.retained = this.retained.filter(
        (m) => !this.expired({ message: m, attempts: 0, readyAt: 0 }, now),
      );
    if (this.ready.length > 0) this.schedule();
  }

  /** Every message not yet acked with its delivery attempts, in publish order (persistence). */
  backlog(): Array<{ message: StoredMessage; attempts: number }> {
    const entries = [
      ...this.ready.toArray(),
      ...this.delayed,
      ...[...this.leases.values()].map((l) => l.entry),
      ...[...this.keys.values()].flatMap((k) => k.backlog),
    ];
    return entries
      .map(({ message, attempts }) => ({ message, attempts }))
      .sort((a, b) => byPublishOrder(a.message, b.message));
  }

  /** Every message not yet acked, in publish order (snapshots and seek). */
  unacked(): StoredMessage[] {
    return this.backlog().map((e) => e.message);
  }

  /** Seek to a time: retained and unacked messages published at or after `ms` become unacked. */
  seekToTime(ms: number): void {
    const byId = new Map<string, StoredMessage>();
    for (const m of [...this.retained, ...this.unacked()]) byId.set(m.messageId, m);
    const messages = [...byId.values()].sort(byPublishOrder);
    this.retained = messages.filter((m) => m.publishMs < ms);
    this.resetTo(messages.filter((m) => m.publishMs >= ms));
  }

  /**
   * Replaces the backlog with exactly `messages` (Seek to a snapshot, restore from disk, with
   * their delivery attempts so far).
   */
  resetTo(messages: StoredMessage[], attempts: number[] = []): void {
    for (const lease of this.leases.values())
      lease.consumer.released?.(lease.entry.message.data.length);
    this.ready.drain();
    this.delayed = [];
    this.leases.clear();
    this.keys.clear();
    messages.forEach((message, i) =>
      this.admit({ message, attempts: attempts[i] ?? 0, readyAt: 0 }),
    );
  }
}

function byPublishOrder(a: StoredMessage, b: StoredMessage): number {
  return a.publishMs - b.publishMs || Number(a.messageId) - Number(b.messageId);
}
