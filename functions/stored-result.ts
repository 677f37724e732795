/**
 * A detector's processed result as kept in the work bucket (`results/{key}.json.gz`), written
 * create-only before the APDB write: the APDB rows to store and the alerts exactly as they will be
 * published. A retry after the APDB write re-sends these very alerts instead of recomputing them.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { VisitBatch } from '../shared/apdb/types.js';
import type { ObjectStore } from '../shared/alerts/archive.js';

export interface StoredAlert {
  diaSourceId: number;
  /** Confluent-framed Avro alert. */
  frame: Buffer;
  /** Pub/Sub attributes (CONTRACTS.md). */
  attributes: Record<string, string>;
}

export interface StoredResult {
  key: string;
  batch: VisitBatch;
  alerts: StoredAlert[];
  /** When the raw image was finalized in the raw bucket (readout complete), ISO time. */
  readoutTime: string;
}

export function resultKey(key: string): string {
  return `results/${key}.json.gz`;
}

export function encodeResult(result: StoredResult): Buffer {
  const json = JSON.stringify({ ...result, alerts: result.alerts.map((a) => ({ ...a, frame: a.frame.toString('base64') })) });
  return gzipSync(json);
}

export function decodeResult(bytes: Buffer): StoredResult {
  const raw = JSON.parse(gunzipSync(bytes).toString('utf8')) as Omit<StoredResult, 'alerts'> & { alerts: Array<Omit<StoredAlert, 'frame'> & { frame: string }> };
  return { ...raw, alerts: raw.alerts.map((a) => ({ ...a, frame: Buffer.from(a.frame, 'base64') })) };
}

/** Stores the result unless one is stored already; returns the result that is stored. */
export async function storeResultOnce(store: ObjectStore, result: StoredResult): Promise<StoredResult> {
  const key = resultKey(result.key);
  if (await store.putIfAbsent(key, encodeResult(result), 'application/gzip')) return result;
  const existing = await store.get(key);
  if (!existing) throw new Error(`stored result ${key} vanished`);
  return decodeResult(existing);
}

/** The hand-off message from processImage to alertFanout on topic alert-batches. */
export interface AlertBatchMessage {
  key: string;
  resultKey: string;
  alertCount: number;
  readoutTime: string;
}
