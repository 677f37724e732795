/**
 * Applying a commit's writes atomically: preconditions (exists / updateTime), set, merge with an
 * update mask, delete, and field transforms (server time, increment, maximum, minimum, array union
 * and removal). Every write is checked against the staged result of the writes before it; nothing
 * reaches the store unless all succeed.
 */
import { fail, Status, type Timestamp } from '../grpc.js';
import { checkDocumentName, versionKey, type Doc, type DocumentStore } from './store.js';
import {
  cloneFields,
  cloneValue,
  compareValues,
  getField,
  isNumber,
  kindOf,
  parseFieldPath,
  setField,
  valuesEqual,
  type Value,
} from './values.js';

export interface FieldTransform {
  fieldPath: string;
  setToServerValue?: string;
  increment?: Value;
  maximum?: Value;
  minimum?: Value;
  appendMissingElements?: { values: Value[] };
  removeAllFromArray?: { values: Value[] };
}

export interface Write {
  update?: { name: string; fields: Record<string, Value> } | null;
  delete?: string;
  transform?: { document: string; fieldTransforms: FieldTransform[] } | null;
  updateMask?: { fieldPaths: string[] } | null;
  updateTransforms?: FieldTransform[];
  currentDocument?: { exists?: boolean; updateTime?: Timestamp | null } | null;
}

export interface WriteResult {
  updateTime: Timestamp;
  transformResults: Value[];
}

/** The document a write targets. */
export function writeTarget(write: Write): string {
  const name = write.update?.name ?? write.delete ?? write.transform?.document;
  if (!name) fail(Status.INVALID_ARGUMENT, 'A write must have an update, delete or transform.');
  return name;
}

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

function add(a: Value, b: Value): Value {
  if (kindOf(a) === 'integerValue' && kindOf(b) === 'integerValue') {
    const sum = BigInt(a.integerValue!) + BigInt(b.integerValue!);
    return {
      integerValue: String(sum > INT64_MAX ? INT64_MAX : sum < INT64_MIN ? INT64_MIN : sum),
    };
  }
  const x = kindOf(a) === 'integerValue' ? Number(a.integerValue) : Number(a.doubleValue);
  const y = kindOf(b) === 'integerValue' ? Number(b.integerValue) : Number(b.doubleValue);
  return { doubleValue: x + y };
}

function applyTransform(
  fields: Record<string, Value>,
  t: FieldTransform,
  commitTime: Timestamp,
): Value {
  const path = parseFieldPath(t.fieldPath);
  const current = getField(fields, path);
  let result: Value;
  if (t.setToServerValue) {
    if (t.setToServerValue !== 'REQUEST_TIME')
      fail(Status.INVALID_ARGUMENT, `Unknown server value ${t.setToServerValue}`);
    result = { timestampValue: commitTime };
  } else if (t.increment) {
    if (!isNumber(t.increment)) fail(Status.INVALID_ARGUMENT, 'increment needs a number');
    result = current && isNumber(current) ? add(current, t.increment) : cloneValue(t.increment);
  } else if (t.maximum || t.minimum) {
    const operand = (t.maximum ?? t.minimum)!;
    if (!isNumber(operand)) fail(Status.INVALID_ARGUMENT, 'maximum/minimum need a number');
    const keep =
      current &&
      isNumber(current) &&
      (t.maximum ? compareValues(current, operand) >= 0 : compareValues(current, operand) <= 0);
    result = keep ? current! : cloneValue(operand);
  } else if (t.appendMissingElements || t.removeAllFromArray) {
    const existing =
      current && kindOf(current) === 'arrayValue' ? [...(current.arrayValue!.values ?? [])] : [];
    if (t.appendMissingElements) {
      for (const v of t.appendMissingElements.values ?? [])
        if (!existing.some((e) => valuesEqual(e, v))) existing.push(cloneValue(v));
      result = { arrayValue: { values: existing } };
    } else {
      result = {
        arrayValue: {
          values: existing.filter(
            (e) => !(t.removeAllFromArray!.values ?? []).some((v) => valuesEqual(e, v)),
          ),
        },
      };
    }
  } else {
    fail(Status.INVALID_ARGUMENT, `Field transform on ${t.fieldPath} has no operation.`);
  }
  setField(fields, path, result);
  return result;
}

function checkValues(fields: Record<string, Value>): void {
  for (const [key, value] of Object.entries(fields)) {
    if (
      !value ||
      typeof value !== 'object' ||
      !Object.keys(value).some(
        (k) => k !== 'valueType' && (value as Record<string, unknown>)[k] != null,
      )
    ) {
      fail(Status.INVALID_ARGUMENT, `Invalid value for field ${key}: a value must be set.`);
    }
    if (kindOf(value) === 'mapValue') checkValues(value.mapValue!.fields ?? {});
  }
}

/** Applies `writes` at `commitTime`; returns per-write results and the documents to store. */
export function stageWrites(
  store: DocumentStore,
  writes: Write[],
  commitTime: Timestamp,
): { results: WriteResult[]; staged: Map<string, Doc | null> } {
  const staged = new Map<string, Doc | null>();
  const read = (name: string) => (staged.has(name) ? staged.get(name)! : (store.get(name) ?? null));
  const results = writes.map((write): WriteResult => {
    const name = writeTarget(write);
    checkDocumentName(name);
    const existing = read(name);
    const pre = write.currentDocument;
    if (pre?.exists === true && !existing) fail(Status.NOT_FOUND, `No document to update: ${name}`);
    if (pre?.exists === false && existing)
      fail(Status.ALREADY_EXISTS, `Document already exists: ${name}`);
    if (
      pre?.updateTime &&
      (!existing || versionKey(existing.updateTime) !== versionKey(pre.updateTime))
    ) {
      fail(
        Status.FAILED_PRECONDITION,
        `The document ${name} was modified since the given update time.`,
      );
    }
    if (write.delete) {
      staged.set(name, null);
      return { updateTime: commitTime, transformResults: [] };
    }
    let fields: Record<string, Value> = existing ? cloneFields(existing.fields) : {};
    if (write.update) {
      checkValues(write.update.fields ?? {});
      const mask = write.updateMask;
      if (mask) {
        for (const fieldPath of mask.fieldPaths ?? []) {
          const path = parseFieldPath(fieldPath);
          const value = getField(write.update.fields ?? {}, path);
          setField(fields, path, value === undefined ? undefined : cloneValue(value));
        }
      } else {
        fields = cloneFields(write.update.fields ?? {});
      }
    } else if (!existing && write.transform) {
      fail(Status.NOT_FOUND, `No document to transform: ${name}`);
    }
    const transforms = write.transform?.fieldTransforms ?? write.updateTransforms ?? [];
    const transformResults = transforms.map((t) => applyTransform(fields, t, commitTime));
    const doc: Doc = {
      name,
      fields,
      createTime: existing?.createTime ?? commitTime,
      updateTime: commitTime,
    };
    staged.set(name, doc);
    return { updateTime: commitTime, transformResults };
  });
  return { results, staged };
}

/** Stores staged documents (null = delete). */
export function applyStaged(store: DocumentStore, staged: Map<string, Doc | null>): void {
  for (const [name, doc] of staged) {
    if (doc) store.put(doc);
    else store.delete(name);
  }
}
