/**
 * StructuredQuery evaluation: from (collection or collection group), where (field, unary and
 * composite AND/OR filters, with the SDKs' matching rules), order by (plus the implicit orders on
 * inequality fields and __name__), cursors, offset, limit, projection; and aggregations.
 */
import { fail, Status } from '../grpc.js';
import { splitName, type Doc, type DocumentStore } from './store.js';
import {
  compareValues,
  getField,
  isNaNValue,
  isNumber,
  kindOf,
  parseFieldPath,
  typeOrder,
  valuesEqual,
  type Value,
} from './values.js';

interface FieldReference {
  fieldPath: string;
}

export interface Filter {
  compositeFilter?: { op: string; filters: Filter[] } | null;
  fieldFilter?: { field: FieldReference; op: string; value: Value } | null;
  unaryFilter?: { op: string; field: FieldReference } | null;
}

interface Order {
  field: FieldReference;
  direction: string;
}

interface Cursor {
  values: Value[];
  before: boolean;
}

export interface StructuredQuery {
  select?: { fields: FieldReference[] } | null;
  from: Array<{ collectionId: string; allDescendants: boolean }>;
  where?: Filter | null;
  orderBy: Order[];
  startAt?: Cursor | null;
  endAt?: Cursor | null;
  offset: number;
  limit?: { value: number } | null;
}

export interface Aggregation {
  alias: string;
  count?: { upTo?: { value: string | number } | null } | null;
  sum?: { field: FieldReference } | null;
  avg?: { field: FieldReference } | null;
}

const NAME = '__name__';
const INEQUALITIES = new Set([
  'LESS_THAN',
  'LESS_THAN_OR_EQUAL',
  'GREATER_THAN',
  'GREATER_THAN_OR_EQUAL',
  'NOT_EQUAL',
  'NOT_IN',
]);

/** Parsed field paths: a query evaluates the same few paths on every document. */
const parsedPaths = new Map<string, string[]>();
const MAX_PARSED_PATHS = 1000;

function fieldValue(doc: Doc, path: string): Value | undefined {
  if (path === NAME) return { referenceValue: doc.name };
  let segments = parsedPaths.get(path);
  if (!segments) {
    if (parsedPaths.size >= MAX_PARSED_PATHS) parsedPaths.clear();
    parsedPaths.set(path, (segments = parseFieldPath(path)));
  }
  return getField(doc.fields, segments);
}

function arrayValues(v: Value | undefined): Value[] | undefined {
  return v && kindOf(v) === 'arrayValue' ? (v.arrayValue!.values ?? []) : undefined;
}

function compileFilter(filter: Filter): (doc: Doc) => boolean {
  if (filter.compositeFilter) {
    const parts = (filter.compositeFilter.filters ?? []).map(compileFilter);
    const op = filter.compositeFilter.op;
    if (op === 'AND') return (d) => parts.every((p) => p(d));
    if (op === 'OR') return (d) => parts.some((p) => p(d));
    fail(Status.INVALID_ARGUMENT, `Unsupported composite filter operator ${op}`);
  }
  if (filter.unaryFilter) {
    const path = filter.unaryFilter.field?.fieldPath ?? '';
    switch (filter.unaryFilter.op) {
      case 'IS_NAN':
        return (d) => isNaNValue(fieldValue(d, path) ?? { nullValue: 0 });
      case 'IS_NULL':
        return (d) => kindOf(fieldValue(d, path) ?? { stringValue: '' }) === 'nullValue';
      case 'IS_NOT_NAN':
        return (d) => {
          const v = fieldValue(d, path);
          return v !== undefined && isNumber(v) && !isNaNValue(v);
        };
      case 'IS_NOT_NULL':
        return (d) => {
          const v = fieldValue(d, path);
          return v !== undefined && kindOf(v) !== 'nullValue';
        };
    }
    fail(Status.INVALID_ARGUMENT, `Unsupported unary filter operator ${filter.unaryFilter.op}`);
  }
  if (filter.fieldFilter) return compileFieldFilter(filter.fieldFilter);
  fail(Status.INVALID_ARGUMENT, 'Empty filter.');
}

