/**
 * The benchmark record (bench/records/<area>.jsonl, one JSON line per run, appended): the figures
 * of a run with the commit they were measured on, the machine and its load, so that the next
 * regression shows as a change against the last recorded run (`npm run bench -- AREA compare`)
 * and the figures cited in docs/ are regenerated from a run, not carried over.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';

/** Figures by name (`pair.stage.wallS` ...): numbers only, so that two runs compare name by name. */
export type Figures = Record<string, number>;

export interface BenchRecord {
  area: string;
  date: string;
  /** `git rev-parse --short HEAD`, with `+dirty` when the tree had uncommitted changes. */
  commit: string;
  machine: { cores: number; cpu: string; loadAverage: number };
  figures: Figures;
}

const RECORDS = join(import.meta.dirname, 'records');

export function recordFile(area: string): string {
  return join(RECORDS, `${area}.jsonl`);
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: import.meta.dirname, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

function commit(): string {
  const head = git(['rev-parse', '--short', 'HEAD']) || 'unknown';
  return git(['status', '--porcelain', '--untracked-files=no']) ? `${head}+dirty` : head;
}

/** The last recorded run of `area`, or null. */
export function lastRecord(area: string): BenchRecord | null {
  const file = recordFile(area);
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  return lines.length ? (JSON.parse(lines[lines.length - 1]) as BenchRecord) : null;
}

/** Appends a run's figures to bench/records/<area>.jsonl and returns the record. */
export function appendRecord(area: string, figures: Figures, loadAverage: number): BenchRecord {
  const record: BenchRecord = {
    area,
    date: new Date().toISOString(),
    commit: commit(),
    machine: {
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      loadAverage: Number(loadAverage.toFixed(2)),
    },
    figures,
  };
  mkdirSync(dirname(recordFile(area)), { recursive: true });
  appendFileSync(recordFile(area), `${JSON.stringify(record)}\n`);
  return record;
}

/** The load average now (1 minute), to be recorded with a run. */
export function loadNow(): number {
  return loadavg()[0];
}

/** Lines comparing `now` with `before` figure by figure: values and ratio now / before. */
export function comparison(before: BenchRecord, now: BenchRecord): string[] {
  const names = [...new Set([...Object.keys(before.figures), ...Object.keys(now.figures)])];
  const width = Math.max(...names.map((n) => n.length));
  const lines = [
    `change against ${before.commit} (${before.date}, load ${before.machine.loadAverage}) -> ${now.commit} (load ${now.machine.loadAverage}):`,
  ];
  for (const name of names) {
    const a = before.figures[name];
    const b = now.figures[name];
    const ratio = a !== undefined && b !== undefined && a !== 0 ? `x${(b / a).toFixed(2)}` : '';
    const show = (v: number | undefined) => (v === undefined ? '-' : String(v)).padStart(9);
    lines.push(`  ${name.padEnd(width)} ${show(a)} -> ${show(b)}  ${ratio}`);
  }
  return lines;
}

/** Records a run and prints its figures, and with `compare` their change against the last run. */
export function recordRun(area: string, figures: Figures, loadAverage: number, compare: boolean) {
  const before = lastRecord(area);
  const now = appendRecord(area, figures, loadAverage);
  process.stdout.write(`  recorded in bench/records/${area}.jsonl at ${now.commit}\n`);
  if (!compare) return;
  if (!before) {
    process.stdout.write(`  no earlier run of ${area} recorded: nothing to compare\n`);
    return;
  }
  process.stdout.write(`${comparison(before, now).join('\n')}\n`);
}
