/**
 * The fields a filter may name, read from the alert's Avro schema (shared/alerts/schema.ts):
 * numbers (int, long, float, double), strings, booleans, nested records and arrays of records
 * (prvDiaSources, prvDiaForcedSources: only inside count/min/max/mean). A union with null is the
 * same type, nullable. Names are looked up in Maps, never on objects, so `__proto__` or
 * `constructor` are unknown fields like any other misspelling.
 */
import { loadAlertSchema, type AlertSchema } from '../alerts/schema.js';

export type ScalarKind = 'number' | 'string' | 'boolean';

export type FieldType =
  | { kind: ScalarKind }
  | { kind: 'record'; name: string; fields: Map<string, FieldType> }
  | { kind: 'array'; items: FieldType }
  | { kind: 'bytes' };

type AvroJson =
  | string
  | AvroJson[]
  | {
      type: AvroJson;
      name?: string;
      fields?: Array<{ name: string; type: AvroJson }>;
      items?: AvroJson;
    };

const PRIMITIVES: Record<string, FieldType> = {
  int: { kind: 'number' },
  long: { kind: 'number' },
  float: { kind: 'number' },
  double: { kind: 'number' },
  string: { kind: 'string' },
  boolean: { kind: 'boolean' },
  bytes: { kind: 'bytes' },
};

function convert(schema: AvroJson, named: Map<string, FieldType>): FieldType {
  if (typeof schema === 'string') {
    const primitive = Object.hasOwn(PRIMITIVES, schema)
      ? PRIMITIVES[schema]
      : (named.get(schema) ?? named.get(schema.split('.').pop() ?? ''));
    if (!primitive) throw new Error(`alert schema: type ${schema} is not supported by filters`);
    return primitive;
  }
  if (Array.isArray(schema)) {
    const branches = schema.filter((s) => s !== 'null');
    if (branches.length !== 1)
      throw new Error('alert schema: unions other than [null, T] are not supported by filters');
    return convert(branches[0], named);
  }
  if (schema.type === 'record') {
    const fields = new Map<string, FieldType>();
    const record: FieldType = { kind: 'record', name: schema.name ?? '', fields };
    if (schema.name) named.set(schema.name, record).set(schema.name.split('.').pop() ?? '', record);
    for (const f of schema.fields ?? []) fields.set(f.name, convert(f.type, named));
    return record;
  }
  if (schema.type === 'array')
    return { kind: 'array', items: convert(schema.items ?? 'null', named) };
  return convert(schema.type, named);
}

const cache = new WeakMap<AlertSchema, FieldType>();

/** The alert record's type tree of a schema (default: the current one). */
export function alertFields(schema: AlertSchema = loadAlertSchema()): FieldType {
  let tree = cache.get(schema);
  if (!tree) {
    tree = convert(JSON.parse(schema.text) as AvroJson, new Map());
    cache.set(schema, tree);
  }
  return tree;
}
