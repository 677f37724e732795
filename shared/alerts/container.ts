/**
 * Alert files: an Avro object container file (`alerts.avro`, the writer schema in its header,
 * readable by any Avro library with no other input), and Pub/Sub message dumps.
 *
 * A Pub/Sub message dump is JSON lines, one message a line, as the Pub/Sub REST API and
 * `gcloud pubsub subscriptions pull --format=json` show messages:
 *     {"data": "<base64 of the Confluent-framed alert>", "attributes": {"schemaId": "100", ...}}
 * (a `{"message": {...}}` wrapper, as in push deliveries, is accepted too).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import avro from 'avsc';
import { loadAlertSchema, type AlertSchema } from './schema.js';
import { decodeAlert } from './wire.js';
import type { Alert } from './types.js';

const AVRO_MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj\x01"

/** Writes alerts to an Avro object container file (deflate blocks). */
export async function writeAlertContainer(
  path: string,
  alerts: Iterable<Alert> | AsyncIterable<Alert>,
  schema: AlertSchema = loadAlertSchema(),
): Promise<void> {
  const encoder = new avro.streams.BlockEncoder(schema.type, { codec: 'deflate' });
  await pipeline(Readable.from(alerts, { objectMode: true }), encoder, createWriteStream(path));
}

/** Reads the alerts of an Avro container file or a Pub/Sub message dump, in file order. */
export async function* readAlertFile(path: string): AsyncGenerator<Alert> {
  const handle = await open(path, 'r');
  const head = Buffer.alloc(4);
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (head.equals(AVRO_MAGIC)) yield* readContainer(path);
  else yield* readMessageDump(path);
}

async function* readContainer(path: string): AsyncGenerator<Alert> {
  const decoder = avro.createFileDecoder(path);
  for await (const alert of decoder as AsyncIterable<Alert>) yield alert;
}

async function* readMessageDump(path: string): AsyncGenerator<Alert> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let data: unknown;
    try {
      const parsed = JSON.parse(line) as { data?: unknown; message?: { data?: unknown } };
      data = parsed.message?.data ?? parsed.data;
    } catch {
      throw new SyntaxError(
        `${path}:${n}: neither an Avro container file nor JSON lines of Pub/Sub messages`,
      );
    }
    if (typeof data !== 'string')
      throw new SyntaxError(`${path}:${n}: message has no base64 "data" string`);
    try {
      yield decodeAlert(Buffer.from(data, 'base64'));
    } catch (err) {
      throw new SyntaxError(`${path}:${n}: ${(err as Error).message}`);
    }
  }
}

/** An alert as JSON-friendly data: cutouts replaced by a note of their size. */
export function alertForDisplay(alert: Alert): Record<string, unknown> {
  const elide = (b: Uint8Array | null): string | null =>
    b === null ? null : `<${b.length} bytes FITS elided>`;
  return {
    ...alert,
    cutoutDifference: elide(alert.cutoutDifference),
    cutoutScience: elide(alert.cutoutScience),
    cutoutTemplate: elide(alert.cutoutTemplate),
  };
}
