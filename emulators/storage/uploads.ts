/** Upload protocols of the GCS JSON API: multipart/related bodies and resumable sessions. */
import { HttpError, type Preconditions } from './store.js';

/** Splits a multipart/related body into its metadata JSON and media parts. */
export function parseMultipart(
  body: Buffer,
  contentType: string,
): { metadata: Record<string, unknown>; media: Buffer; mediaType?: string } {
  const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
  if (!boundary) throw new HttpError(400, 'Missing multipart boundary.');
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: Array<{ headers: string; body: Buffer }> = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) throw new HttpError(400, 'Malformed multipart body.');
    let end = part.length;
    if (part[end - 2] === 0x0d && part[end - 1] === 0x0a) end -= 2;
    parts.push({
      headers: part.subarray(0, split).toString(),
      body: part.subarray(split + 4, end),
    });
    at = next;
  }
  if (parts.length !== 2)
    throw new HttpError(400, `Multipart upload needs 2 parts, got ${parts.length}.`);
  let metadata: Record<string, unknown>;
  try {
    metadata = JSON.parse(parts[0].body.toString() || '{}') as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'Metadata part is not valid JSON.', 'parseError');
  }
  const mediaType = /content-type:\s*([^\r\n]+)/i.exec(parts[1].headers)?.[1]?.trim();
  return { metadata, media: parts[1].body, mediaType };
}

export interface ResumableSession {
  bucket: string;
  name: string;
  metadata: Record<string, unknown>;
  preconditions: Preconditions;
  chunks: Buffer[];
  received: number;
  /** The finished object resource, once complete (a repeated final PUT returns it again). */
  result?: unknown;
}

/** A parsed Content-Range of a resumable PUT: bytes first-last/total, with '*' for unknowns. */
export interface ContentRange {
  first?: number;
  last?: number;
  /** Undefined when the request streams the rest ("first-*"). */
  open: boolean;
  total?: number;
}

export function parseContentRange(header: string | undefined): ContentRange | undefined {
  if (!header) return undefined;
  const match = /^bytes (?:(\*)|(\d+)-(\d+|\*))\/(\d+|\*|undefined)$/.exec(header.trim());
  if (!match) throw new HttpError(400, `Invalid Content-Range: ${header}`);
  const total = /^\d+$/.test(match[4]) ? Number(match[4]) : undefined;
  if (match[1]) return { open: false, total };
  const first = Number(match[2]);
  const open = match[3] === '*';
  return { first, last: open ? undefined : Number(match[3]), open, total };
}

/** Appends a chunk, dropping bytes the session already has (a retried chunk). */
export function appendChunk(session: ResumableSession, range: ContentRange, body: Buffer): void {
  if (range.first === undefined) {
    if (body.length > 0) throw new HttpError(400, 'A status query must have an empty body.');
    return;
  }
  if (range.first > session.received)
    throw new HttpError(
      400,
      `Chunk starts at ${range.first} but ${session.received} bytes were received.`,
    );
  const skip = session.received - range.first;
  if (skip < body.length) {
    session.chunks.push(body.subarray(skip));
    session.received += body.length - skip;
  }
}
