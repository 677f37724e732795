/**
 * Firestore values (google.firestore.v1.Value as decoded by proto-loader) and their ordering:
 * null < booleans < numbers < timestamps < strings < bytes < references < geo points < arrays < maps.
 * Integers and doubles are one type ordered by numeric value (1 == 1.0; NaN first), integers compared
 * exactly as int64; strings by UTF-8 bytes (code points).
 */
import type { Timestamp } from '../grpc.js';

export interface MapValue {
  fields: Record<string, Value>;
}

export interface Value {
  nullValue?: string | number;
  booleanValue?: boolean;
  integerValue?: string | number;
  doubleValue?: number;
  timestampValue?: Timestamp;
  stringValue?: string;
  bytesValue?: Buffer;
  referenceValue?: string;
  geoPointValue?: { latitude: number; longitude: number };
  arrayValue?: { values: Value[] };
  mapValue?: MapValue;
  valueType?: string;
}

export type ValueKind = Exclude<keyof Value, 'valueType'>;

const KINDS: ValueKind[] = [
  'nullValue',
  'booleanValue',
  'integerValue',
  'doubleValue',
  'timestampValue',
  'stringValue',
  'bytesValue',
  'referenceValue',
  'geoPointValue',
  'arrayValue',
  'mapValue',
];

const TYPE_ORDER: Record<ValueKind, number> = {
  nullValue: 0,
  booleanValue: 1,
  integerValue: 2,
  doubleValue: 2,
  timestampValue: 3,
  stringValue: 4,
  bytesValue: 5,
  referenceValue: 6,
  geoPointValue: 7,
  arrayValue: 8,
  mapValue: 9,
};

export function kindOf(v: Value): ValueKind {
  if (v.valueType && v.valueType in TYPE_ORDER) return v.valueType as ValueKind;
  const kind = KINDS.find((k) => v[k] !== undefined && v[k] !== null);
  return kind ?? 'nullValue';
}

export function typeOrder(v: Value): number {
  return TYPE_ORDER[kindOf(v)];
}

export const NULL: Value = { nullValue: 'NULL_VALUE' };

export function isNumber(v: Value): boolean {
  const k = kindOf(v);
  return k === 'integerValue' || k === 'doubleValue';
}

export function isNaNValue(v: Value): boolean {
  return kindOf(v) === 'doubleValue' && Number.isNaN(Number(v.doubleValue));
}

function sign(n: number | bigint): number {
  return n > 0 ? 1 : n < 0 ? -1 : 0;
}

/** Compares an int64 with a double by exact value; NaN sorts before every number. */
function compareIntDouble(i: bigint, d: number): number {
  if (Number.isNaN(d)) return 1;
  if (d === Infinity) return -1;
  if (d === -Infinity) return 1;
  const floor = Math.floor(d);
  const f = BigInt(floor);
  if (f !== i) return sign(i - f);
  return floor === d ? 0 : -1;
}

function compareNumbers(a: Value, b: Value): number {
  const ak = kindOf(a);
  const bk = kindOf(b);
  if (ak === 'integerValue' && bk === 'integerValue')
    return sign(BigInt(a.integerValue!) - BigInt(b.integerValue!));
  if (ak === 'integerValue')
    return compareIntDouble(BigInt(a.integerValue!), Number(b.doubleValue));
  if (bk === 'integerValue')
    return -compareIntDouble(BigInt(b.integerValue!), Number(a.doubleValue));
  const x = Number(a.doubleValue);
  const y = Number(b.doubleValue);
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
  if (Number.isNaN(y)) return 1;
  return sign(x - y);
}

/** Orders strings by Unicode code point, which is the order of their UTF-8 bytes. */
export function compareStrings(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return sign(a.length - b.length);
}

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return sign(Number(a.seconds) - Number(b.seconds)) || sign((a.nanos ?? 0) - (b.nanos ?? 0));
}

const NUMERIC_ID = /^__id(-?\d+)__$/;

/** Orders path segments as Firestore orders document ids: numeric `__id<n>__` ids first, by value. */
function compareSegments(a: string, b: string): number {
  const x = NUMERIC_ID.exec(a);
  const y = NUMERIC_ID.exec(b);
  if (x && y) return sign(BigInt(x[1]) - BigInt(y[1]));
  if (x || y) return x ? -1 : 1;
  return compareStrings(a, b);
}

/** Orders document names segment by segment. */
export function compareReferences(a: string, b: string): number {
  const as = a.split('/');
  const bs = b.split('/');
  for (let i = 0; i < Math.min(as.length, bs.length); i++) {
    const c = compareSegments(as[i], bs[i]);
    if (c !== 0) return c;
  }
  return sign(as.length - bs.length);
}

