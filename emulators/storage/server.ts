/**
 * The Cloud Storage emulator: the GCS JSON API over HTTP, with and without the `/storage/v1` prefix
 * (the client drops it under STORAGE_EMULATOR_HOST), plus `/upload/storage/v1` (media, multipart,
 * resumable) and `/download/storage/v1`. Notifications are published through `publish`.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { listObjects } from './listing.js';
import { createNotificationConfig, notify, type NotificationPublisher } from './notifications.js';
import {
  HttpError,
  type BucketRecord,
  StorageStore,
  WRITABLE_FIELDS,
  type ObjectMetadata,
  type Preconditions,
  type StoredObject,
} from './store.js';
import {
  decode,
  download,
  errorBody,
  hashHeader,
  header,
  json,
  pick,
  preconditions,
  readBody,
  send,
  sourcePreconditions,
  type Query,
  type Reply,
} from './http.js';
import {
  appendChunk,
  parseContentRange,
  parseMultipart,
  type ResumableSession,
} from './uploads.js';

/** What `--data` persistence stores: bucket metadata, notification configs and objects. */
export interface StorageDump {
  buckets: Array<{
    meta: Record<string, unknown> & { name: string };
    notifications: unknown[];
    objects: Array<{ meta: ObjectMetadata; data: Buffer }>;
  }>;
}

/** A journal record: a bucket's metadata and notifications, or one object, as now (null: gone). */
export type StorageRecord =
  | { bucket: string; state: { meta: BucketRecord['meta']; notifications: unknown[] } | null }
  | { bucket: string; object: string; state: { meta: ObjectMetadata; data: Buffer } | null };

export class StorageEmulator {
  readonly store = new StorageStore();
  private readonly sessions = new Map<string, ResumableSession>();
  private readonly server: http.Server;
  private nextNotification = 1;
  /** Set by `--data` persistence: records a change before it is acknowledged. */
  journal?: (record: StorageRecord) => void;

  constructor(private readonly publish?: NotificationPublisher) {
    this.store.onChange = (bucket, object) => this.journal?.(this.record(bucket, object));
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        if (!res.headersSent)
          send(res, { status: 500, body: errorBody(500, message, 'internalError') });
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 60_000;
  }

