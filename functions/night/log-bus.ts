/**
 * The structured log lines of the functions, collected in one place: kept in order, filed to a
 * sink, and awaited by whoever needs to know that something happened (the night's clock, tests).
 */
export interface LogEntry {
  severity: string;
  message: string;
  [field: string]: unknown;
}

type Waiter = { match: (e: LogEntry) => boolean; resolve: (e: LogEntry) => void };

export class LogBus {
  readonly entries: LogEntry[] = [];
  private waiters: Waiter[] = [];
  private listeners: Array<(e: LogEntry) => void> = [];

  constructor(private readonly sink: (line: string) => void = () => {}) {}

  /** A raw line from a function's stderr; lines that are not JSON objects are kept as messages. */
  addLine(line: string): void {
    let entry: LogEntry;
    try {
      const parsed = JSON.parse(line) as unknown;
      entry =
        parsed && typeof parsed === 'object' && !Array.isArray(parsed)
          ? (parsed as LogEntry)
          : { severity: 'DEFAULT', message: line };
    } catch {
      entry = { severity: 'DEFAULT', message: line };
    }
    this.add(entry);
  }

  add(entry: LogEntry): void {
    const stamped = { time: new Date().toISOString(), ...entry };
    this.entries.push(stamped);
    this.sink(JSON.stringify(stamped));
    for (const listen of this.listeners) listen(stamped);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(stamped)) return true;
      w.resolve(stamped);
      return false;
    });
  }

  /** Calls `listen` with every entry from now on. */
  onEntry(listen: (e: LogEntry) => void): void {
    this.listeners.push(listen);
  }

  /** The first entry, past or future, that matches; rejects after `timeoutMs`. */
  waitFor(
    match: (e: LogEntry) => boolean,
    timeoutMs = 120_000,
    what = 'log entry',
  ): Promise<LogEntry> {
    const seen = this.entries.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }
}
