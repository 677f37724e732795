/**
 * Optional on-disk persistence (`--data DIR`): each emulator's state is dumped as JSON every few
 * seconds and on stop, and loaded at start. Large byte arrays (object data, big messages) go to
 * their own files under DIR/blobs, written once per buffer, so a night of images stays cheap.
 */
import { randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export interface Persistent {
  dump(): unknown;
  restore(state: never): void;
  /** Bumped on every change, so an unchanged part is not dumped again. */
  readonly revision: number;
}

const BLOB_BYTES = 64 * 1024;
const SAVE_INTERVAL_MS = 5000;

export class Persister {
  private readonly blobFiles = new WeakMap<Buffer, string>();
  private timer?: NodeJS.Timeout;
  private readonly savedRevisions = new Map<string, number>();
  /** Blob files each part's last saved state refers to. */
  private readonly partBlobs = new Map<string, Set<string>>();
  private readonly blobDir: string;

  constructor(
    private readonly dir: string,
    private readonly parts: Record<string, Persistent>,
  ) {
    this.blobDir = join(dir, 'blobs');
    mkdirSync(this.blobDir, { recursive: true });
  }

  /** Restores every part that has a saved state. */
  load(): void {
    for (const [name, part] of Object.entries(this.parts)) {
      const file = join(this.dir, `${name}.json`);
      if (!existsSync(file)) continue;
      part.restore(
        JSON.parse(readFileSync(file, 'utf8'), (_key, value: unknown) =>
          this.revive(value),
        ) as never,
      );
    }
  }

  start(): void {
    this.timer = setInterval(() => {
      try {
        this.save();
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        process.stderr.write(
          `${JSON.stringify({ severity: 'ERROR', message: `emulator state not saved: ${message}`, dir: this.dir })}\n`,
        );
      }
    }, SAVE_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.save();
  }

  save(): void {
    for (const [name, part] of Object.entries(this.parts)) {
      if (this.savedRevisions.get(name) === part.revision) continue;
      const used = new Set<string>();
      const text = JSON.stringify(this.encode(part.dump(), used));
      const file = join(this.dir, `${name}.json`);
      writeFileSync(`${file}.tmp`, text);
      renameSync(`${file}.tmp`, file);
      this.savedRevisions.set(name, part.revision);
      this.partBlobs.set(name, used);
    }
    const used = new Set([...this.partBlobs.values()].flatMap((blobs) => [...blobs]));
    for (const file of readdirSync(this.blobDir))
      if (!used.has(file)) rmSync(join(this.blobDir, file), { force: true });
  }

  /** Replaces Buffers with {$bytes} (small) or {$blob} (a file) markers, recursively. */
  private encode(value: unknown, used: Set<string>): unknown {
    if (Buffer.isBuffer(value)) {
      if (value.length < BLOB_BYTES) return { $bytes: value.toString('base64') };
      let file = this.blobFiles.get(value);
      if (!file) {
        file = randomUUID();
        writeFileSync(join(this.blobDir, file), value);
        this.blobFiles.set(value, file);
      }
      used.add(file);
      return { $blob: file };
    }
    if (Array.isArray(value)) return value.map((v) => this.encode(v, used));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.encode(v, used)]));
    }
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
