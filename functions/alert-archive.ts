/**
 * alertArchive (HTTP): `GET /v1/alerts/{diaSourceId}` and `GET /v1/schemas/{schemaId}` from the
 * alert archive bucket (Rubin DMTN-183 layout).
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import { createArchiveHandler } from '../shared/alerts/archive-http.js';
import { GcsObjectStore } from '../shared/adapters/storage.js';
import { services } from './context.js';

let handler: ReturnType<typeof createArchiveHandler> | null = null;

export async function alertArchive(req: Request, res: Response): Promise<void> {
  handler ??= createArchiveHandler(new GcsObjectStore(services().buckets.alerts));
  await handler(req, res);
}
