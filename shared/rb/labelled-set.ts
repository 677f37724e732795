/**
 * Labelled cutouts in memory and on disk. On disk a set is two files with a common prefix:
 * `<prefix>.csv` with a header and one row per cutout (`id,label,snr,kind`; label 1 real,
 * 0 bogus, empty when unlabelled) and `<prefix>.bin`, the raw cutouts (cutouts.ts cutTriplets)
 * as float32 little-endian [N, 51, 51, 4] in the CSV's row order. The same format serves the
 * training cache, retraining on another camera's labelled cutouts, and the active-learning export.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { CUTOUT_LENGTH, type CutoutSet } from './cutouts.js';

export interface LabelledSet {
  raw: CutoutSet;
  /** 1 real, 0 bogus, -1 unlabelled. */
  label: Int8Array;
  /** Signed S/N of the detection (NaN when unknown). */
  snr: Float32Array;
  /** What the detection was: truth kind, injected artifact kind, or 'other'. */
  kind: string[];
  id: string[];
}

export const SET_COLUMNS = ['id', 'label', 'snr', 'kind'] as const;

if (endianness() !== 'LE')
  throw new Error('real/bogus cutout files are little-endian; this machine is not');

export function emptySet(): LabelledSet {
  return {
    raw: { count: 0, data: new Float32Array(0) },
    label: new Int8Array(0),
    snr: new Float32Array(0),
    kind: [],
    id: [],
  };
}

/** Concatenation of sets, in order. */
export function concatSets(sets: readonly LabelledSet[]): LabelledSet {
  const count = sets.reduce((n, s) => n + s.raw.count, 0);
  const out: LabelledSet = {
    raw: { count, data: new Float32Array(count * CUTOUT_LENGTH) },
    label: new Int8Array(count),
    snr: new Float32Array(count),
    kind: [],
    id: [],
  };
  let at = 0;
  for (const s of sets) {
    out.raw.data.set(s.raw.data.subarray(0, s.raw.count * CUTOUT_LENGTH), at * CUTOUT_LENGTH);
    out.label.set(s.label, at);
    out.snr.set(s.snr, at);
    out.kind.push(...s.kind);
    out.id.push(...s.id);
    at += s.raw.count;
  }
  return out;
}

/** The rows at `indices`, in that order. */
export function subset(set: LabelledSet, indices: ArrayLike<number>): LabelledSet {
  const n = indices.length;
  const out: LabelledSet = {
    raw: { count: n, data: new Float32Array(n * CUTOUT_LENGTH) },
    label: new Int8Array(n),
    snr: new Float32Array(n),
    kind: [],
    id: [],
  };
  for (let k = 0; k < n; k++) {
    const i = indices[k];
    out.raw.data.set(
      set.raw.data.subarray(i * CUTOUT_LENGTH, (i + 1) * CUTOUT_LENGTH),
      k * CUTOUT_LENGTH,
    );
    out.label[k] = set.label[i];
    out.snr[k] = set.snr[i];
    out.kind.push(set.kind[i]);
    out.id.push(set.id[i]);
  }
  return out;
}

/** Writes `<prefix>.csv` and `<prefix>.bin`. */
export function writeSet(prefix: string, set: LabelledSet): void {
  const lines = [SET_COLUMNS.join(',')];
  for (let i = 0; i < set.raw.count; i++) {
    const label = set.label[i] < 0 ? '' : String(set.label[i]);
    lines.push(
      [
        set.id[i],
        label,
        Number.isFinite(set.snr[i]) ? set.snr[i].toFixed(3) : 'NaN',
        set.kind[i],
      ].join(','),
    );
  }
  writeFileSync(`${prefix}.csv`, `${lines.join('\n')}\n`);
  const data = set.raw.data.subarray(0, set.raw.count * CUTOUT_LENGTH);
  writeFileSync(`${prefix}.bin`, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

/**
 * Reads a set written by writeSet. `labelsCsv`, if given, is a CSV with a header naming at least
 * `id` and `label` columns whose labels (0/1) override the set's; ids it lacks stay as they were.
 */
export function readSet(prefix: string, labelsCsv?: string): LabelledSet {
  const csvPath = `${prefix}.csv`;
  const binPath = `${prefix}.bin`;
  for (const p of [csvPath, binPath]) if (!existsSync(p)) throw new Error(`${p}: no such file`);
  const rows = parseCsv(readFileSync(csvPath, 'utf8'), csvPath, ['id']);
  const bytes = readFileSync(binPath);
  if (bytes.length !== rows.length * CUTOUT_LENGTH * 4) {
    throw new Error(
      `${binPath}: ${bytes.length} bytes, expected ${rows.length} cutouts of ${CUTOUT_LENGTH * 4}`,
    );
  }
  const data = new Float32Array(rows.length * CUTOUT_LENGTH);
  new Uint8Array(data.buffer).set(bytes);
  const set: LabelledSet = {
    raw: { count: rows.length, data },
    label: Int8Array.from(rows, (r) => parseLabel(r.label ?? '', csvPath)),
    snr: Float32Array.from(rows, (r) => (r.snr === undefined ? Number.NaN : Number(r.snr))),
    kind: rows.map((r) => r.kind ?? 'other'),
    id: rows.map((r) => r.id),
  };
  if (labelsCsv) {
    const index = new Map(set.id.map((id, i) => [id, i]));
    for (const r of parseCsv(readFileSync(labelsCsv, 'utf8'), labelsCsv, ['id', 'label'])) {
      const i = index.get(r.id);
      if (i === undefined) throw new Error(`${labelsCsv}: id '${r.id}' is not in ${csvPath}`);
      set.label[i] = parseLabel(r.label, labelsCsv);
    }
  }
  return set;
}

function parseLabel(text: string, file: string): number {
  const t = text.trim().toLowerCase();
  if (t === '') return -1;
  if (t === '1' || t === 'real') return 1;
  if (t === '0' || t === 'bogus') return 0;
  throw new Error(`${file}: label '${text}' is not 0/1 (or bogus/real)`);
}

function parseCsv(text: string, file: string, required: string[]): Array<Record<string, string>> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new Error(`${file}: empty`);
  const header = lines[0].split(',').map((h) => h.trim());
  for (const name of required)
    if (!header.includes(name)) throw new Error(`${file}: no '${name}' column in the header`);
  return lines.slice(1).map((line, k) => {
    const cells = line.split(',');
    if (cells.length !== header.length)
      throw new Error(
        `${file}: line ${k + 2} has ${cells.length} cells, header has ${header.length}`,
      );
    return Object.fromEntries(header.map((h, i) => [h, cells[i].trim()]));
  });
}
