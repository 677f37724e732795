/**
 * StreamingPull served straight on its HTTP/2 stream, past grpc-js, so that responses go out as
 * the pieces `wire.ts` makes (the messages' data by reference) instead of being copied into one
 * fresh buffer per response. It speaks gRPC over HTTP/2 as grpc-js does
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): length-prefixed messages,
 * `grpc-status`/`grpc-message` trailers, and the events and methods of a grpc-js duplex call that
 * `pulls.ts` uses.
 */
import { EventEmitter } from 'node:events';
import { constants, type ServerHttp2Stream } from 'node:http2';
import { Status } from '../grpc.js';
import type { StreamingPullCall, StreamingPullRequest, StreamingPullResponse } from './stream.js';
import { encodeStreamingPullResponse } from './wire.js';

/** Largest StreamingPullRequest accepted (acks and deadlines of a few thousand messages). */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

export class Http2StreamingPull extends EventEmitter implements StreamingPullCall {
  private received: Buffer[] = [];
  private receivedBytes = 0;
  private statusSent = false;
  private closed = false;

  constructor(
    private readonly stream: ServerHttp2Stream,
    private readonly deserialize: (bytes: Buffer) => StreamingPullRequest,
  ) {
    super();
    // grpc-js reports a stream's status through its 'error' event; so does this call.
    this.on('error', (err: { code?: number; details?: string }) =>
      this.sendStatus(err.code ?? Status.INTERNAL, err.details ?? ''),
    );
    stream.respond(
      {
        [constants.HTTP2_HEADER_STATUS]: 200,
        [constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
        'grpc-accept-encoding': 'identity',
        'grpc-encoding': 'identity',
      },
      { waitForTrailers: true },
    );
    stream.on('data', (chunk: Buffer) => this.onChunk(chunk));
    stream.on('end', () => this.emit('end'));
    stream.on('drain', () => this.emit('drain'));
    stream.on('error', () => {}); // a reset stream also closes, which is handled below
    stream.on('close', () => {
      this.closed = true;
      if (!this.statusSent) this.emit('cancelled');
      this.emit('close');
    });
  }

  get cancelled(): boolean {
    return this.closed && !this.statusSent;
  }

  get writableEnded(): boolean {
    return this.statusSent || this.closed;
  }

  /**
   * Writes one response; false when the stream's buffer is full (wait for 'drain'). `flushed`
   * runs when its last piece has left the stream's buffer (the peer's flow-control window let it).
   */
  write(response: StreamingPullResponse, flushed?: () => void): boolean {
    if (this.writableEnded) return false;
    this.stream.cork();
    let ok = true;
    const pieces = encodeStreamingPullResponse(response);
    pieces.forEach((piece, i) => {
      ok = this.stream.write(
        piece,
        i === pieces.length - 1 && flushed ? () => flushed() : undefined,
      );
    });
    this.stream.uncork();
    return ok;
  }

  /** Ends the call with status OK. */
  end(): void {
    this.sendStatus(Status.OK, '');
  }

  private sendStatus(code: number, details: string): void {
    if (this.writableEnded) return;
    this.statusSent = true;
    this.stream.once('wantTrailers', () =>
      this.stream.sendTrailers({ 'grpc-status': String(code), 'grpc-message': encodeURI(details) }),
    );
    this.stream.end();
  }

  /** Splits the request bytes into length-prefixed messages and emits each as 'data'. */
  private onChunk(chunk: Buffer): void {
    if (this.statusSent) return;
    this.received.push(chunk);
    this.receivedBytes += chunk.length;
    while (this.receivedBytes >= 5) {
      const head = this.received.length === 1 ? this.received[0] : Buffer.concat(this.received);
      this.received = [head];
      const length = head.readUInt32BE(1);
      if (head[0] !== 0 || length > MAX_REQUEST_BYTES) {
        this.emit('error', {
          code: head[0] !== 0 ? Status.UNIMPLEMENTED : Status.RESOURCE_EXHAUSTED,
          details: head[0] !== 0 ? 'Compressed requests are not supported.' : 'Request too large.',
        });
        this.stream.resume();
        this.received = [];
        this.receivedBytes = 0;
        return;
      }
      if (this.receivedBytes < 5 + length) return;
      const message = head.subarray(5, 5 + length);
      this.received = head.length > 5 + length ? [head.subarray(5 + length)] : [];
      this.receivedBytes -= 5 + length;
      let request: StreamingPullRequest;
      try {
        request = this.deserialize(message);
      } catch {
        this.emit('error', { code: Status.INTERNAL, details: 'Error deserializing request' });
        return;
      }
      this.emit('data', request);
    }
  }
}
