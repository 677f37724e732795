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
import { open, readFile } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
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
  const head = Buffer.alloc(AVRO_MAGIC.length);
  let read;
  try {
    ({ bytesRead: read } = await handle.read(head, 0, head.length, 0));
  } finally {
    await handle.close();
  }
  if (read === 0)
    throw new SyntaxError(
      `${path}: empty file (0 bytes): neither an Avro container file nor a Pub/Sub message dump`,
    );
  if (AVRO_MAGIC.subarray(0, read).equals(head.subarray(0, read)))
    yield* containerAlerts(await readFile(path), path);
  else yield* readMessageDump(path);
}

/** The header of an Avro object container file (Avro 1.11 specification, "Object Container Files"). */
const CONTAINER_HEADER = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const LONG = avro.Type.forSchema('long');
const SYNC_BYTES = 16;

/**
 * The records of an Avro object container file, block by block. Unlike a streaming decoder,
 * which stops quietly where the bytes stop, a file cut short or corrupted is an error naming
 * the byte offset: an alert file either holds all its alerts or says where it breaks.
 */
export function* containerAlerts(bytes: Buffer, path: string): Generator<Alert> {
  const header = CONTAINER_HEADER.decode(bytes, 0) as {
    value: { meta: Record<string, Buffer>; sync: Buffer };
    offset: number;
  };
  if (header.offset < 0)
    throw new SyntaxError(
      `${path}: truncated at byte ${bytes.length}: the Avro container header is incomplete`,
    );
  const { meta, sync } = header.value;
  const codec = meta['avro.codec']?.toString() ?? 'null';
  if (codec !== 'null' && codec !== 'deflate')
    throw new SyntaxError(`${path}: Avro codec '${codec}' is not supported (null or deflate)`);
  if (!meta['avro.schema'])
    throw new SyntaxError(`${path}: the Avro container header has no avro.schema`);
  const type = avro.Type.forSchema(JSON.parse(meta['avro.schema'].toString()) as avro.Schema);
  let pos = header.offset;
  for (let block = 0; pos < bytes.length; block++) {
    const start = pos;
    const count = LONG.decode(bytes, pos);
    const size = count.offset < 0 ? count : LONG.decode(bytes, count.offset);
    const end = size.offset + (size.value as number);
    if (size.offset < 0 || end + SYNC_BYTES > bytes.length) {
      const need = size.offset < 0 ? '' : ` needs bytes up to ${end + SYNC_BYTES}`;
      throw new SyntaxError(
        `${path}: truncated at byte ${bytes.length}: block ${block} (from byte ${start})${need}; ${block} complete block(s) before it`,
      );
    }
    if (!bytes.subarray(end, end + SYNC_BYTES).equals(sync))
      throw new SyntaxError(
        `${path}: corrupt at byte ${end}: block ${block}'s sync marker differs from the header's`,
      );
    const body = bytes.subarray(size.offset, end);
    const data = codec === 'deflate' ? inflateRawSync(body) : body;
    let p = 0;
    for (let i = 0; i < (count.value as number); i++) {
      const record = type.decode(data, p);
      if (record.offset < 0)
        throw new SyntaxError(
          `${path}: corrupt at byte ${start}: block ${block} ends inside record ${i}`,
        );
      p = record.offset;
      yield record.value as Alert;
    }
    pos = end + SYNC_BYTES;
  }
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
