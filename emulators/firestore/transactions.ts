/**
 * Transactions with pessimistic per-document locks, as Google's Firestore emulator does: a read-write
 * transaction locks every document it reads, in FIFO order per document, until it commits or rolls
 * back, so concurrent read-modify-write transactions serialize and none loses an update. Commits take
 * the same locks for the documents they write. A wait that would close a cycle (deadlock), or lasts
 * too long, fails with ABORTED, which the client retries. As a safety net, a commit is ABORTED if any
 * document it read changed since (e.g. a transaction that expired and lost its locks).
 */
import { randomBytes } from 'node:crypto';
import { fail, RpcError, Status } from '../grpc.js';
import { versionKey, type Doc } from './store.js';

export interface Transaction {
  id: string;
  readOnly: boolean;
  /** Document name -> version read ('' = did not exist). */
  reads: Map<string, string>;
  locks: Set<string>;
  lastActive: number;
}

interface Lock {
  owner: string;
  queue: Array<{ owner: string; grant: () => void }>;
}

const LOCK_WAIT_MS = 30_000;
const IDLE_EXPIRY_MS = 60_000;
const EXPIRED = 'The referenced transaction has expired or is no longer valid.';

export class TransactionManager {
  private readonly transactions = new Map<string, Transaction>();
  private readonly locks = new Map<string, Lock>();
  /** Owner -> the document whose lock it waits for (transactions and plain commits alike). */
  private readonly waiting = new Map<string, string>();
  private nextOwner = 0;

  begin(readOnly: boolean): Transaction {
    const id = randomBytes(16).toString('base64');
    const txn: Transaction = {
      id,
      readOnly,
      reads: new Map(),
      locks: new Set(),
      lastActive: Date.now(),
    };
    this.transactions.set(id, txn);
    return txn;
  }

  /** The live transaction with this id, or INVALID_ARGUMENT "transaction has expired" (retried by clients). */
  get(id: Buffer | string): Transaction {
    const key = Buffer.isBuffer(id) ? id.toString('base64') : id;
    const txn = this.transactions.get(key);
    if (!txn) fail(Status.INVALID_ARGUMENT, EXPIRED);
    txn.lastActive = Date.now();
    return txn;
  }

  /** A one-off owner for a non-transactional commit's locks. */
  anonymousOwner(): string {
    return `commit-${this.nextOwner++}`;
  }

  /** Acquires exclusive locks on `names` (sorted, to keep a fixed order) for `owner`. */
  async lock(owner: string, names: string[], held?: Set<string>): Promise<void> {
    for (const name of [...new Set(names)].sort()) {
      if (held?.has(name)) continue;
      await this.acquire(owner, name);
      if (!owner.startsWith('commit-') && !this.transactions.has(owner)) {
        this.release(owner, [name]);
        fail(Status.ABORTED, EXPIRED);
      }
      held?.add(name);
    }
  }

  private acquire(owner: string, name: string): Promise<void> {
    const lock = this.locks.get(name);
    if (!lock) {
      this.locks.set(name, { owner, queue: [] });
      return Promise.resolve();
    }
    if (lock.owner === owner) return Promise.resolve();
    if (this.wouldDeadlock(owner, lock.owner)) {
      return Promise.reject(
        new RpcError(Status.ABORTED, `Deadlock on ${name}; retry the transaction.`),
      );
    }
    this.waiting.set(owner, name);
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        owner,
        grant: () => {
          clearTimeout(timer);
          this.waiting.delete(owner);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        lock.queue = lock.queue.filter((w) => w !== waiter);
        this.waiting.delete(owner);
        reject(
          new RpcError(
            Status.ABORTED,
            `Timed out waiting for the lock on ${name}; retry the transaction.`,
          ),
        );
      }, LOCK_WAIT_MS);
      lock.queue.push(waiter);
    });
  }

  /** True when `owner` waiting for `holder` would close a wait-for cycle. */
  private wouldDeadlock(owner: string, holder: string): boolean {
    const seen = new Set<string>();
    let current: string | undefined = holder;
    while (current && !seen.has(current)) {
      if (current === owner) return true;
      seen.add(current);
      const waiting = this.waiting.get(current);
      current = waiting ? this.locks.get(waiting)?.owner : undefined;
    }
    return false;
  }

  /** Releases `owner`'s locks, handing each to the next waiter. */
  release(owner: string, names: Iterable<string>): void {
    for (const name of names) {
      const lock = this.locks.get(name);
      if (!lock || lock.owner !== owner) continue;
      const next = lock.queue.shift();
      if (!next) {
        this.locks.delete(name);
        continue;
      }
      lock.owner = next.owner;
      next.grant();
    }
  }

  recordRead(txn: Transaction, name: string, doc: Doc | undefined): void {
    if (!txn.reads.has(name)) txn.reads.set(name, doc ? versionKey(doc.updateTime) : '');
  }

  /** ABORTED when a document the transaction read has changed since. */
  validate(txn: Transaction, current: (name: string) => Doc | undefined): void {
    for (const [name, version] of txn.reads) {
      const doc = current(name);
      if ((doc ? versionKey(doc.updateTime) : '') !== version)
        fail(Status.ABORTED, `Transaction conflict on ${name}; retry the transaction.`);
    }
  }

  end(txn: Transaction): void {
    this.transactions.delete(txn.id);
    this.release(txn.id, txn.locks);
    txn.locks.clear();
  }

  /** Ends transactions idle for too long, freeing their locks. */
  expireIdle(now: number): void {
    for (const txn of this.transactions.values())
      if (now - txn.lastActive > IDLE_EXPIRY_MS && !this.waiting.has(txn.id)) this.end(txn);
  }
}
