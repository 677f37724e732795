/**
 * The Firestore emulator: google.firestore.v1.Firestore over gRPC, served from the protos that ship
 * with @google-cloud/firestore. Documents, batch gets, commits with preconditions and transforms,
 * queries and aggregations, transactions (begun explicitly or lazily by a first read), batch writes,
 * collection and document listing, Listen (snapshot listeners). The Write stream is not served.
 */
import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import {
  bindServer,
  clientProtoDirs,
  fail,
  loadService,
  serverStream,
  Status,
  unary,
  endWithError,
  type Timestamp,
  RpcError,
} from '../grpc.js';
import { paginate } from '../names.js';
import { ListenHub, type ListenCall } from './listen.js';
import { aggregate, runQuery, type Aggregation, type StructuredQuery } from './query.js';
import { checkDocumentName, DocumentStore, splitName, type Doc } from './store.js';
import { TransactionManager, type Transaction } from './transactions.js';
import { getField, parseFieldPath, setField, type Value } from './values.js';
import { applyStaged, stageWrites, writeTarget, type Write, type WriteResult } from './writes.js';

interface TransactionOptions {
  readOnly?: { readTime?: Timestamp | null } | null;
  readWrite?: { retryTransaction?: Buffer } | null;
}

interface ReadSelector {
  transaction?: Buffer;
  newTransaction?: TransactionOptions | null;
  readTime?: Timestamp | null;
}

interface Mask {
  fieldPaths: string[];
}

/** What `--data` persistence stores. */
export interface FirestoreDump {
  documents: Doc[];
}

/** A journal record: one commit's documents, each written (the document) or deleted (null). */
export interface FirestoreRecord {
  writes: Array<[string, Doc | null]>;
}

const EXPIRY_SWEEP_MS = 1000;

export class FirestoreEmulator {
  readonly store = new DocumentStore();
  private readonly txns = new TransactionManager();
  private readonly listeners = new ListenHub(this.store);
  private readonly server = new grpc.Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  private sweepTimer?: NodeJS.Timeout;
  /** Set by `--data` persistence: records a commit before it is acknowledged. */
  journal?: (record: FirestoreRecord) => void;

  constructor() {
    const service = loadService(
      clientProtoDirs('@google-cloud/firestore'),
      'google/firestore/v1/firestore.proto',
      'google.firestore.v1.Firestore',
    );
    this.server.addService(service, this.handlers());
  }

