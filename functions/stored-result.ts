/**
 * A detector's processed result as kept in the work bucket (`results/{key}.bin`), written
 * create-only before the APDB write: the APDB rows to store and the alerts exactly as they will be
 * published. A retry after the APDB write re-sends these very alerts instead of recomputing them.
 *
 * Layout: the magic `APRESULT1`, a uint32 (little-endian) byte length, that many bytes of gzipped
 * JSON (key, batch, readoutTime and each alert's id, attributes and frame length), then the alert
 * frames back to back. The frames (~100 KB each, FITS cutouts of noisy floats) are neither base64'd
 * nor gzipped: for a 4k detector's ~1,200 alerts that took seconds and saved little.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { VisitBatch } from '../shared/apdb/types.js';
import type { ObjectStore } from '../shared/alerts/archive.js';

export interface StoredAlert {
  diaSourceId: number;
  /** Confluent-framed Avro alert. */
  frame: Buffer;
  /** Pub/Sub attributes (docs/contracts.md). */
  attributes: Record<string, string>;
}

export interface StoredResult {
  key: string;
  batch: VisitBatch;
  alerts: StoredAlert[];
  /** When the raw image was finalized in the raw bucket (readout complete), ISO time. */
  readoutTime: string;
}

interface ResultHeader extends Omit<StoredResult, 'alerts'> {
  alerts: Array<Omit<StoredAlert, 'frame'> & { length: number }>;
}

const MAGIC = Buffer.from('APRESULT1');

export function resultKey(key: string): string {
  return `results/${key}.bin`;
}

export function encodeResult(result: StoredResult): Buffer {
  const header: ResultHeader = {
    ...result,
    alerts: result.alerts.map(({ frame, ...rest }) => ({ ...rest, length: frame.length })),
  };
  const json = gzipSync(JSON.stringify(header), { level: 1 });
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  return Buffer.concat([MAGIC, length, json, ...result.alerts.map((a) => a.frame)]);
}

/** The stored result; its frames are views of `bytes`. Throws on anything encodeResult did not write. */
export function decodeResult(bytes: Buffer): StoredResult {
  const start = MAGIC.length + 4;
  if (bytes.length < start || !bytes.subarray(0, MAGIC.length).equals(MAGIC))
    throw new Error('stored result: not an APRESULT1 file');
  const end = start + bytes.readUInt32LE(MAGIC.length);
  const header = JSON.parse(
    gunzipSync(bytes.subarray(start, end)).toString('utf8'),
  ) as ResultHeader;
  let offset = end;
  const alerts = header.alerts.map(({ length, ...rest }) => {
    const frame = bytes.subarray(offset, (offset += length));
    return { ...rest, frame };
  });
  if (offset !== bytes.length)
    throw new Error(`stored result: ${bytes.length} bytes, ${offset} expected from its header`);
  return { ...header, alerts };
}

/** Stores the result unless one is stored already; returns the result that is stored. */
export async function storeResultOnce(
  store: ObjectStore,
  result: StoredResult,
): Promise<StoredResult> {
  const key = resultKey(result.key);
  if (await store.putIfAbsent(key, encodeResult(result), 'application/octet-stream')) return result;
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
