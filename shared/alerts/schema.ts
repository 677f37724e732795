/**
 * Alert schemas: the `.avsc` files of schema/{major}/{minor}/, parsed with avsc.
 *
 * Schema ids follow Rubin's numbering, id = major * 100 + minor (1.0 -> 100). The alert record
 * refers to the other records by name, so they are parsed first into one registry.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import avro from 'avsc';
import { findUpwards } from '../util/assets.js';

/** The schema version this code writes. */
export const CURRENT_SCHEMA = { major: 1, minor: 1 } as const;

/** Records in dependency order; the last is the alert. */
const RECORDS = [
  'diaSource',
  'diaForcedSource',
  'diaObject',
  'ssSource',
  'mpc_orbits',
  'alert',
] as const;

export function schemaIdOf(major: number, minor: number): number {
  return major * 100 + minor;
}

export interface AlertSchema {
  id: number;
  major: number;
  minor: number;
  /** The parsed alert type (Avro record `lsst.v{major}_{minor}.alert`). */
  type: avro.Type;
  /** The self-contained schema as JSON text, named types inlined (what the registry serves). */
  text: string;
}

/** The repository's schema/ folder, found from this file upwards (works from source and from a build). */
function schemaRoot(): string {
  return dirname(dirname(findUpwards(import.meta.url, join('schema', '1', '0'))));
}

/** Parses an alert schema from its record files (JSON texts by record name). */
export function parseAlertSchema(
  major: number,
  minor: number,
  records: Record<string, string>,
): AlertSchema {
  const registry = {};
  let type: avro.Type | null = null;
  for (const name of RECORDS) {
    const text = records[name];
    if (text === undefined) throw new Error(`schema ${major}.${minor}: record ${name} is missing`);
    type = avro.Type.forSchema(JSON.parse(text) as avro.Schema, { registry });
  }
  const alert = type as avro.Type;
  return {
    id: schemaIdOf(major, minor),
    major,
    minor,
    type: alert,
    text: JSON.stringify(alert.schema({ exportAttrs: true })),
  };
}

const cache = new Map<number, AlertSchema>();

/** The alert schema of a version, read from schema/{major}/{minor}/. */
export function loadAlertSchema(
  major: number = CURRENT_SCHEMA.major,
  minor: number = CURRENT_SCHEMA.minor,
): AlertSchema {
  const id = schemaIdOf(major, minor);
  let schema = cache.get(id);
  if (!schema) {
    const dir = join(schemaRoot(), String(major), String(minor));
    const records: Record<string, string> = {};
    for (const name of RECORDS)
      records[name] = readFileSync(join(dir, `lsst.v${major}_${minor}.${name}.avsc`), 'utf8');
    schema = parseAlertSchema(major, minor, records);
    cache.set(id, schema);
  }
  return schema;
}

/** The schema of an id (e.g. 100 -> 1.0), or null when this repository has no such version. */
export function alertSchemaById(id: number): AlertSchema | null {
  const major = Math.floor(id / 100);
  const minor = id % 100;
  if (!Number.isInteger(id) || id < 100) return null;
  // Decoding asks for every alert: a schema already read costs no file-system lookup.
  const known = cache.get(id);
  if (known) return known;
  if (!existsSync(join(schemaRoot(), String(major), String(minor)))) return null;
  return loadAlertSchema(major, minor);
}
