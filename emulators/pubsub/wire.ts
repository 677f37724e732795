/**
 * A hand-written protobuf encoder for StreamingPullResponse, the emulator's hot path: it writes
 * into one reusable scratch buffer (grpc-js copies the result into its frame at once), instead of
 * protobufjs allocating a fresh multi-megabyte buffer per response. Those allocations, not the
 * encoding, drove the garbage collector (https://protobuf.dev/programming-guides/encoding/).
 */
import type { StreamingPullResponse } from './stream.js';
import type { PubsubMessage, ReceivedMessage } from './types.js';

const LEN = 2;
const VARINT = 0;

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function lenFieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

function timestampSize(seconds: number, nanos: number): number {
  return (seconds ? 1 + varintSize(seconds) : 0) + (nanos ? 1 + varintSize(nanos) : 0);
}

function messageSize(m: PubsubMessage): number {
  let size = m.data.length > 0 ? lenFieldSize(m.data.length) : 0;
  for (const [k, v] of Object.entries(m.attributes)) {
    size += lenFieldSize(lenFieldSize(Buffer.byteLength(k)) + lenFieldSize(Buffer.byteLength(v)));
  }
  size += lenFieldSize(Buffer.byteLength(m.messageId));
  if (m.publishTime)
    size += lenFieldSize(timestampSize(Number(m.publishTime.seconds), m.publishTime.nanos));
  if (m.orderingKey) size += lenFieldSize(Buffer.byteLength(m.orderingKey));
  return size;
}

class Writer {
  private static scratch = Buffer.allocUnsafe(4 * 1024 * 1024);
  private buf: Buffer;
  pos = 0;

  constructor(size: number) {
    if (Writer.scratch.length < size) Writer.scratch = Buffer.allocUnsafe(size);
    this.buf = Writer.scratch;
  }

  varint(n: number): void {
    while (n >= 0x80) {
      this.buf[this.pos++] = (n % 128) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, LEN);
    this.varint(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  string(field: number, text: string): void {
    this.tag(field, LEN);
    const length = Buffer.byteLength(text);
    this.varint(length);
    this.buf.write(text, this.pos, length, 'utf8');
    this.pos += length;
  }

  header(field: number, length: number): void {
    this.tag(field, LEN);
    this.varint(length);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

function writeMessage(w: Writer, m: PubsubMessage): void {
  if (m.data.length > 0) w.bytes(1, m.data);
  for (const [k, v] of Object.entries(m.attributes)) {
    w.header(2, lenFieldSize(Buffer.byteLength(k)) + lenFieldSize(Buffer.byteLength(v)));
    w.string(1, k);
    w.string(2, v);
  }
  w.string(3, m.messageId);
  if (m.publishTime) {
    const seconds = Number(m.publishTime.seconds);
    const nanos = m.publishTime.nanos;
    w.header(4, timestampSize(seconds, nanos));
    if (seconds) {
      w.tag(1, VARINT);
      w.varint(seconds);
    }
    if (nanos) {
      w.tag(2, VARINT);
      w.varint(nanos);
    }
  }
  if (m.orderingKey) w.string(5, m.orderingKey);
}

/** Serializes a StreamingPullResponse; the returned bytes are valid until the next call. */
export function encodeStreamingPullResponse(response: StreamingPullResponse): Buffer {
  const messageSizes = response.receivedMessages.map((r) => messageSize(r.message));
  const receivedSizes = response.receivedMessages.map(
    (r: ReceivedMessage, i) =>
      lenFieldSize(Buffer.byteLength(r.ackId)) +
      lenFieldSize(messageSizes[i]) +
      (r.deliveryAttempt > 0 ? 1 + varintSize(r.deliveryAttempt) : 0),
  );
  const props = response.subscriptionProperties;
  const propsSize =
    (props.exactlyOnceDeliveryEnabled ? 2 : 0) + (props.messageOrderingEnabled ? 2 : 0);
  const total =
    receivedSizes.reduce((sum, size) => sum + lenFieldSize(size), 0) + lenFieldSize(propsSize);
  const w = new Writer(total);
  response.receivedMessages.forEach((r, i) => {
    w.header(1, receivedSizes[i]);
    w.string(1, r.ackId);
    w.header(2, messageSizes[i]);
    writeMessage(w, r.message);
    if (r.deliveryAttempt > 0) {
      w.tag(3, VARINT);
      w.varint(r.deliveryAttempt);
    }
  });
  w.header(4, propsSize);
  if (props.exactlyOnceDeliveryEnabled) {
    w.tag(1, VARINT);
    w.varint(1);
  }
  if (props.messageOrderingEnabled) {
    w.tag(2, VARINT);
    w.varint(1);
  }
  return w.result();
}
