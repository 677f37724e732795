/**
 * Decoding only what the filters read. A full alert decodes ~500 fields (the DIASource's 102, the
 * DIAObject's 154 and a history of DIASources and forced sources) into objects, and that, not the
 * filters, dominates the service's time. Here the union of the filters' paths (CompiledFilter.reads)
 * becomes an Avro reader schema holding only those fields, and the writer's record is resolved
 * to it (Avro schema resolution: fields the reader lacks are skipped, not built; bytes are
 * skipped by their length). Each writer schema gets its own projection, built from the writer's
 * fields, so a field an older schema lacks reads as missing (null), as with a full decode.
 */
import avro from 'avsc';
import { alertSchemaById, type AlertSchema } from '../alerts/schema.js';
import type { Alert } from '../alerts/types.js';
import { frameSchemaId } from '../alerts/wire.js';

/** Confluent wire format's header: magic byte and schema id (shared/alerts/wire.ts). */
const HEADER = 5;
const PRIMITIVE = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);

/** A frame that is not a readable alert: the message is dead-lettered with this reason. */
export class AlertDecodeError extends Error {}

type Json = string | Json[] | { [key: string]: unknown };
type RecordJson = {
  type: 'record';
  name: string;
  namespace?: string;
  fields: Array<{ name: string; type: Json }>;
};

/** The paths as a tree: each field read, and below it the fields read of it. */
type Needs = Map<string, Needs>;

function needsOf(paths: Iterable<readonly string[]>): Needs {
  const root: Needs = new Map();
  for (const path of paths) {
    let node = root;
    for (const name of path) {
      let next = node.get(name);
      if (!next) node.set(name, (next = new Map()));
      node = next;
    }
  }
  return root;
}

const unqualified = (name: string): string => name.slice(name.lastIndexOf('.') + 1);

/** Every named record of a schema by full and by short name (a name is defined once, then referenced). */
function namedRecords(schema: Json, named: Map<string, RecordJson>, namespace = ''): void {
  if (Array.isArray(schema)) {
    for (const branch of schema) namedRecords(branch, named, namespace);
  } else if (typeof schema === 'object') {
    if (schema.type === 'record') {
      const record = schema as RecordJson;
      const full = record.name.includes('.')
        ? record.name
        : [record.namespace ?? namespace, record.name].filter(Boolean).join('.');
      named.set(full, record).set(unqualified(full), record);
      const inner = full.includes('.') ? full.slice(0, full.lastIndexOf('.')) : '';
      for (const f of record.fields) namedRecords(f.type, named, inner);
    } else if (schema.type === 'array') {
      namedRecords(schema.items as Json, named, namespace);
    } else if (typeof schema.type === 'object') {
      namedRecords(schema.type as Json, named, namespace);
    }
  }
}

/**
 * The writer's type cut down to `needs`. Records are renamed into a namespace of their path
 * (`projection.prvDiaSources.diaSource`), so the same writer record read in two places can keep
 * different fields; resolution matches them by unqualified name.
 */
function project(schema: Json, needs: Needs, path: string[], named: Map<string, RecordJson>): Json {
  if (typeof schema === 'string') {
    if (PRIMITIVE.has(schema)) return schema;
    const record = named.get(schema);
    if (!record) throw new Error(`alert schema: unknown type ${schema}`);
    return project(record, needs, path, named);
  }
  if (Array.isArray(schema)) return schema.map((branch) => project(branch, needs, path, named));
  if (schema.type === 'record') {
    const record = schema as RecordJson;
    return {
      type: 'record',
      name: unqualified(record.name),
      namespace: ['projection', ...path].join('.'),
      fields: record.fields
        .filter((f) => needs.has(f.name))
        .map((f) => ({
          name: f.name,
          type: project(f.type, needs.get(f.name) as Needs, [...path, f.name], named),
        })),
    };
  }
  if (schema.type === 'array')
    return { type: 'array', items: project(schema.items as Json, needs, path, named) };
  return schema;
}

interface Reader {
  type: avro.Type;
  resolver: ReturnType<avro.Type['createResolver']>;
}

/** Decodes framed alerts into objects holding only the fields some filter reads. */
export class AlertProjection {
  private readonly needs: Needs;
  private readonly readers = new Map<number, Reader>();

  constructor(
    paths: Iterable<readonly string[]>,
    private readonly writerById: (id: number) => AlertSchema | null = alertSchemaById,
  ) {
    this.needs = needsOf(paths);
  }

  private reader(id: number): Reader {
    let reader = this.readers.get(id);
    if (!reader) {
      const writer = this.writerById(id);
      if (!writer) throw new AlertDecodeError(`unknown alert schema id ${id}`);
      const schema = JSON.parse(writer.text) as Json;
      const named = new Map<string, RecordJson>();
      namedRecords(schema, named);
      const type = avro.Type.forSchema(project(schema, this.needs, [], named) as avro.Schema);
      reader = { type, resolver: type.createResolver(writer.type, { ignoreNamespaces: true }) };
      this.readers.set(id, reader);
    }
    return reader;
  }

  /**
   * The alert of a frame with only the projected fields (the others are absent, so a getter
   * reads them as null). The whole frame is still walked, so a truncated or padded frame throws.
   */
  decode(frame: Uint8Array): Alert {
    let id: number;
    try {
      id = frameSchemaId(frame);
    } catch (err) {
      throw new AlertDecodeError((err as Error).message);
    }
    const { type, resolver } = this.reader(id);
    const body = Buffer.from(frame.buffer, frame.byteOffset + HEADER, frame.byteLength - HEADER);
    try {
      return type.fromBuffer(body, resolver) as Alert;
    } catch (err) {
      throw new AlertDecodeError((err as Error).message);
    }
  }
}
