/**
 * Optional on-disk persistence (`--data DIR`). Every change an emulator acknowledges is first
 * appended to its journal (`DIR/<part>.journal`, one JSON line per change, written with a
 * synchronous write before the reply, so it survives a SIGKILL of the process; with `fsync` also
 * flushed to the disk, so it survives the machine). The journal is compacted into a snapshot
 * (`DIR/<part>.json`) when it grows or ages, and on stop; a start loads the snapshot and replays
 * the journal records after it. Large byte arrays (object data, big messages) go to their own
 * files under DIR/blobs, written once per buffer, shared by journal and snapshot.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface Persistent {
  dump(): unknown;
  restore(state: never): void;
  /** Folds journal records, in order, into a saved state (undefined: none saved yet). */
  replay(state: never, records: never[]): unknown;
  /** Set by the Persister: appends a change to the journal; call it before acknowledging. */
  journal?(record: unknown): void;
  /** Set by the Persister: a snapshot now, for rare changes the journal does not describe. */
  checkpoint?(): void;
}

export interface PersistOptions {
  /** fsync every journal record and snapshot (survives a machine crash, not only a SIGKILL). */
  fsync?: boolean;
}

const BLOB_BYTES = 64 * 1024;
/** How often the journals are checked for compaction. */
const CHECK_INTERVAL_MS = 5000;
/** A journal is compacted into its snapshot once it holds this many bytes ... */
const COMPACT_BYTES = 32 * 1024 * 1024;
/** ... or its oldest record is this old. */
const COMPACT_AGE_MS = 60_000;

/** A snapshot file: the state and the sequence number of the last journal record it includes. */
interface SnapshotFile {
  journalSeq: number;
  state: unknown;
}

interface Journal {
  fd: number;
  /** Sequence number of the last record written. */
  seq: number;
  bytes: number;
  /** When the oldest record not yet compacted was written (0: none). */
  since: number;
}

export class Persister {
  private readonly blobFiles = new WeakMap<Buffer, string>();
  private timer?: NodeJS.Timeout;
  private readonly journals = new Map<string, Journal>();
  /** Blob files each part's last snapshot refers to. */
  private readonly partBlobs = new Map<string, Set<string>>();
  private readonly blobDir: string;

  constructor(
    private readonly dir: string,
    private readonly parts: Record<string, Persistent>,
    private readonly options: PersistOptions = {},
  ) {
    this.blobDir = join(dir, 'blobs');
    mkdirSync(this.blobDir, { recursive: true });
  }

  /** Restores every part from its snapshot and journal, then compacts and opens the journals. */
  load(): void {
    for (const [name, part] of Object.entries(this.parts)) {
      const file = join(this.dir, `${name}.json`);
      let seq = 0;
      let state: unknown;
      if (existsSync(file)) {
        const saved = JSON.parse(readFileSync(file, 'utf8'), (_key, value: unknown) =>
          this.revive(value),
        ) as SnapshotFile | Record<string, unknown>;
        // Snapshots written before the journal existed are the bare state.
        const wrapped = typeof saved.journalSeq === 'number' && 'state' in saved;
        seq = wrapped ? (saved as SnapshotFile).journalSeq : 0;
        state = wrapped ? (saved as SnapshotFile).state : saved;
      }
      const { records, last } = this.readJournal(name, seq);
      if (records.length > 0) state = part.replay(state as never, records as never[]);
      if (state !== undefined) part.restore(state as never);
      const fd = openSync(this.journalFile(name), 'a');
      this.journals.set(name, { fd, seq: Math.max(seq, last), bytes: 0, since: 0 });
      part.journal = (record) => this.append(name, record);
      part.checkpoint = () => this.compact(name);
    }
    // A fresh journal per start: a record torn by the kill is cut off with the old ones.
    for (const name of Object.keys(this.parts)) this.compact(name);
    this.blobGarbage();
  }

