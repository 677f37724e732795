/**
 * Firestore documents in memory, indexed by collection (`.../documents/a/x/b` -> its documents),
 * with a commit clock that never repeats a timestamp, and equality indexes on top-level fields
 * (built on a collection's first equality query, kept up to date by every write) so that a query
 * on `field == v` or `field in [...]` looks its candidates up instead of scanning the collection.
 */
import { fail, Status, type Timestamp } from '../grpc.js';
import { compareReferences, kindOf, type Value } from './values.js';

export interface Doc {
  name: string;
  fields: Record<string, Value>;
  createTime: Timestamp;
  updateTime: Timestamp;
}

export function versionKey(t: Timestamp): string {
  return `${String(t.seconds).padStart(12, '0')}.${String(t.nanos).padStart(9, '0')}`;
}

/** `projects/p/databases/d/documents` and the path after it, checked. */
export function splitName(name: string): { root: string; segments: string[] } {
  const match = /^(projects\/[^/]+\/databases\/[^/]+\/documents)(?:\/(.*))?$/.exec(name ?? '');
  if (!match) fail(Status.INVALID_ARGUMENT, `Invalid resource name: ${name}`);
  const segments = match[2] ? match[2].split('/') : [];
  if (segments.some((s) => s === ''))
    fail(Status.INVALID_ARGUMENT, `Invalid resource name: ${name}`);
  return { root: match[1], segments };
}

/** Checks that `name` names a document (an even number of path segments). */
export function checkDocumentName(name: string): void {
  const { segments } = splitName(name);
  if (segments.length === 0 || segments.length % 2 !== 0)
    fail(Status.INVALID_ARGUMENT, `Document name "${name}" has odd number of segments.`);
  if (segments.some((s) => s === '.' || s === '..' || /^__.*__$/.test(s)))
    fail(Status.INVALID_ARGUMENT, `Invalid document name "${name}".`);
}

export function parentOf(name: string): string {
  return name.slice(0, name.lastIndexOf('/'));
}

/** Value key -> names of the documents whose field has a value with that key. */
type EqualityIndex = Map<string, Set<string>>;

/**
 * A key that every value equal to `v` (values.ts valuesEqual) shares: integers and doubles by
 * numeric value (int64s beyond 2^53 may share a key, which only widens the candidates); undefined
 * for kinds that are not indexed (timestamps, bytes, geo points, arrays, maps).
 */
export function equalityKey(v: Value): string | undefined {
  switch (kindOf(v)) {
    case 'integerValue':
      return `n:${Number(v.integerValue)}`;
    case 'doubleValue':
      return `n:${Number(v.doubleValue)}`;
    case 'stringValue':
      return `s:${v.stringValue}`;
    case 'booleanValue':
      return `b:${String(v.booleanValue)}`;
    case 'nullValue':
      return 'z';
    case 'referenceValue':
      return `r:${v.referenceValue}`;
    default:
      return undefined;
  }
}

function indexAdd(index: EqualityIndex, field: string, doc: Doc): void {
  const v = doc.fields[field];
  const key = v === undefined ? undefined : equalityKey(v);
  if (key === undefined) return;
  let names = index.get(key);
  if (!names) index.set(key, (names = new Set()));
  names.add(doc.name);
}

function indexRemove(index: EqualityIndex, field: string, doc: Doc | undefined): void {
  const v = doc?.fields[field];
  const key = v === undefined ? undefined : equalityKey(v);
  if (key === undefined) return;
  const names = index.get(key);
  names?.delete(doc!.name);
  if (names?.size === 0) index.delete(key);
}

export class DocumentStore {
  /** Collection path -> document name -> document. */
  readonly collections = new Map<string, Map<string, Doc>>();
  /** Collection path -> top-level field -> its equality index. */
  private readonly indexes = new Map<string, Map<string, EqualityIndex>>();
  private lastMicros = 0;

  /** A fresh commit/read time, strictly after every earlier one. */
  now(): Timestamp {
    this.lastMicros = Math.max(this.lastMicros + 1, Date.now() * 1000);
    return {
      seconds: String(Math.floor(this.lastMicros / 1e6)),
      nanos: (this.lastMicros % 1e6) * 1000,
    };
  }

  get(name: string): Doc | undefined {
    return this.collections.get(parentOf(name))?.get(name);
  }

  put(doc: Doc): void {
    const parent = parentOf(doc.name);
    let collection = this.collections.get(parent);
    if (!collection) {
      collection = new Map();
      this.collections.set(parent, collection);
    }
    const previous = collection.get(doc.name);
    for (const [field, index] of this.indexes.get(parent) ?? []) {
      indexRemove(index, field, previous);
      indexAdd(index, field, doc);
    }
    collection.set(doc.name, doc);
  }

  delete(name: string): void {
    const parent = parentOf(name);
    const collection = this.collections.get(parent);
    if (!collection) return;
    const previous = collection.get(name);
    for (const [field, index] of this.indexes.get(parent) ?? [])
      indexRemove(index, field, previous);
    collection.delete(name);
    if (collection.size === 0) {
      this.collections.delete(parent);
      this.indexes.delete(parent);
    }
  }

  /**
   * Documents of collection `collection` whose top-level `field` may equal one of `values` (every
   * one that does, perhaps more: the caller still applies its filter), or undefined when a value
   * is of a kind that is not indexed.
   */
  lookup(collection: string, field: string, values: Value[]): Doc[] | undefined {
    const keys = values.map(equalityKey);
    if (keys.some((k) => k === undefined)) return undefined;
    const docs = this.collections.get(collection);
    if (!docs) return [];
    let fields = this.indexes.get(collection);
    if (!fields) this.indexes.set(collection, (fields = new Map()));
    let index = fields.get(field);
    if (!index) {
      fields.set(field, (index = new Map()));
      for (const doc of docs.values()) indexAdd(index, field, doc);
    }
    const names = new Set<string>();
    for (const key of keys) for (const name of index.get(key as string) ?? []) names.add(name);
    return [...names].map((name) => docs.get(name) as Doc);
  }

  /** Documents of the collection `collectionId` directly under `parent`, or anywhere below it. */
  *scan(parent: string, collectionId: string, allDescendants: boolean): Iterable<Doc> {
    if (!allDescendants) {
      yield* this.collections.get(`${parent}/${collectionId}`)?.values() ?? [];
      return;
    }
    // An empty collection id is a kindless query: every document below `parent`.
    for (const [path, docs] of this.collections) {
      if (!path.startsWith(`${parent}/`)) continue;
      if (collectionId === '' || path.slice(path.lastIndexOf('/') + 1) === collectionId)
        yield* docs.values();
    }
  }

  /** Ids of the collections directly under `parent` (a document name or the database root). */
  collectionIds(parent: string): string[] {
    const ids = new Set<string>();
    for (const path of this.collections.keys()) {
      if (!path.startsWith(`${parent}/`)) continue;
      const rest = path.slice(parent.length + 1).split('/');
      ids.add(rest[0]);
    }
    return [...ids].sort();
  }

  /** Names of documents that do not exist but have subcollections, directly in a collection. */
  missingParents(collection: string): string[] {
    const names = new Set<string>();
    for (const path of this.collections.keys()) {
      if (!path.startsWith(`${collection}/`)) continue;
      const id = path.slice(collection.length + 1).split('/')[0];
      const name = `${collection}/${id}`;
      if (!this.get(name)) names.add(name);
    }
    return [...names].sort(compareReferences);
  }

  all(): Doc[] {
    return [...this.collections.values()].flatMap((c) => [...c.values()]);
  }
}