export function compareValues(a: Value, b: Value): number {
  const order = typeOrder(a) - typeOrder(b);
  if (order !== 0) return sign(order);
  switch (kindOf(a)) {
    case 'nullValue':
      return 0;
    case 'booleanValue':
      return sign(Number(Boolean(a.booleanValue)) - Number(Boolean(b.booleanValue)));
    case 'integerValue':
    case 'doubleValue':
      return compareNumbers(a, b);
    case 'timestampValue':
      return compareTimestamps(a.timestampValue!, b.timestampValue!);
    case 'stringValue':
      return compareStrings(a.stringValue!, b.stringValue!);
    case 'bytesValue':
      return sign(Buffer.compare(a.bytesValue!, b.bytesValue!));
    case 'referenceValue':
      return compareReferences(a.referenceValue!, b.referenceValue!);
    case 'geoPointValue':
      return (
        sign(a.geoPointValue!.latitude - b.geoPointValue!.latitude) ||
        sign(a.geoPointValue!.longitude - b.geoPointValue!.longitude)
      );
    case 'arrayValue': {
      const x = a.arrayValue!.values ?? [];
      const y = b.arrayValue!.values ?? [];
      for (let i = 0; i < Math.min(x.length, y.length); i++) {
        const c = compareValues(x[i], y[i]);
        if (c !== 0) return c;
      }
      return sign(x.length - y.length);
    }
    case 'mapValue': {
      const x = a.mapValue!.fields ?? {};
      const y = b.mapValue!.fields ?? {};
      const xk = Object.keys(x).sort(compareStrings);
      const yk = Object.keys(y).sort(compareStrings);
      for (let i = 0; i < Math.min(xk.length, yk.length); i++) {
        const c = compareStrings(xk[i], yk[i]) || compareValues(x[xk[i]], y[yk[i]]);
        if (c !== 0) return c;
      }
      return sign(xk.length - yk.length);
    }
  }
}

/** Equality as filters use it: same type class and equal value (NaN equals NaN, like the SDKs). */
export function valuesEqual(a: Value, b: Value): boolean {
  return typeOrder(a) === typeOrder(b) && compareValues(a, b) === 0;
}

/** Parses a field path (`a.b`, `` `x.y`.z ``) into segments. */
export function parseFieldPath(path: string): string[] {
  const segments: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\' && quoted && i + 1 < path.length) current += path[++i];
    else if (c === '`') quoted = !quoted;
    else if (c === '.' && !quoted) {
      segments.push(current);
      current = '';
    } else current += c;
  }
  segments.push(current);
  return segments;
}

/** The value at a field path of a document's fields, or undefined when absent. */
export function getField(fields: Record<string, Value>, path: string[]): Value | undefined {
  let value: Value | undefined = fields[path[0]];
  for (let i = 1; i < path.length; i++) {
    if (!value || kindOf(value) !== 'mapValue') return undefined;
    value = value.mapValue!.fields?.[path[i]];
  }
  return value;
}

/** Sets (or with undefined, deletes) the value at a field path, creating maps on the way. */
export function setField(
  fields: Record<string, Value>,
  path: string[],
  value: Value | undefined,
): void {
  let target = fields;
  for (let i = 0; i < path.length - 1; i++) {
    let next = target[path[i]];
    if (!next || kindOf(next) !== 'mapValue') {
      if (value === undefined) return;
      next = { mapValue: { fields: {} } };
      target[path[i]] = next;
    }
    next.mapValue!.fields ??= {};
    target = next.mapValue!.fields;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete target[last];
  else target[last] = value;
}

/** A deep copy, so stored documents never share structure with requests or responses. */
export function cloneFields(fields: Record<string, Value>): Record<string, Value> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, cloneValue(v)]));
}

export function cloneValue(v: Value): Value {
  const kind = kindOf(v);
  switch (kind) {
    case 'mapValue':
      return { mapValue: { fields: cloneFields(v.mapValue!.fields ?? {}) } };
    case 'arrayValue':
      return { arrayValue: { values: (v.arrayValue!.values ?? []).map(cloneValue) } };
    case 'bytesValue':
      return { bytesValue: Buffer.from(v.bytesValue!) };
    case 'timestampValue':
      return {
        timestampValue: { seconds: v.timestampValue!.seconds, nanos: v.timestampValue!.nanos ?? 0 },
      };
    case 'geoPointValue':
      return { geoPointValue: { ...v.geoPointValue! } };
    default:
      return { [kind]: v[kind] };
  }
}