  start(): void {
    this.timer = setInterval(() => {
      try {
        this.save(false);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(
          `${JSON.stringify({ severity: 'ERROR', message: `emulator state not saved: ${message}`, dir: this.dir })}\n`,
        );
      }
    }, CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.save(true);
    for (const journal of this.journals.values()) closeSync(journal.fd);
    this.journals.clear();
    for (const part of Object.values(this.parts)) {
      delete part.journal;
      delete part.checkpoint;
    }
  }

  /** Compacts the journals that are big or old enough (all non-empty ones with `all`). */
  save(all: boolean): void {
    const now = Date.now();
    for (const [name, journal] of this.journals) {
      if (journal.bytes === 0) continue;
      if (all || journal.bytes >= COMPACT_BYTES || now - journal.since >= COMPACT_AGE_MS)
        this.compact(name);
    }
    this.blobGarbage();
  }

  private journalFile(name: string): string {
    return join(this.dir, `${name}.journal`);
  }

  /** The records after `seq`, in order; a last line torn by a kill is no record. */
  private readJournal(name: string, seq: number): { records: unknown[]; last: number } {
    const file = this.journalFile(name);
    if (!existsSync(file)) return { records: [], last: seq };
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.pop(); // empty after the last newline, or a torn record
    const records: unknown[] = [];
    let last = seq;
    for (const line of lines) {
      const entry = JSON.parse(line) as { s: number; r: unknown };
      if (entry.s <= seq) continue;
      records.push(this.reviveDeep(entry.r));
      last = entry.s;
    }
    return { records, last };
  }

  private append(name: string, record: unknown): void {
    const journal = this.journals.get(name)!;
    const line = `${JSON.stringify({ s: ++journal.seq, r: this.encode(record) })}\n`;
    writeSync(journal.fd, line);
    if (this.options.fsync) fsyncSync(journal.fd);
    if (journal.bytes === 0) journal.since = Date.now();
    journal.bytes += line.length;
  }

  /** Writes a part's snapshot (atomically, by rename) and empties its journal. */
  private compact(name: string): void {
    const journal = this.journals.get(name)!;
    const used = new Set<string>();
    const snapshot: SnapshotFile = {
      journalSeq: journal.seq,
      state: this.encode(this.parts[name].dump(), used),
    };
    const file = join(this.dir, `${name}.json`);
    writeFileSync(`${file}.tmp`, JSON.stringify(snapshot));
    if (this.options.fsync) {
      const fd = openSync(`${file}.tmp`, 'r');
      fsyncSync(fd);
      closeSync(fd);
    }
    // A kill between the rename and the truncation replays nothing twice: records carry their seq.
    renameSync(`${file}.tmp`, file);
    ftruncateSync(journal.fd, 0);
    journal.bytes = 0;
    journal.since = 0;
    this.partBlobs.set(name, used);
  }

  /** Removes blob files no snapshot refers to (every journal is empty after a full save). */
  private blobGarbage(): void {
    if ([...this.journals.values()].some((j) => j.bytes > 0)) return;
    const used = new Set([...this.partBlobs.values()].flatMap((blobs) => [...blobs]));
    for (const file of readdirSync(this.blobDir))
      if (!used.has(file)) rmSync(join(this.blobDir, file), { force: true });
  }

  /** Replaces Buffers with {$bytes} (small) or {$blob} (a file) markers, recursively. */
  private encode(value: unknown, used?: Set<string>): unknown {
    if (Buffer.isBuffer(value)) {
      if (value.length < BLOB_BYTES) return { $bytes: value.toString('base64') };
      let file = this.blobFiles.get(value);
      if (!file || !existsSync(join(this.blobDir, file))) {
        file = randomUUID();
        writeFileSync(join(this.blobDir, file), value);
        if (this.options.fsync) {
          const fd = openSync(join(this.blobDir, file), 'r');
          fsyncSync(fd);
          closeSync(fd);
        }
        this.blobFiles.set(value, file);
      }
      used?.add(file);
      return { $blob: file };
    }
    if (Array.isArray(value)) return value.map((v) => this.encode(v, used));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.encode(v, used)]));
    }
    return value;
  }

  private reviveDeep(value: unknown): unknown {
    const revived = this.revive(value);
    if (revived !== value) return revived;
    if (Array.isArray(value)) return value.map((v) => this.reviveDeep(v));
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.reviveDeep(v)]));
    return value;
  }

  private revive(value: unknown): unknown {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const marker = value as { $bytes?: string; $blob?: string };
      if (typeof marker.$bytes === 'string') return Buffer.from(marker.$bytes, 'base64');
      if (typeof marker.$blob === 'string') {
        const data = readFileSync(join(this.blobDir, marker.$blob));
        this.blobFiles.set(data, marker.$blob);
        return data;
      }
    }
    return value;
  }
}