function compileFieldFilter(f: NonNullable<Filter['fieldFilter']>): (doc: Doc) => boolean {
  const path = f.field?.fieldPath ?? '';
  const value = f.value ?? { nullValue: 0 };
  const list = arrayValues(value);
  const needList = ['IN', 'NOT_IN', 'ARRAY_CONTAINS_ANY'].includes(f.op);
  if (needList && (!list || list.length === 0))
    fail(Status.INVALID_ARGUMENT, `A non-empty array is required for '${f.op}' filters.`);
  if (needList && list!.length > 30)
    fail(
      Status.INVALID_ARGUMENT,
      `'${f.op}' filters support a maximum of 30 elements in the value array.`,
    );
  const compare = (d: Doc, test: (c: number) => boolean) => {
    const other = fieldValue(d, path);
    return (
      other !== undefined &&
      typeOrder(other) === typeOrder(value) &&
      !isNaNValue(other) &&
      !isNaNValue(value) &&
      test(compareValues(other, value))
    );
  };
  switch (f.op) {
    case 'LESS_THAN':
      return (d) => compare(d, (c) => c < 0);
    case 'LESS_THAN_OR_EQUAL':
      return (d) => compare(d, (c) => c <= 0);
    case 'GREATER_THAN':
      return (d) => compare(d, (c) => c > 0);
    case 'GREATER_THAN_OR_EQUAL':
      return (d) => compare(d, (c) => c >= 0);
    case 'EQUAL':
      return (d) => {
        const other = fieldValue(d, path);
        return other !== undefined && valuesEqual(other, value);
      };
    case 'NOT_EQUAL':
      return (d) => {
        const other = fieldValue(d, path);
        return other !== undefined && kindOf(other) !== 'nullValue' && !valuesEqual(other, value);
      };
    case 'ARRAY_CONTAINS':
      return (d) => (arrayValues(fieldValue(d, path)) ?? []).some((e) => valuesEqual(e, value));
    case 'IN':
      return (d) => {
        const other = fieldValue(d, path);
        return other !== undefined && list!.some((e) => valuesEqual(e, other));
      };
    case 'ARRAY_CONTAINS_ANY':
      return (d) =>
        (arrayValues(fieldValue(d, path)) ?? []).some((e) => list!.some((v) => valuesEqual(e, v)));
    case 'NOT_IN':
      return (d) => {
        if (list!.some((e) => kindOf(e) === 'nullValue')) return false;
        const other = fieldValue(d, path);
        return (
          other !== undefined &&
          kindOf(other) !== 'nullValue' &&
          !list!.some((e) => valuesEqual(e, other))
        );
      };
  }
  fail(Status.INVALID_ARGUMENT, `Unsupported field filter operator ${f.op}`);
}

function inequalityFields(filter: Filter | null | undefined, out: Set<string>): Set<string> {
  if (!filter) return out;
  if (filter.compositeFilter)
    for (const f of filter.compositeFilter.filters ?? []) inequalityFields(f, out);
  if (filter.fieldFilter && INEQUALITIES.has(filter.fieldFilter.op))
    out.add(filter.fieldFilter.field.fieldPath);
  if (filter.unaryFilter && filter.unaryFilter.op.startsWith('IS_NOT'))
    out.add(filter.unaryFilter.field.fieldPath);
  return out;
}

/** The full ordering: explicit orders, then inequality fields, then __name__. */
function normalizedOrder(query: StructuredQuery): Order[] {
  const orders = [...(query.orderBy ?? [])].map((o) => ({
    field: o.field,
    direction: o.direction === 'DESCENDING' ? 'DESCENDING' : 'ASCENDING',
  }));
  const seen = new Set(orders.map((o) => o.field.fieldPath));
  const lastDirection = orders.length ? orders[orders.length - 1].direction : 'ASCENDING';
  for (const path of [...inequalityFields(query.where, new Set())].sort()) {
    if (!seen.has(path)) orders.push({ field: { fieldPath: path }, direction: lastDirection });
    seen.add(path);
  }
  if (!seen.has(NAME)) orders.push({ field: { fieldPath: NAME }, direction: lastDirection });
  return orders;
}

function compareByOrder(orders: Order[], a: Doc, b: Doc): number {
  for (const o of orders) {
    const c = compareValues(fieldValue(a, o.field.fieldPath)!, fieldValue(b, o.field.fieldPath)!);
    if (c !== 0) return o.direction === 'DESCENDING' ? -c : c;
  }
  return 0;
}

/** Compares a document with a cursor over the cursor's length of the ordering. */
function compareToCursor(orders: Order[], doc: Doc, cursor: Cursor, root: string): number {
  for (let i = 0; i < cursor.values.length && i < orders.length; i++) {
    const path = orders[i].field.fieldPath;
    let bound = cursor.values[i];
    if (path === NAME && kindOf(bound) === 'stringValue')
      bound = { referenceValue: `${root}/${bound.stringValue}` };
    const c = compareValues(fieldValue(doc, path)!, bound);
    if (c !== 0) return orders[i].direction === 'DESCENDING' ? -c : c;
  }
  return 0;
}