  async start(port: number, host = 'localhost'): Promise<number> {
    const bound = await bindServer(this.server, host, port);
    this.sweepTimer = setInterval(() => this.txns.expireIdle(Date.now()), EXPIRY_SWEEP_MS);
    this.sweepTimer.unref();
    return bound;
  }

  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    this.server.forceShutdown();
  }

  dump(): FirestoreDump {
    return { documents: this.store.all() };
  }

  restore(dump: FirestoreDump): void {
    for (const doc of dump.documents) this.store.put(doc);
  }

  replay(dump: FirestoreDump | undefined, records: FirestoreRecord[]): FirestoreDump {
    const documents = new Map((dump?.documents ?? []).map((doc) => [doc.name, doc]));
    for (const { writes } of records)
      for (const [name, doc] of writes) {
        if (doc) documents.set(name, doc);
        else documents.delete(name);
      }
    return { documents: [...documents.values()] };
  }

  /** Resolves the transaction a read runs in: an existing one, a new one, or none. */
  private selectTransaction(selector: ReadSelector): { txn?: Transaction; started?: Buffer } {
    if (selector.transaction && selector.transaction.length > 0)
      return { txn: this.txns.get(selector.transaction) };
    if (selector.newTransaction) {
      const txn = this.txns.begin(Boolean(selector.newTransaction.readOnly));
      return { txn, started: Buffer.from(txn.id, 'base64') };
    }
    return {};
  }

  /** Reads documents, locking them first inside a read-write transaction. */
  private async read(names: string[], txn?: Transaction): Promise<Array<Doc | undefined>> {
    if (txn && !txn.readOnly) await this.txns.lock(txn.id, names, txn.locks);
    return names.map((name) => {
      const doc = this.store.get(name);
      if (txn) this.txns.recordRead(txn, name, doc);
      return doc;
    });
  }

  private async query(parent: string, query: StructuredQuery, txn?: Transaction): Promise<Doc[]> {
    const first = runQuery(this.store, parent, query);
    if (!txn || txn.readOnly) return first;
    await this.read(
      first.map((d) => d.name),
      txn,
    );
    const docs = runQuery(this.store, parent, query);
    await this.read(
      docs.map((d) => d.name),
      txn,
    );
    return docs;
  }

  private async commit(
    writes: Write[],
    txn?: Transaction,
  ): Promise<{ writeResults: WriteResult[]; commitTime: Timestamp }> {
    if (txn?.readOnly && writes.length > 0)
      fail(Status.INVALID_ARGUMENT, 'Cannot modify entities in a read-only transaction.');
    const names = writes.map(writeTarget);
    names.forEach(checkDocumentName);
    const owner = txn ? txn.id : this.txns.anonymousOwner();
    const held = txn ? txn.locks : new Set<string>();
    try {
      await this.txns.lock(owner, names, held);
      if (txn) this.txns.validate(txn, (name) => this.store.get(name));
      const commitTime = this.store.now();
      const { results, staged } = stageWrites(this.store, writes, commitTime);
      this.journal?.({ writes: [...staged] });
      applyStaged(this.store, staged);
      this.listeners.changed();
      return { writeResults: results, commitTime };
    } finally {
      if (txn) this.txns.end(txn);
      else this.txns.release(owner, held);
    }
  }

  private handlers(): grpc.UntypedServiceImplementation {
    return {
      getDocument: unary(async (req: { name: string; mask: Mask | null } & ReadSelector) => {
        checkDocumentName(req.name);
        const { txn } = this.selectTransaction(req);
        const [doc] = await this.read([req.name], txn);
        if (!doc) fail(Status.NOT_FOUND, `Document "${req.name}" not found.`);
        return masked(doc, req.mask);
      }),
      listDocuments: unary(
        async (
          req: {
            parent: string;
            collectionId: string;
            pageSize: number;
            pageToken: string;
            mask: Mask | null;
            showMissing: boolean;
          } & ReadSelector,
        ) => {
          splitName(req.parent);
          const collection = `${req.parent}/${req.collectionId}`;
          const { txn } = this.selectTransaction(req);
          const existing = [...this.store.scan(req.parent, req.collectionId, false)].map(
            (d) => d.name,
          );
          const names = [
            ...new Set([
              ...existing,
              ...(req.showMissing ? this.store.missingParents(collection) : []),
            ]),
          ].sort();
          const { page, nextPageToken } = paginate(names, req.pageSize, req.pageToken);
          const docs = await this.read(page, txn);
          const documents = page.map((name, i) =>
            docs[i] ? masked(docs[i]!, req.mask) : { name },
          );
          return { documents, nextPageToken };
        },
      ),
      createDocument: unary(
        async (req: {
          parent: string;
          collectionId: string;
          documentId: string;
          document: { fields: Record<string, Value> };
          mask: Mask | null;
        }) => {
          const name = `${req.parent}/${req.collectionId}/${req.documentId || autoId()}`;
          await this.commit([
            {
              update: { name, fields: req.document?.fields ?? {} },
              currentDocument: { exists: false },
            },
          ]);
          return masked(this.store.get(name)!, req.mask);
        },
      ),
      updateDocument: unary(
        async (req: {
          document: { name: string; fields: Record<string, Value> };
          updateMask: Mask | null;
          mask: Mask | null;
          currentDocument: Write['currentDocument'];
        }) => {
          await this.commit([
            {
              update: req.document,
              updateMask: req.updateMask,
              currentDocument: req.currentDocument,
            },
          ]);
          return masked(this.store.get(req.document.name)!, req.mask);
        },
      ),
      deleteDocument: unary(
        async (req: { name: string; currentDocument: Write['currentDocument'] }) => {
          await this.commit([{ delete: req.name, currentDocument: req.currentDocument }]);
          return {};
        },
      ),
      batchGetDocuments: serverStream(
        async function* (
          this: FirestoreEmulator,
          req: { database: string; documents: string[]; mask: Mask | null } & ReadSelector,
        ) {
          req.documents.forEach(checkDocumentName);
          const { txn, started } = this.selectTransaction(req);
          const docs = await this.read(req.documents, txn);
          const readTime = this.store.now();
          if (docs.length === 0 && started) yield { transaction: started, readTime };
          for (let i = 0; i < docs.length; i++) {
            const doc = docs[i];
            const result = doc ? { found: masked(doc, req.mask) } : { missing: req.documents[i] };
            yield { ...result, readTime, ...(i === 0 && started ? { transaction: started } : {}) };
          }
        }.bind(this),
      ),
      beginTransaction: unary((req: { database: string; options: TransactionOptions | null }) => {
        const txn = this.txns.begin(Boolean(req.options?.readOnly));
        return { transaction: Buffer.from(txn.id, 'base64') };
      }),
      commit: unary((req: { database: string; writes: Write[]; transaction: Buffer }) => {
        const txn = req.transaction?.length ? this.txns.get(req.transaction) : undefined;
        return this.commit(req.writes ?? [], txn);
      }),
      rollback: unary((req: { database: string; transaction: Buffer }) => {
        if (!req.transaction?.length) fail(Status.INVALID_ARGUMENT, 'Missing transaction.');
        this.txns.end(this.txns.get(req.transaction));
        return {};
      }),
      runQuery: serverStream(
        async function* (
          this: FirestoreEmulator,
          req: { parent: string; structuredQuery: StructuredQuery | null } & ReadSelector,
        ) {
          if (!req.structuredQuery)
            fail(Status.INVALID_ARGUMENT, 'A structured query is required.');
          const { txn, started } = this.selectTransaction(req);
          const docs = await this.query(req.parent, req.structuredQuery, txn);
          const readTime = this.store.now();
          const first = started ? { transaction: started } : {};
          if (docs.length === 0) yield { readTime, ...first };
          for (let i = 0; i < docs.length; i++)
            yield { document: docs[i], readTime, ...(i === 0 ? first : {}) };
        }.bind(this),
      ),
      runAggregationQuery: serverStream(
        async function* (
          this: FirestoreEmulator,
          req: {
            parent: string;
            structuredAggregationQuery: {
              structuredQuery: StructuredQuery;
              aggregations: Aggregation[];
            } | null;
          } & ReadSelector,
        ) {
          const q = req.structuredAggregationQuery;
          if (!q?.structuredQuery)
            fail(Status.INVALID_ARGUMENT, 'A structured aggregation query is required.');
          const { txn, started } = this.selectTransaction(req);
          const docs = await this.query(req.parent, q.structuredQuery, txn);
          yield {
            result: { aggregateFields: aggregate(docs, q.aggregations ?? []) },
            readTime: this.store.now(),
            ...(started ? { transaction: started } : {}),
          };
        }.bind(this),
      ),
      partitionQuery: unary(() => ({ partitions: [], nextPageToken: '' })),
      listCollectionIds: unary((req: { parent: string; pageSize: number; pageToken: string }) => {
        splitName(req.parent);
        const { page, nextPageToken } = paginate(
          this.store.collectionIds(req.parent),
          req.pageSize,
          req.pageToken,
        );
        return { collectionIds: page, nextPageToken };
      }),
      batchWrite: unary(async (req: { database: string; writes: Write[] }) => {
        const writeResults: Array<WriteResult | Record<string, never>> = [];
        const status: Array<{ code: number; message: string }> = [];
        for (const write of req.writes ?? []) {
          try {
            const {
              writeResults: [result],
            } = await this.commit([write]);
            writeResults.push(result);
            status.push({ code: Status.OK, message: '' });
          } catch (err) {
            if (!(err instanceof RpcError)) throw err;
            writeResults.push({});
            status.push({ code: err.code, message: err.message });
          }
        }
        return { writeResults, status };
      }),
      write: (call: grpc.ServerDuplexStream<unknown, unknown>) =>
        endWithError(
          call,
          new RpcError(Status.UNIMPLEMENTED, 'Write streams are not supported by this emulator.'),
        ),
      listen: (call: ListenCall) => this.listeners.serve(call),
      executePipeline: (call: grpc.ServerWritableStream<unknown, unknown>) =>
        endWithError(
          call,
          new RpcError(Status.UNIMPLEMENTED, 'Pipelines are not supported by this emulator.'),
        ),
    };
  }
}

function masked(doc: Doc, mask: Mask | null | undefined): Doc {
  if (!mask) return doc;
  const fields: Record<string, Value> = {};
  for (const fieldPath of mask.fieldPaths ?? []) {
    const path = parseFieldPath(fieldPath);
    const value = getField(doc.fields, path);
    if (value !== undefined) setField(fields, path, value);
  }
  return { ...doc, fields };
}

function autoId(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(20)].map((b) => chars[b % chars.length]).join('');
}
