/**
 * Listen (snapshot listeners): each stream's targets (a list of documents, or a query) are
 * evaluated when added and again after every commit; the differences go out as documentChange /
 * documentDelete / documentRemove, each round closed by a global NO_CHANGE with the read time, the
 * protocol the official clients follow (ADD, initial documents, CURRENT, NO_CHANGE).
 */
import type * as grpc from '@grpc/grpc-js';
import { RpcError, Status, type Timestamp } from '../grpc.js';
import { runQuery, type StructuredQuery } from './query.js';
import { checkDocumentName, versionKey, type Doc, type DocumentStore } from './store.js';

interface Target {
  targetId: number;
  documents?: { documents: string[] } | null;
  query?: { parent: string; structuredQuery: StructuredQuery } | null;
}

interface ListenRequest {
  database: string;
  addTarget?: Target | null;
  removeTarget?: number;
}

export type ListenCall = grpc.ServerDuplexStream<ListenRequest, unknown>;

interface Watched {
  evaluate: () => Doc[];
  /** Document name -> update time key last sent. */
  sent: Map<string, string>;
}

class ListenStream {
  private readonly targets = new Map<number, Watched>();

  constructor(
    private readonly call: ListenCall,
    private readonly store: DocumentStore,
  ) {}

  request(req: ListenRequest): void {
    if (req.addTarget) this.add(req.addTarget);
    if (req.removeTarget !== undefined && req.removeTarget !== null) {
      this.targets.delete(req.removeTarget);
      this.call.write({
        targetChange: { targetChangeType: 'REMOVE', targetIds: [req.removeTarget] },
      });
    }
  }

  private add(target: Target): void {
    const id = target.targetId;
    let evaluate: () => Doc[];
    try {
      if (target.documents) {
        const names = target.documents.documents ?? [];
        names.forEach(checkDocumentName);
        evaluate = () =>
          names.map((n) => this.store.get(n)).filter((d): d is Doc => d !== undefined);
      } else if (target.query) {
        const { parent, structuredQuery } = target.query;
        evaluate = () => runQuery(this.store, parent, structuredQuery);
      } else {
        throw new RpcError(Status.INVALID_ARGUMENT, 'A target needs documents or a query.');
      }
      evaluate();
    } catch (err) {
      const cause =
        err instanceof RpcError
          ? { code: err.code, message: err.message }
          : { code: Status.INTERNAL, message: String(err) };
      this.call.write({ targetChange: { targetChangeType: 'REMOVE', targetIds: [id], cause } });
      return;
    }
    const watched: Watched = { evaluate, sent: new Map() };
    this.targets.set(id, watched);
    this.call.write({ targetChange: { targetChangeType: 'ADD', targetIds: [id] } });
    this.diff(id, watched);
    const readTime = this.store.now();
    this.call.write({
      targetChange: {
        targetChangeType: 'CURRENT',
        targetIds: [id],
        resumeToken: resumeToken(readTime),
      },
    });
    this.call.write({ targetChange: { targetChangeType: 'NO_CHANGE', targetIds: [], readTime } });
  }

  /** Sends what changed for one target since the last round; true if anything did. */
  private diff(id: number, watched: Watched): boolean {
    const docs = watched.evaluate();
    let changed = false;
    const now = new Set<string>();
    for (const doc of docs) {
      now.add(doc.name);
      const version = versionKey(doc.updateTime);
      if (watched.sent.get(doc.name) === version) continue;
      watched.sent.set(doc.name, version);
      this.call.write({ documentChange: { document: doc, targetIds: [id], removedTargetIds: [] } });
      changed = true;
    }
    for (const name of watched.sent.keys()) {
      if (now.has(name)) continue;
      watched.sent.delete(name);
      const gone = this.store.get(name) === undefined;
      this.call.write(
        gone
          ? { documentDelete: { document: name, removedTargetIds: [id] } }
          : { documentRemove: { document: name, removedTargetIds: [id] } },
      );
      changed = true;
    }
    return changed;
  }

  /** Re-evaluates every target after a commit and closes the round if anything changed. */
  refresh(): void {
    let changed = false;
    for (const [id, watched] of this.targets) changed = this.diff(id, watched) || changed;
    if (changed)
      this.call.write({
        targetChange: { targetChangeType: 'NO_CHANGE', targetIds: [], readTime: this.store.now() },
      });
  }
}

function resumeToken(readTime: Timestamp): Buffer {
  return Buffer.from(versionKey(readTime));
}

/** All open Listen streams of one emulator. */
export class ListenHub {
  private readonly streams = new Set<ListenStream>();
  private scheduled = false;

  constructor(private readonly store: DocumentStore) {}

  serve(call: ListenCall): void {
    const stream = new ListenStream(call, this.store);
    this.streams.add(stream);
    const close = () => this.streams.delete(stream);
    call.on('data', (req: ListenRequest) => stream.request(req));
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  }

  /** Called after each commit; listeners are refreshed once per turn of the event loop. */
  changed(): void {
    if (this.scheduled || this.streams.size === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const stream of this.streams) stream.refresh();
    });
  }
}