  async start(port: number, host = 'localhost'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  dump(): StorageDump {
    return {
      buckets: [...this.store.buckets.values()].map((b) => ({
        meta: b.meta,
        notifications: [...b.notifications.values()],
        objects: [...b.objects.values()].map((o) => ({ meta: o.meta, data: o.data })),
      })),
    };
  }

  restore(dump: StorageDump): void {
    for (const b of dump.buckets) {
      this.store.buckets.set(b.meta.name, {
        meta: b.meta,
        notifications: new Map(
          (b.notifications as Array<{ id: string }>).map((n) => [n.id, n as never]),
        ),
        objects: new Map(b.objects.map((o) => [o.meta.name, o])),
      });
      for (const n of b.notifications as Array<{ id: string }>)
        this.nextNotification = Math.max(this.nextNotification, Number(n.id) + 1);
    }
  }

  replay(dump: StorageDump | undefined, records: StorageRecord[]): StorageDump {
    const buckets = new Map(
      (dump?.buckets ?? []).map((b) => [
        b.meta.name,
        { ...b, objects: new Map(b.objects.map((o) => [o.meta.name, o])) },
      ]),
    );
    for (const record of records) {
      if ('object' in record) {
        const objects = buckets.get(record.bucket)?.objects;
        if (record.state) objects?.set(record.object, record.state);
        else objects?.delete(record.object);
      } else if (record.state) {
        const objects = buckets.get(record.bucket)?.objects ?? new Map();
        buckets.set(record.bucket, { ...record.state, objects });
      } else buckets.delete(record.bucket);
    }
    return {
      buckets: [...buckets.values()].map((b) => ({ ...b, objects: [...b.objects.values()] })),
    };
  }

  /** The journal record of a bucket's or an object's present state. */
  private record(bucketName: string, object?: string): StorageRecord {
    const bucket = this.store.buckets.get(bucketName);
    if (object === undefined)
      return {
        bucket: bucketName,
        state: bucket
          ? { meta: bucket.meta, notifications: [...bucket.notifications.values()] }
          : null,
      };
    const stored = bucket?.objects.get(object);
    return {
      bucket: bucketName,
      object,
      state: stored ? { meta: stored.meta, data: stored.data } : null,
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const base = `http://${req.headers.host ?? 'localhost'}`;
    let path = url.pathname;
    let mode: 'json' | 'upload' | 'download' = 'json';
    for (const [prefix, kind] of [
      ['/upload/storage/v1', 'upload'],
      ['/download/storage/v1', 'download'],
      ['/storage/v1', 'json'],
    ] as const) {
      if (path.startsWith(`${prefix}/`)) {
        path = path.slice(prefix.length);
        mode = kind;
        break;
      }
    }
    const body = await readBody(req);
    try {
      const reply = this.route(req.method ?? 'GET', path, mode, url.searchParams, req, body, base);
      send(res, reply);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      send(
        res,
        err.status === 304
          ? { status: 304 }
          : { status: err.status, body: errorBody(err.status, err.message, err.reason) },
      );
    }
  }

  private route(
    method: string,
    path: string,
    mode: string,
    q: Query,
    req: http.IncomingMessage,
    body: Buffer,
    base: string,
  ): Reply {
    let m: RegExpExecArray | null;
    if (
      (m = /^\/b\/([^/]+)\/o\/(.+)\/(rewriteTo|copyTo)\/b\/([^/]+)\/o\/(.+)$/.exec(path)) &&
      method === 'POST'
    ) {
      return this.copy(
        m[1],
        decode(m[2]),
        m[4],
        decode(m[5]),
        m[3] === 'rewriteTo',
        q,
        json(body),
        base,
      );
    }
    if ((m = /^\/b\/([^/]+)\/o\/(.+)\/compose$/.exec(path)) && method === 'POST')
      return this.compose(m[1], decode(m[2]), q, json(body), base);
    if ((m = /^\/b\/([^/]+)\/o\/(.+)$/.exec(path)))
      return this.object(method, m[1], decode(m[2]), q, req, body, mode);
    if ((m = /^\/b\/([^/]+)\/o$/.exec(path))) {
      if (q.has('upload_id')) return this.resumable(method, q.get('upload_id')!, req, body, base);
      if (method === 'POST') return this.upload(m[1], q, req, body, base);
      if (method === 'GET') return { status: 200, body: listObjects(this.store.bucket(m[1]), q) };
    }
    if ((m = /^\/b\/([^/]+)\/notificationConfigs(?:\/([^/]+))?$/.exec(path)))
      return this.notifications(method, m[1], m[2], body);
    if ((m = /^\/b\/([^/]+)$/.exec(path))) return this.bucket(method, m[1], body);
    if (path === '/b' && method === 'POST')
      return {
        status: 200,
        body: this.store.createBucket(json(body), q.get('project') ?? '0').meta,
      };
    if (path === '/b' && method === 'GET')
      return {
        status: 200,
        body: {
          kind: 'storage#buckets',
          items: [...this.store.buckets.values()].map((b) => b.meta),
        },
      };
    throw new HttpError(404, `Not Found: ${method} ${path}`, 'notFound');
  }

  private bucket(method: string, name: string, body: Buffer): Reply {
    const bucket = this.store.bucket(name);
    if (method === 'GET') return { status: 200, body: bucket.meta };
    if (method === 'DELETE') {
      this.store.deleteBucket(name);
      return { status: 204 };
    }
    if (method === 'PATCH' || method === 'PUT') {
      const fields = json(body);
      delete fields.name;
      delete fields.id;
      Object.assign(bucket.meta, fields, {
        updated: new Date().toISOString(),
        metageneration: String(Number(bucket.meta.metageneration) + 1),
      });
      this.store.onChange?.(name);
      return { status: 200, body: bucket.meta };
    }
    throw new HttpError(405, `Method ${method} not allowed`);
  }

  private object(
    method: string,
    bucket: string,
    name: string,
    q: Query,
    req: http.IncomingMessage,
    body: Buffer,
    mode: string,
  ): Reply {
    const pre = preconditions(q);
    if (method === 'GET') {
      const object = this.store.getObject(bucket, name, pre);
      if (q.has('generation') && q.get('generation') !== object.meta.generation)
        throw new HttpError(404, `No such object: ${bucket}/${name}`, 'notFound');
      if (q.get('alt') === 'media' || mode === 'download')
        return download(object, req.headers.range, header(req, 'accept-encoding') ?? '');
      return { status: 200, body: object.meta };
    }
    if (method === 'DELETE') {
      const object = this.store.deleteObject(bucket, name, pre);
      notify(this.store.bucket(bucket), 'OBJECT_DELETE', object.meta, this.publish);
      return { status: 204 };
    }
    if (method === 'PATCH' || method === 'PUT') {
      const object = this.store.patchObject(bucket, name, json(body), pre, method === 'PUT');
      notify(this.store.bucket(bucket), 'OBJECT_METADATA_UPDATE', object.meta, this.publish);
      return { status: 200, body: object.meta };
    }
    throw new HttpError(405, `Method ${method} not allowed`);
  }

  private upload(
    bucket: string,
    q: Query,
    req: http.IncomingMessage,
    body: Buffer,
    base: string,
  ): Reply {
    this.store.bucket(bucket);
    const type = q.get('uploadType');
    const contentType = header(req, 'content-type');
    if (type === 'media') {
      const fields = {
        contentType,
        contentEncoding: q.get('contentEncoding') ?? undefined,
        ...hashHeader(req),
      };
      return {
        status: 200,
        body: this.finish(bucket, q.get('name') ?? '', body, fields, preconditions(q), base).meta,
      };
    }
    if (type === 'multipart') {
      const { metadata, media, mediaType } = parseMultipart(body, contentType ?? '');
      const name = (metadata.name as string | undefined) ?? q.get('name') ?? '';
      const fields = { contentType: mediaType, ...metadata, ...hashHeader(req) };
      return {
        status: 200,
        body: this.finish(bucket, name, media, fields, preconditions(q), base).meta,
      };
    }
    if (type === 'resumable') {
      const metadata = json(body);
      const name = (metadata.name as string | undefined) ?? q.get('name') ?? '';
      const uploadType = header(req, 'x-upload-content-type');
      const id = randomUUID();
      this.sessions.set(id, {
        bucket,
        name,
        metadata: { ...(uploadType ? { contentType: uploadType } : {}), ...metadata },
        preconditions: preconditions(q),
        chunks: [],
        received: 0,
      });
      const location = `${base}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&upload_id=${id}`;
      return { status: 200, headers: { location }, body: {} };
    }
    throw new HttpError(400, `Unsupported uploadType: ${type ?? '(none)'}`);
  }

  private resumable(
    method: string,
    id: string,
    req: http.IncomingMessage,
    body: Buffer,
    base: string,
  ): Reply {
    const session = this.sessions.get(id);
    if (!session) throw new HttpError(404, 'No such upload session.', 'notFound');
    if (method === 'DELETE') {
      this.sessions.delete(id);
      return { status: 499 };
    }
    if (session.result) return { status: 200, body: session.result };
    const range = parseContentRange(header(req, 'content-range')) ?? {
      first: session.received,
      open: true,
    };
    appendChunk(session, range, body);
    const complete = range.open || (range.total !== undefined && session.received >= range.total);
    if (!complete) {
      const headers: Record<string, string> =
        session.received > 0 ? { range: `bytes=0-${session.received - 1}` } : {};
      return { status: 308, headers };
    }
    const data = Buffer.concat(session.chunks);
    session.chunks = [data];
    const object = this.finish(
      session.bucket,
      session.name,
      data,
      { ...session.metadata, ...hashHeader(req) },
      session.preconditions,
      base,
    );
    session.result = object.meta;
    return { status: 200, body: object.meta };
  }

  /** Stores a finished upload and sends its notifications (and the delete of what it replaced). */
  private finish(
    bucket: string,
    name: string,
    data: Buffer,
    fields: Record<string, unknown>,
    pre: Preconditions,
    base: string,
  ): StoredObject {
    const clean = Object.fromEntries(
      Object.entries(fields).filter(
        ([k]) =>
          (WRITABLE_FIELDS as readonly string[]).includes(k) || k === 'crc32c' || k === 'md5Hash',
      ),
    );
    const { object, replaced } = this.store.putObject(bucket, name, data, clean, pre, base);
    const record = this.store.bucket(bucket);
    if (replaced)
      notify(record, 'OBJECT_DELETE', replaced.meta, this.publish, {
        overwrittenByGeneration: object.meta.generation,
      });
    notify(
      record,
      'OBJECT_FINALIZE',
      object.meta,
      this.publish,
      replaced ? { overwroteGeneration: replaced.meta.generation } : {},
    );
    return object;
  }

  private copy(
    srcBucket: string,
    src: string,
    dstBucket: string,
    dst: string,
    rewrite: boolean,
    q: Query,
    body: Record<string, unknown>,
    base: string,
  ): Reply {
    const source = this.store.getObject(srcBucket, src, sourcePreconditions(q));
    const fields = { ...pick(source.meta), ...body };
    const object = this.finish(dstBucket, dst, source.data, fields, preconditions(q), base);
    if (!rewrite) return { status: 200, body: object.meta };
    const size = String(object.data.length);
    return {
      status: 200,
      body: {
        kind: 'storage#rewriteResponse',
        totalBytesRewritten: size,
        objectSize: size,
        done: true,
        resource: object.meta,
      },
    };
  }

  private compose(
    bucket: string,
    name: string,
    q: Query,
    body: Record<string, unknown>,
    base: string,
  ): Reply {
    const sources = body.sourceObjects as Array<{ name: string; generation?: string }> | undefined;
    if (!Array.isArray(sources) || sources.length === 0 || sources.length > 32)
      throw new HttpError(400, 'Compose needs 1 to 32 source objects.');
    const parts = sources.map(
      (s) =>
        this.store.getObject(
          bucket,
          s.name,
          s.generation ? { ifGenerationMatch: String(s.generation) } : {},
        ).data,
    );
    const object = this.finish(
      bucket,
      name,
      Buffer.concat(parts),
      (body.destination as Record<string, unknown>) ?? {},
      preconditions(q),
      base,
    );
    return { status: 200, body: object.meta };
  }

  private notifications(
    method: string,
    bucketName: string,
    id: string | undefined,
    body: Buffer,
  ): Reply {
    const bucket = this.store.bucket(bucketName);
    if (!id && method === 'POST') {
      const config = createNotificationConfig(bucket, json(body), String(this.nextNotification++));
      bucket.notifications.set(config.id, config);
      this.store.onChange?.(bucketName);
      return { status: 200, body: config };
    }
    if (!id && method === 'GET')
      return {
        status: 200,
        body: { kind: 'storage#notifications', items: [...bucket.notifications.values()] },
      };
    const config = id ? bucket.notifications.get(id) : undefined;
    if (!config)
      throw new HttpError(
        404,
        'The specified notification configuration does not exist.',
        'notFound',
      );
    if (method === 'GET') return { status: 200, body: config };
    if (method === 'DELETE') {
      bucket.notifications.delete(config.id);
      this.store.onChange?.(bucketName);
      return { status: 204 };
    }
    throw new HttpError(405, `Method ${method} not allowed`);
  }
}
