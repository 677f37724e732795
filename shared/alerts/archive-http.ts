/**
 * HTTP read access to the alert archive, as a plain `(req, res)` handler that functions-framework
 * (or node:http) can serve:
 *
 *     GET /v1/alerts/{diaSourceId}   the alert as published (Confluent frame, Avro body);
 *                                    sent gzip-encoded when the client accepts gzip
 *     GET /v1/schemas/{schemaId}     the schema's JSON
 *
 * 404 for an unknown id, 400 for a malformed one, 405 for other methods.
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

export function createArchiveHandler(
  store: ObjectStore,
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
    if (!/^\d{1,19}$/.test(id)) return reply(400, `'${id}' is not a numeric id\n`);
    try {
      if (kind === 'schemas') {
        const data = await store.get(schemaKey(id));
        if (!data) return reply(404, `no schema ${id}\n`);
        return reply(200, req.method === 'HEAD' ? '' : data, {
          'Content-Type': 'application/json',
          'Cache-Control': 'public, max-age=86400',
        });
      }
      const gz = await store.get(alertKey(id));
      if (!gz) return reply(404, `no alert ${id}\n`);
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
      return reply(500, `archive read failed: ${(err as Error).message}\n`);
    }
  };
}
