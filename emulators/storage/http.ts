/** HTTP plumbing of the Storage emulator: request parsing, preconditions, replies, downloads. */
import type * as http from 'node:http';
import { gunzipSync } from 'node:zlib';
import {
  HttpError,
  WRITABLE_FIELDS,
  type ObjectMetadata,
  type Preconditions,
  type StoredObject,
} from './store.js';

export type Query = URLSearchParams;
export type Reply = {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  raw?: Buffer;
};

/**
 * Object bytes, whole or a range. A gzip-encoded object is served as stored with
 * `Content-Encoding: gzip` to clients that accept gzip, and decompressed for others (GCS's
 * decompressive transcoding).
 */
export function download(
  object: StoredObject,
  range: string | undefined,
  acceptEncoding: string,
): Reply {
  if (object.meta.contentEncoding === 'gzip') {
    const stored = {
      'x-goog-stored-content-encoding': 'gzip',
      'x-goog-hash': `crc32c=${object.meta.crc32c},md5=${object.meta.md5Hash}`,
    };
    if (/\bgzip\b/.test(acceptEncoding)) {
      return {
        status: 200,
        headers: { 'content-type': object.meta.contentType, 'content-encoding': 'gzip', ...stored },
        raw: object.data,
      };
    }
    return {
      status: 200,
      headers: { 'content-type': object.meta.contentType, ...stored },
      raw: gunzipSync(object.data),
    };
  }
  const size = object.data.length;
  const headers: Record<string, string> = {
    'content-type': object.meta.contentType,
    'x-goog-generation': object.meta.generation,
    'x-goog-metageneration': object.meta.metageneration,
    'x-goog-stored-content-length': String(size),
    'x-goog-stored-content-encoding': object.meta.contentEncoding ?? 'identity',
    'x-goog-hash': `crc32c=${object.meta.crc32c},md5=${object.meta.md5Hash}`,
    'accept-ranges': 'bytes',
    etag: object.meta.etag,
    'last-modified': new Date(object.meta.updated).toUTCString(),
  };
  const match = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
  if (!range || !match || (match[1] === '' && match[2] === ''))
    return { status: 200, headers, raw: object.data };
  let first: number;
  let last: number;
  if (match[1] === '') {
    first = Math.max(0, size - Number(match[2]));
    last = size - 1;
  } else {
    first = Number(match[1]);
    last = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (first >= size || first > last) {
    if (size === 0) return { status: 200, headers, raw: object.data };
    throw new HttpError(
      416,
      'The requested range cannot be satisfied.',
      'requestedRangeNotSatisfiable',
    );
  }
  headers['content-range'] = `bytes ${first}-${last}/${size}`;
  return { status: 206, headers, raw: object.data.subarray(first, last + 1) };
}

export function send(res: http.ServerResponse, reply: Reply): void {
  const headers = { ...(reply.headers ?? {}) };
  let payload: Buffer | undefined = reply.raw;
  if (!payload && reply.body !== undefined) {
    payload = Buffer.from(JSON.stringify(reply.body));
    headers['content-type'] = 'application/json; charset=UTF-8';
  }
  headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

export function errorBody(code: number, message: string, reason: string): unknown {
  return { error: { code, message, errors: [{ message, domain: 'global', reason }] } };
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function json(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString());
    if (value && typeof value === 'object' && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // fall through to the 400 below
  }
  throw new HttpError(400, 'Parse Error: the request body is not a JSON object.', 'parseError');
}

export function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `Invalid object name encoding: ${segment}`);
  }
}

export function header(req: http.IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Hashes a client sent in `x-goog-hash`, checked against the stored bytes. */
export function hashHeader(req: http.IncomingMessage): { crc32c?: string; md5Hash?: string } {
  const value = header(req, 'x-goog-hash');
  if (!value) return {};
  const out: { crc32c?: string; md5Hash?: string } = {};
  for (const part of value.split(',')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'crc32c') out.crc32c = v.join('=');
    if (k === 'md5') out.md5Hash = v.join('=');
  }
  return out;
}

export function integerParam(q: Query, name: string): string | undefined {
  const value = q.get(name);
  if (value === null) return undefined;
  if (!/^-?\d+$/.test(value)) throw new HttpError(400, `Invalid value for ${name}: ${value}`);
  return String(BigInt(value));
}

export function preconditions(q: Query): Preconditions {
  return {
    ifGenerationMatch: integerParam(q, 'ifGenerationMatch'),
    ifGenerationNotMatch: integerParam(q, 'ifGenerationNotMatch'),
    ifMetagenerationMatch: integerParam(q, 'ifMetagenerationMatch'),
    ifMetagenerationNotMatch: integerParam(q, 'ifMetagenerationNotMatch'),
  };
}

export function sourcePreconditions(q: Query): Preconditions {
  return {
    ifGenerationMatch: integerParam(q, 'ifSourceGenerationMatch'),
    ifGenerationNotMatch: integerParam(q, 'ifSourceGenerationNotMatch'),
    ifMetagenerationMatch: integerParam(q, 'ifSourceMetagenerationMatch'),
    ifMetagenerationNotMatch: integerParam(q, 'ifSourceMetagenerationNotMatch'),
  };
}

export function pick(meta: ObjectMetadata): Record<string, unknown> {
  return Object.fromEntries(
    WRITABLE_FIELDS.filter((f) => meta[f] !== undefined).map((f) => [f, meta[f]]),
  );
}
