/** A StreamingPull call as a consumer: server-side flow control and write back-pressure. */
import type { EventEmitter } from 'node:events';
import type { Consumer } from './subscription.js';
import type { ReceivedMessage, Subscription } from './types.js';

export interface StreamingPullRequest {
  subscription: string;
  ackIds: string[];
  modifyDeadlineSeconds: number[];
  modifyDeadlineAckIds: string[];
  streamAckDeadlineSeconds: number;
  clientId: string;
  maxOutstandingMessages: string;
  maxOutstandingBytes: string;
}

export interface StreamingPullResponse {
  receivedMessages: ReceivedMessage[];
  subscriptionProperties: { exactlyOnceDeliveryEnabled: boolean; messageOrderingEnabled: boolean };
}

/**
 * What the emulator uses of a StreamingPull call: grpc-js's duplex call, or `Http2StreamingPull`.
 * Events: 'data' (a request), 'end', 'drain', 'cancelled', 'close'; an emitted 'error' ends the
 * call with that error's status.
 */
export interface StreamingPullCall extends EventEmitter {
  readonly cancelled: boolean;
  readonly writableEnded: boolean;
  /** Writes a response; `flushed` runs once it has been handed to the connection. */
  write(response: StreamingPullResponse, flushed?: () => void): boolean;
  end(): void;
}

export class StreamConsumer implements Consumer {
  private outstanding = 0;
  private outstandingBytes = 0;
  private blocked = false;
  private deadlineSeconds: number;
  private readonly maxMessages: number;
  private readonly maxBytes: number;

  constructor(
    private readonly call: StreamingPullCall,
    private readonly config: Subscription,
    first: StreamingPullRequest,
    private readonly onDrain: () => void,
  ) {
    this.deadlineSeconds = first.streamAckDeadlineSeconds || config.ackDeadlineSeconds || 10;
    this.maxMessages = Number(first.maxOutstandingMessages) || Infinity;
    this.maxBytes = Number(first.maxOutstandingBytes) || Infinity;
  }

  setDeadline(seconds: number): void {
    if (seconds > 0) this.deadlineSeconds = seconds;
  }

  capacity(): number {
    if (this.blocked || this.call.cancelled || this.outstandingBytes >= this.maxBytes) return 0;
    return this.maxMessages - this.outstanding;
  }

  ackDeadlineMs(): number {
    return this.deadlineSeconds * 1000;
  }

  deliver(messages: ReceivedMessage[], sent?: () => void): void {
    this.outstanding += messages.length;
    for (const m of messages) this.outstandingBytes += m.message.data.length;
    const ok = this.call.write(
      {
        receivedMessages: messages,
        subscriptionProperties: {
          exactlyOnceDeliveryEnabled: this.config.enableExactlyOnceDelivery,
          messageOrderingEnabled: this.config.enableMessageOrdering,
        },
      },
      sent,
    );
    if (!ok) {
      this.blocked = true;
      this.call.once('drain', () => {
        this.blocked = false;
        this.onDrain();
      });
    }
  }

  released(bytes: number): void {
    this.outstanding--;
    this.outstandingBytes -= bytes;
  }
}
