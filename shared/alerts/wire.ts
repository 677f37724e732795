/**
 * Confluent wire format: byte 0x00, the schema id as a big-endian uint32, then the schemaless
 * Avro body. The framing used on the `alerts` topic and in the archive, as Rubin's alert stream.
 */
import type avro from 'avsc';
import { alertSchemaById, loadAlertSchema, type AlertSchema } from './schema.js';
import type { Alert } from './types.js';

const MAGIC = 0;
const HEADER = 5;

/** Reused encoding buffer: one Avro pass straight after the header, grown when an alert does not fit. */
let scratch = Buffer.allocUnsafe(1 << 18);

/** Serialises an alert with a schema (default: the current one) and frames it. */
export function encodeAlert(alert: Alert, schema: AlertSchema = loadAlertSchema()): Buffer {
  for (;;) {
    const end = schema.type.encode(alert, scratch, HEADER);
    if (end >= 0) {
      const frame = Buffer.allocUnsafe(end);
      scratch.copy(frame, 0, 0, end);
      frame[0] = MAGIC;
      frame.writeUInt32BE(schema.id, 1);
      return frame;
    }
    scratch = Buffer.allocUnsafe(2 * (scratch.length - end));
  }
}

/** The schema id of a framed message; throws when the frame is not in Confluent wire format. */
export function frameSchemaId(frame: Uint8Array): number {
  if (frame.length < HEADER || frame[0] !== MAGIC) {
    throw new SyntaxError(
      `not a Confluent wire-format frame (first byte ${frame[0] ?? 'missing'}, length ${frame.length})`,
    );
  }
  return Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).readUInt32BE(1);
}

/**
 * Decodes a framed alert. The writer schema comes from the frame's id through `writerById`
 * (default: this repository's schema/ folder); when `reader` is given, the record is resolved
 * to the reader's schema by Avro schema resolution (added fields take their defaults). Record
 * names match unqualified, as Avro 1.10+ specifies, since each version has its own namespace.
 */
export function decodeAlert(
  frame: Uint8Array,
  reader?: avro.Type,
  writerById: (id: number) => AlertSchema | null = alertSchemaById,
): Alert {
  const id = frameSchemaId(frame);
  const writer = writerById(id);
  if (!writer) throw new RangeError(`unknown alert schema id ${id}`);
  const body = Buffer.from(frame.buffer, frame.byteOffset + HEADER, frame.byteLength - HEADER);
  if (!reader || reader === writer.type) return writer.type.fromBuffer(body) as Alert;
  return reader.fromBuffer(
    body,
    reader.createResolver(writer.type, { ignoreNamespaces: true }),
  ) as Alert;
}
