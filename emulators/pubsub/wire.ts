/**
 * A hand-written protobuf encoder for StreamingPullResponse, the emulator's hot path: it returns
 * the gRPC-framed response as pieces, small buffers of tags and lengths between the messages' own
 * data buffers, which are written to the HTTP/2 stream as they are. protobufjs (and grpc-js's
 * framing) copied every payload into a fresh multi-megabyte buffer per response; those copies and
 * allocations, not the encoding, drove the garbage collector
 * (https://protobuf.dev/programming-guides/encoding/, https://grpc.github.io/grpc/core/md_doc__p_r_o_t_o_c_o_l-_h_t_t_p2.html).
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

/** Data at least this long is written by reference instead of copied among the tags. */
const BY_REFERENCE_BYTES = 1024;

class Writer {
  private readonly buf: Buffer;
  private pos = 0;
  private start = 0;
  private readonly pieces: Buffer[] = [];

  /** `size`: the bytes written other than data written by reference. */
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
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

  bytes(field: number, data: Buffer): void {
    this.tag(field, LEN);
    this.varint(data.length);
    if (data.length < BY_REFERENCE_BYTES) {
      this.buf.set(data, this.pos);
      this.pos += data.length;
      return;
    }
    this.cut();
    this.pieces.push(data);
  }

  /** The gRPC length-prefixed message header: not compressed, then the length. */
  frame(length: number): void {
    this.buf[this.pos++] = 0;
    this.buf.writeUInt32BE(length, this.pos);
    this.pos += 4;
  }

  private cut(): void {
    if (this.pos > this.start) this.pieces.push(this.buf.subarray(this.start, this.pos));
    this.start = this.pos;
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

  result(): Buffer[] {
    this.cut();
    return this.pieces;
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

function referencedBytes(m: PubsubMessage): number {
  return m.data.length >= BY_REFERENCE_BYTES ? m.data.length : 0;
}

/** A StreamingPullResponse as a gRPC message: the pieces to write in order. */
export function encodeStreamingPullResponse(response: StreamingPullResponse): Buffer[] {
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
  const referenced = response.receivedMessages.reduce(
    (sum, r) => sum + referencedBytes(r.message),
    0,
  );
  const w = new Writer(5 + total - referenced);
  w.frame(total);
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