function project(doc: Doc, select: StructuredQuery['select']): Doc {
  if (!select || !select.fields?.length) return doc;
  const fields: Record<string, Value> = {};
  for (const ref of select.fields) {
    if (ref.fieldPath === NAME) continue;
    const path = parseFieldPath(ref.fieldPath);
    const value = getField(doc.fields, path);
    if (value === undefined) continue;
    let target = fields;
    for (let i = 0; i < path.length - 1; i++) {
      target[path[i]] ??= { mapValue: { fields: {} } };
      target = target[path[i]].mapValue!.fields;
    }
    target[path[path.length - 1]] = value;
  }
  return { ...doc, fields };
}

/** A top-level field that the query requires to equal one of some values, from `field == v`, `field in [..]` or such a term of an AND. */
function equalityTerm(
  filter: Filter | null | undefined,
): { field: string; values: Value[] } | null {
  if (filter?.compositeFilter?.op === 'AND') {
    for (const part of filter.compositeFilter.filters ?? []) {
      const term = equalityTerm(part);
      if (term) return term;
    }
    return null;
  }
  const f = filter?.fieldFilter;
  const field = f?.field?.fieldPath ?? '';
  if (!f || !/^[A-Za-z_][A-Za-z_0-9]*$/.test(field) || field === NAME) return null;
  if (f.op === 'EQUAL' && f.value) return { field, values: [f.value] };
  if (f.op === 'IN') {
    const list = arrayValues(f.value);
    return list?.length ? { field, values: list } : null;
  }
  return null;
}

/** Runs a query under `parent` (the documents root or a document). */
export function runQuery(store: DocumentStore, parent: string, query: StructuredQuery): Doc[] {
  const { root } = splitName(parent);
  if (!query.from?.length) fail(Status.INVALID_ARGUMENT, 'A query needs a collection (from).');
  if (query.from.length > 1) fail(Status.INVALID_ARGUMENT, 'Only one collection can be queried.');
  const { collectionId, allDescendants } = query.from[0];
  const where = query.where ? compileFilter(query.where) : () => true;
  const orders = normalizedOrder(query);
  const term = allDescendants ? null : equalityTerm(query.where);
  const candidates = (term &&
    store.lookup(`${parent}/${collectionId}`, term.field, term.values)) ?? [
    ...store.scan(parent, collectionId, allDescendants),
  ];
  let docs = candidates.filter(
    (d) => where(d) && orders.every((o) => fieldValue(d, o.field.fieldPath) !== undefined),
  );
  docs.sort((a, b) => compareByOrder(orders, a, b));
  const start = query.startAt;
  if (start)
    docs = docs.filter((d) => {
      const c = compareToCursor(orders, d, start, root);
      return c > 0 || (c === 0 && start.before);
    });
  const end = query.endAt;
  if (end)
    docs = docs.filter((d) => {
      const c = compareToCursor(orders, d, end, root);
      return c < 0 || (c === 0 && !end.before);
    });
  if (query.offset < 0) fail(Status.INVALID_ARGUMENT, 'offset must be non-negative');
  docs = docs.slice(query.offset ?? 0);
  if (query.limit) {
    if (query.limit.value < 0) fail(Status.INVALID_ARGUMENT, 'limit must be non-negative');
    docs = docs.slice(0, query.limit.value);
  }
  return docs.map((d) => project(d, query.select));
}

/** Computes count / sum / avg aggregations over query results. */
export function aggregate(docs: Doc[], aggregations: Aggregation[]): Record<string, Value> {
  const result: Record<string, Value> = {};
  for (const a of aggregations) {
    const alias = a.alias || `field_${Object.keys(result).length + 1}`;
    if (a.count) {
      const upTo = a.count.upTo ? Number(a.count.upTo.value) : Infinity;
      result[alias] = { integerValue: String(Math.min(docs.length, upTo)) };
      continue;
    }
    const path = (a.sum ?? a.avg)?.field?.fieldPath;
    if (!path) fail(Status.INVALID_ARGUMENT, `Aggregation ${alias} has no operator.`);
    const numbers = docs
      .map((d) => fieldValue(d, path))
      .filter((v): v is Value => v !== undefined && isNumber(v));
    const allInts = numbers.every((v) => kindOf(v) === 'integerValue');
    const total = numbers.reduce((s, v) => s + Number(v.integerValue ?? v.doubleValue), 0);
    if (a.sum) {
      const exact = allInts ? numbers.reduce((s, v) => s + BigInt(v.integerValue!), 0n) : 0n;
      result[alias] =
        allInts && exact <= 2n ** 63n - 1n && exact >= -(2n ** 63n)
          ? { integerValue: String(exact) }
          : { doubleValue: total };
    } else {
      result[alias] = numbers.length
        ? { doubleValue: total / numbers.length }
        : { nullValue: 'NULL_VALUE' };
    }
  }
  return result;
}
