/**
 * The filter language against the independent evaluation of ./independent.py (python3-avro and
 * astropy, written separately by hand): every expression of ./cases.ts run by compileFilter over
 * the alerts of an Avro container file and by the Python script over the same file, with a
 * watchlist and a watchmap built around those alerts; the matched diaSourceIds must be equal.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAlertFile } from '../../shared/alerts/container.js';
import type { Alert } from '../../shared/alerts/types.js';
import { compileFilter } from '../../shared/filter/index.js';
import { parseMoc } from '../../shared/filter/moc.js';
import { parseWatchlistCsv } from '../../shared/filter/watchlist.js';
import { runPython, skipWithout } from '../helpers/python.js';
import { EXPRESSIONS, watchlistCsv, watchmapMoc } from './cases.js';

const script = readFileSync(new URL('./independent.py', import.meta.url), 'utf8');

/** The reason to skip when python3 lacks astropy or avro (false when both are there or required). */
export const skipWithoutOracle = (): string | false =>
  skipWithout('astropy') || skipWithout('avro');

export async function readAll(file: string): Promise<Alert[]> {
  const alerts: Alert[] = [];
  for await (const a of readAlertFile(file)) alerts.push(a);
  return alerts;
}

/** Both evaluations over one Avro file (scratch files in `dir`); returns the matches by expression. */
export async function crossCheck(
  dir: string,
  avroFile: string,
  regionsFrom: Alert[],
): Promise<Map<string, number[]>> {
  const csv = join(dir, 'targets.csv');
  const moc = join(dir, 'field.moc');
  writeFileSync(csv, watchlistCsv(regionsFrom));
  writeFileSync(moc, watchmapMoc(regionsFrom));
  const context = {
    watchlists: new Map([['targets', parseWatchlistCsv(readFileSync(csv, 'utf8'))]]),
    watchmaps: new Map([['field', parseMoc(readFileSync(moc, 'utf8'))]]),
  };
  const alerts = await readAll(avroFile);
  const expected = JSON.parse(runPython('astropy', script, [avroFile, csv, moc])) as Record<
    string,
    number[]
  >;
  assert.deepEqual(
    Object.keys(expected).sort(),
    [...EXPRESSIONS].sort(),
    'independent.py covers exactly the expressions of cases.ts',
  );
  const found = new Map<string, number[]>();
  for (const text of EXPRESSIONS) {
    const filter = compileFilter(text, context);
    const ids = alerts.filter((a) => filter.matches(a)).map((a) => a.diaSourceId);
    assert.deepEqual(ids, expected[text], text);
    found.set(text, ids);
  }
  return found;
}
