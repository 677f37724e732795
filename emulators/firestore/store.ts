/**
 * Firestore documents in memory, indexed by collection (`.../documents/a/x/b` -> its documents),
 * with a commit clock that never repeats a timestamp.
 */
import { fail, Status, type Timestamp } from '../grpc.js';
import { compareReferences, type Value } from './values.js';

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

export class DocumentStore {
  /** Collection path -> document name -> document. */
  readonly collections = new Map<string, Map<string, Doc>>();
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
    collection.set(doc.name, doc);
  }

  delete(name: string): void {
    const parent = parentOf(name);
    const collection = this.collections.get(parent);
    if (!collection) return;
    collection.delete(name);
    if (collection.size === 0) this.collections.delete(parent);
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
