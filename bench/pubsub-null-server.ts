/**
 * A gRPC server that speaks just enough google.pubsub.v1 for the throughput bench and does no
 * Pub/Sub work: Publish answers ids and forwards as many messages of the same sizes to the open
 * StreamingPulls, without storing, copying or decoding them (payloads are slices of one zeroed
 * buffer); acks and admin calls get empty or echoed answers. The official client's CPU per message
 * against it is the client's floor, and its own CPU a floor for any server on this transport.
 * Run as a child: prints `export PUBSUB_EMULATOR_HOST=host:port`.
 */
import http2 from 'node:http2';

const WINDOW_BYTES = 32 * 1024 * 1024;
const ZEROS = Buffer.alloc(10 * 1024 * 1024);

/** Reads varints and skips bytes across the chunks of a request body. */
class ChunkCursor {
  private i = 0;
  private off = 0;
  constructor(private readonly chunks: Buffer[]) {}

  atEnd(): boolean {
    while (this.i < this.chunks.length && this.off >= this.chunks[this.i].length) {
      this.i++;
      this.off = 0;
    }
    return this.i >= this.chunks.length;
  }

  byte(): number {
    this.atEnd();
    return this.chunks[this.i][this.off++];
  }

  varint(): number {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = this.byte();
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
    }
  }

  skip(n: number): void {
    while (n > 0 && !this.atEnd()) {
      const step = Math.min(n, this.chunks[this.i].length - this.off);
      this.off += step;
      n -= step;
    }
  }
}

/** Data lengths of the messages of a framed PublishRequest (topic = field 1, messages = field 2). */
function publishedSizes(chunks: Buffer[]): number[] {
  const cursor = new ChunkCursor(chunks);
  cursor.skip(5);
  const sizes: number[] = [];
  while (!cursor.atEnd()) {
    const tag = cursor.varint();
    const length = cursor.varint();
    if (tag !== 0x12) {
      cursor.skip(length);
      continue;
    }
    // A PubsubMessage as the client encodes it starts with its data (field 1).
    const first = cursor.byte();
    const dataLength = first === 0x0a ? cursor.varint() : 0;
    const headerBytes = first === 0x0a ? 1 + varintBytes(dataLength).length : 1;
    cursor.skip(length - headerBytes);
    sizes.push(dataLength);
  }
  return sizes;
}

function varintBytes(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

function field(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(tag << 3) | 2]), varintBytes(body.length), body]);
}

function grpcFrame(length: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(length, 1);
  return header;
}

let nextId = 1;

/** One StreamingPullResponse of messages with these data sizes, as pieces to write in order. */
function pullResponse(sizes: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let total = 0;
  for (const size of sizes) {
    const id = Buffer.from(String(nextId++));
    const data = ZEROS.subarray(0, size);
    const tail = Buffer.concat([field(3, id), field(4, Buffer.from([0x08, 0x01]))]);
    const message = Buffer.concat([Buffer.from([0x0a]), varintBytes(size)]);
    const messageLength = message.length + size + tail.length;
    const head = Buffer.concat([
      Buffer.from([0x0a]),
      varintBytes(id.length + 2 + 1 + varintBytes(messageLength).length + messageLength),
      field(1, id),
      Buffer.from([0x12]),
      varintBytes(messageLength),
      message,
    ]);
    pieces.push(head, data, tail);
    total += head.length + size + tail.length;
  }
  const properties = field(4, Buffer.alloc(0));
  return [grpcFrame(total + properties.length), ...pieces, properties];
}

const pulls = new Set<http2.ServerHttp2Stream>();
/** Sizes published while no StreamingPull was open, sent to the first one that opens. */
const waiting: number[] = [];

function forward(sizes: number[]): void {
  if (pulls.size === 0) waiting.push(...sizes);
  for (const pull of pulls) {
    pull.cork();
    for (const piece of pullResponse(sizes)) pull.write(piece);
    pull.uncork();
  }
}
const server = http2.createServer({ settings: { initialWindowSize: WINDOW_BYTES } });
server.on('session', (session) => session.setLocalWindowSize(WINDOW_BYTES));
server.on('stream', (stream, headers) => {
  const method = String(headers[':path']).split('/').pop();
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.on('error', () => pulls.delete(stream));
  if (method === 'StreamingPull') {
    pulls.add(stream);
    if (waiting.length > 0) forward(waiting.splice(0));
    stream.on('data', () => {});
    stream.on('close', () => pulls.delete(stream));
    return;
  }
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('end', () => {
    if (method === 'Publish') {
      const sizes = publishedSizes(chunks);
      const ids = Buffer.concat(sizes.map((_, i) => field(1, Buffer.from(String(i)))));
      stream.end(Buffer.concat([grpcFrame(ids.length), ids]));
      forward(sizes);
    } else if (method?.startsWith('Create') || method?.startsWith('Get')) {
      stream.end(Buffer.concat(chunks)); // the resource asked for, as sent
    } else {
      stream.end(grpcFrame(0));
    }
  });
});
server.listen(0, 'localhost', () => {
  const { port } = server.address() as { port: number };
  console.log(`export PUBSUB_EMULATOR_HOST=localhost:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
