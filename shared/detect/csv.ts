/**
 * The DIASource table `ap detect` writes (see docs/contracts.md): CSV with a header row, one source
 * a line. Empty cells are NaN (unmeasured, e.g. reliability before scoring); booleans are
 * `true`/`false`; `flags` is the '|'-joined names of the set DiaSourceFlags (empty when none),
 * e.g. `saturated|saturatedCenter`.
 */
import { decodeSourceId, sourceId } from '../apdb/ids.js';
import type { DiaSourceFlags, DiaSourceRecord } from './types.js';

export const FLAG_NAMES: ReadonlyArray<keyof DiaSourceFlags> = [
  'edge',
  'saturated',
  'saturatedCenter',
  'interpolated',
  'interpolatedCenter',
  'cr',
  'crCenter',
  'bad',
  'suspectCenter',
  'measurementFailed',
];

const NUMBER_COLUMNS = [
  'x',
  'y',
  'xErr',
  'yErr',
  'ra',
  'dec',
  'raErr',
  'decErr',
  'psfFlux',
  'psfFluxErr',
  'snr',
  'apFlux',
  'apFluxErr',
  'scienceFlux',
  'scienceFluxErr',
  'templateFlux',
  'templateFluxErr',
  'ixx',
  'iyy',
  'ixy',
  'footprintArea',
  'bboxSize',
  'psfNdata',
  'dipoleMeanFlux',
  'dipoleFluxDiff',
  'dipoleSep',
  'dipoleAngle',
  'reliability',
] as const satisfies ReadonlyArray<keyof DiaSourceRecord>;

/** Column order of the table. */
export const DIASOURCE_CSV_COLUMNS = [
  'diaSourceId',
  ...NUMBER_COLUMNS.slice(0, 11),
  'isDipole',
  'isNegative',
  ...NUMBER_COLUMNS.slice(11),
  'flags',
] as const;

/** The project's DIASource id (shared/apdb/ids.ts: visit * 2^28 + detector * 2^20 + index); throws RangeError on overflow. */
export function diaSourceId(visit: number, detector: number, index: number): number {
  return sourceId(visit, detector, index);
}

/** Flags as '|'-joined names. */
export function formatFlags(flags: DiaSourceFlags): string {
  return FLAG_NAMES.filter((name) => flags[name]).join('|');
}

export function parseFlags(text: string): DiaSourceFlags {
  const set = new Set(text.split('|').filter((s) => s !== ''));
  for (const name of set)
    if (!FLAG_NAMES.includes(name as keyof DiaSourceFlags))
      throw new Error(`unknown DIASource flag '${name}'`);
  return Object.fromEntries(
    FLAG_NAMES.map((name) => [name, set.has(name)]),
  ) as unknown as DiaSourceFlags;
}

function cell(value: number): string {
  return Number.isFinite(value) ? String(value) : '';
}

/** The CSV text for `sources` of one (visit, detector). */
export function formatDiaSourceCsv(
  sources: readonly DiaSourceRecord[],
  visit = 0,
  detector = 0,
): string {
  const lines = [DIASOURCE_CSV_COLUMNS.join(',')];
  for (const s of sources) {
    const row = DIASOURCE_CSV_COLUMNS.map((column) => {
      switch (column) {
        case 'diaSourceId':
          return String(diaSourceId(visit, detector, s.index));
        case 'isDipole':
        case 'isNegative':
          return String(s[column]);
        case 'flags':
          return formatFlags(s.flags);
        default:
          return cell(s[column]);
      }
    });
    lines.push(row.join(','));
  }
  return `${lines.join('\n')}\n`;
}

export interface ParsedDiaSource extends DiaSourceRecord {
  diaSourceId: number;
}

/** Parses a table written by `formatDiaSourceCsv` (extra columns are ignored; required ones must be present). */
export function parseDiaSourceCsv(text: string): ParsedDiaSource[] {
  const [head, ...rows] = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (head === undefined) throw new Error('DIASource CSV is empty');
  const columns = head.split(',').map((c) => c.trim());
  for (const c of DIASOURCE_CSV_COLUMNS)
    if (!columns.includes(c)) throw new Error(`DIASource CSV lacks column '${c}'`);
  return rows.map((line, i) => {
    const cells = line.split(',');
    const get = (name: string): string => cells[columns.indexOf(name)] ?? '';
    const id = Number(get('diaSourceId'));
    if (!Number.isSafeInteger(id) || id < 0)
      throw new Error(`DIASource CSV line ${i + 2}: bad diaSourceId '${get('diaSourceId')}'`);
    const record = {
      diaSourceId: id,
      index: decodeSourceId(id).index,
      isDipole: get('isDipole') === 'true',
      isNegative: get('isNegative') === 'true',
      flags: parseFlags(get('flags')),
    } as ParsedDiaSource;
    for (const c of NUMBER_COLUMNS) {
      const v = get(c);
      const n = v === '' ? Number.NaN : Number(v);
      if (v !== '' && !Number.isFinite(n))
        throw new Error(`DIASource CSV line ${i + 2}: bad ${c} '${v}'`);
      record[c] = n;
    }
    return record;
  });
}
