/**
 * HTTP read access to the alert archive, as a plain `(req, res)` handler that functions-framework
 * (or node:http) can serve:
 *
 *     GET /v1/alerts/{diaSourceId}   the alert as published (Confluent frame, Avro body);
 *                                    sent gzip-encoded when the client accepts gzip
 *     GET /v1/schemas/{schemaId}     the schema's JSON
 *
 * 404 for an unknown id, 400 for a malformed one, 405 for other methods, 500 when the store
 * fails. Error bodies are short fixed texts (never the request's id or an internal message), and
 * every answer carries `X-Content-Type-Options: nosniff`; the cause of a 500 goes to the log.
 */
import { gunzipSync } from 'node:zlib';
import { alertKey, schemaKey, type ObjectStore } from './archive.js';

export interface ArchiveRequest {
  method?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface ArchiveResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body?: string | Buffer): unknown;
}

const ROUTE = /^\/v1\/(alerts|schemas)\/([^/?#]+?)(?:\.avro\.gz|\.json)?(?:[?#].*)?$/;

/** Where the cause of a 500 goes; default a JSON log line on stderr. */
function logError(err: unknown): void {
  process.stderr.write(
    `${JSON.stringify({ severity: 'ERROR', message: 'archive read failed', error: err instanceof Error ? err.message : String(err) })}\n`,
  );
}

export function createArchiveHandler(
  store: ObjectStore,
  onError: (err: unknown) => void = logError,
): (req: ArchiveRequest, res: ArchiveResponse) => Promise<void> {
  return async (req, res) => {
    const reply = (
      status: number,
      body: string | Buffer,
      headers: Record<string, string> = {},
    ): void => {
      res.statusCode = status;
      for (const [name, value] of Object.entries({
        'Content-Type': 'text/plain; charset=utf-8',
        'X-Content-Type-Options': 'nosniff',
        ...headers,
      }))
        res.setHeader(name, value);
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return reply(405, 'only GET\n', { Allow: 'GET, HEAD' });
    const match = ROUTE.exec(req.url ?? '');
    if (!match) return reply(404, 'use /v1/alerts/{diaSourceId} or /v1/schemas/{schemaId}\n');
    const [, kind, id] = match;
    if (!/^\d{1,19}$/.test(id)) return reply(400, 'the id is not a number of 1 to 19 digits\n');
    try {
      if (kind === 'schemas') {
        const data = await store.get(schemaKey(id));
        if (!data) return reply(404, 'no such schema\n');
        return reply(200, req.method === 'HEAD' ? '' : data, {
          'Content-Type': 'application/json',
          'Cache-Control': 'public, max-age=86400',
        });
      }
      const gz = await store.get(alertKey(id));
      if (!gz) return reply(404, 'no such alert\n');
      const accept = String(req.headers['accept-encoding'] ?? '');
      const headers = {
        'Content-Type': 'application/vnd.apache.avro+confluent',
        'Cache-Control': 'public, max-age=86400',
      };
      if (/\bgzip\b/.test(accept))
        return reply(200, req.method === 'HEAD' ? '' : gz, {
          ...headers,
          'Content-Encoding': 'gzip',
        });
      return reply(200, req.method === 'HEAD' ? '' : gunzipSync(gz), headers);
    } catch (err) {
      onError(err);
      return reply(500, 'archive read failed\n');
    }
  };
}
