/**
 * Shared gRPC plumbing for the Pub/Sub and Firestore emulators: loading the protos that ship with the
 * official clients, typed errors with Google's status codes, and handler wrappers that turn any
 * thrown error into a gRPC status instead of crashing the server.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type {
  Http2Server,
  IncomingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** Directories holding `google/...` protos of an installed client package and of google-gax. */
export function clientProtoDirs(pkg: string): string[] {
  const entry = require.resolve(pkg);
  const gax = createRequire(entry).resolve('google-gax');
  return [join(dirname(entry), '..', 'protos'), join(dirname(gax), '..', 'protos')];
}

/** Loads `file` (relative to one of `protoDirs`) and returns the named service definition. */
export function loadService(
  protoDirs: string[],
  file: string,
  service: string,
): grpc.ServiceDefinition {
  const definition = protoLoader.loadSync(file, {
    includeDirs: protoDirs,
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const root = grpc.loadPackageDefinition(definition);
  const found = service
    .split('.')
    .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], root);
  return (found as { service: grpc.ServiceDefinition }).service;
}

/** An error carrying the gRPC status code Google would return. */
export class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

export const Status = grpc.status;

export function fail(code: grpc.status, message: string): never {
  throw new RpcError(code, message);
}

function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  if (err instanceof RpcError)
    return { code: err.code, details: err.message, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: grpc.status.INTERNAL, details: message, message };
}

/** Wraps an async unary handler: resolved value -> response, thrown error -> status. */
export function unary<Req, Res>(
  handler: (request: Req, metadata: grpc.Metadata) => Res | Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handler(call.request, call.metadata))
      .then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServiceError(err)),
      );
  };
}

/** Wraps a server-streaming handler that yields responses. */
export function serverStream<Req, Res>(
  handler: (request: Req) => AsyncIterable<Res> | Iterable<Res>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    (async () => {
      for await (const response of handler(call.request)) {
        if (call.cancelled) return;
        if (!call.write(response)) await new Promise((resolve) => call.once('drain', resolve));
      }
      call.end();
    })().catch((err: unknown) => endWithError(call, err));
  };
}

/**
 * Ends a bidi/server stream with the status of `err`. grpc-js sends a stream's status from its
 * 'error' event; destroy() would drop the status and leave the client waiting.
 */
export function endWithError(
  call: { readonly writableEnded: boolean; emit(event: 'error', err: Error): boolean },
  err: unknown,
): void {
  if (call.writableEnded) return;
  call.emit('error', Object.assign(new Error(), toServiceError(err)));
}

/** HTTP/2 receive window: Node's default 64 KiB stalls 80 KB messages on window updates. */
const RECEIVE_WINDOW_BYTES = 32 * 1024 * 1024;

/** Serves the HTTP/2 stream of one gRPC method itself, instead of grpc-js. */
export type StreamRoute = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

/**
 * Binds an insecure server on host:port (0 = any free port) and returns the port. Calls to a path
 * in `routes` (`/package.Service/Method`) without compression go to that route, the rest to grpc-js.
 */
export async function bindServer(
  server: grpc.Server,
  host: string,
  port: number,
  routes: Record<string, StreamRoute> = {},
): Promise<number> {
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    );
  });
  const http2Servers = (server as unknown as { http2Servers?: Map<Http2Server, unknown> })
    .http2Servers;
  for (const http2Server of http2Servers?.keys() ?? []) {
    // grpc-js takes every stream of its HTTP/2 servers: put the routes in front of it.
    const grpcHandlers = http2Server.listeners('stream');
    http2Server.removeAllListeners('stream');
    http2Server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
      const route = routes[headers[':path'] ?? ''];
      const grpc = String(headers['content-type']).startsWith('application/grpc');
      const identity = (headers['grpc-encoding'] ?? 'identity') === 'identity';
      if (route && grpc && identity) route(stream, headers);
      else for (const handler of grpcHandlers) handler.call(http2Server, stream, headers);
    });
    // grpc-js has no server option for the window, so widen it on each HTTP/2 session it accepts.
    http2Server.on('session', (session: ServerHttp2Session) => {
      session.settings({ initialWindowSize: RECEIVE_WINDOW_BYTES });
      session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
    });
  }
  return bound;
}

/** google.protobuf.Timestamp as decoded with longs as strings. */
export interface Timestamp {
  seconds: string | number;
  nanos: number;
}

export function timestampFromMs(ms: number): Timestamp {
  return { seconds: String(Math.floor(ms / 1000)), nanos: Math.round((ms % 1000) * 1e6) };
}

export function timestampToMs(ts: Timestamp | null | undefined): number {
  if (!ts) return 0;
  return Number(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** google.protobuf.Duration in seconds (fractional). */
export function durationSeconds(
  d: { seconds?: string | number; nanos?: number } | null | undefined,
): number {
  if (!d) return 0;
  return Number(d.seconds ?? 0) + (d.nanos ?? 0) / 1e9;
}
