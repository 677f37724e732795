/**
 * `ap filter --in FILE --where EXPR [--watchlist NAME=CSV ...] [--watchmap NAME=MOC ...]`: prints
 * the diaSourceId of each alert of an Avro container file or Pub/Sub dump that the filter
 * expression matches, one a line. `ap filter --explain EXPR` prints the parsed form instead.
 * The language is shared/filter/README.md's.
 */
import { access, readFile } from 'node:fs/promises';
import { readAlertFile } from '../../shared/alerts/container.js';
import {
  compileFilter,
  FilterError,
  type FilterContext,
  type SkyRegion,
} from '../../shared/filter/index.js';
import { parseMoc } from '../../shared/filter/moc.js';
import { parseWatchlistCsv } from '../../shared/filter/watchlist.js';
import { defineCommand, InputError } from '../command.js';

async function loadRegions(
  specs: string[] | undefined,
  option: string,
  parseText: (text: string) => SkyRegion,
): Promise<Map<string, SkyRegion>> {
  const regions = new Map<string, SkyRegion>();
  for (const spec of specs ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1)
      throw new InputError(`--${option} takes NAME=FILE, got '${spec}'`);
    const [name, file] = [spec.slice(0, eq), spec.slice(eq + 1)];
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new InputError(`${file}: no such file`);
    }
    try {
      regions.set(name, parseText(text));
    } catch (err) {
      throw new InputError(`${file}: ${(err as Error).message}`);
    }
  }
  return regions;
}

function compile(text: string, context: FilterContext) {
  try {
    return compileFilter(text, context);
  } catch (err) {
    if (err instanceof FilterError) throw new InputError(`filter expression ${err.message}`);
    throw err;
  }
}

export const command = defineCommand({
  name: 'filter',
  summary: 'print the diaSourceId of each alert a filter expression matches',
  help: `usage: ap filter --in FILE --where EXPR [--watchlist NAME=CSV ...] [--watchmap NAME=MOC ...]
       ap filter --explain EXPR [--watchlist NAME=CSV ...] [--watchmap NAME=MOC ...]

  --in FILE              alerts: an Avro container file (alerts.avro) or a Pub/Sub message dump
  --where EXPR           a filter, e.g. "diaSource.snr > 10 AND diaSource.band IN ('g', 'r')"
  --watchlist NAME=CSV   a watchlist for watchlist('NAME'): CSV with header ra, dec, radius, name
                         (degrees, degrees, arcsec)
  --watchmap NAME=MOC    a watchmap for watchmap('NAME'): a HEALPix MOC in the IVOA MOC 2.0
                         ASCII form ("3/3 10 4/16-18") or its JSON form
  --explain EXPR         print the parsed, fully parenthesised form and its cost, and exit

Prints one diaSourceId a line; a bad expression exits 2 with one line naming its column.
Language: fields by dotted path (diaSource.*, diaObject.*), = != <> < <= > >= + - * /, AND OR NOT,
IN (...), BETWEEN ... AND ..., IS [NOT] NULL, abs(), mag(fluxNjy), cone(ra, dec, radiusArcsec),
watchlist('name'), watchmap('name'), count(prvDiaSources), min/max/mean(prvDiaSources.field).`,
  options: {
    in: { type: 'string' },
    where: { type: 'string' },
    explain: { type: 'string' },
    watchlist: { type: 'string', multiple: true },
    watchmap: { type: 'string', multiple: true },
  },
  async run(values) {
    const context: FilterContext = {
      watchlists: await loadRegions(values.watchlist, 'watchlist', parseWatchlistCsv),
      watchmaps: await loadRegions(values.watchmap, 'watchmap', parseMoc),
    };
    if (values.explain !== undefined) {
      const filter = compile(values.explain, context);
      process.stdout.write(`${filter.explain}\ncost ${filter.cost}\n`);
      return;
    }
    if (values.where === undefined)
      throw new InputError('missing required option --where (or --explain)');
    if (values.in === undefined) throw new InputError('missing required option --in');
    const filter = compile(values.where, context);
    const file = values.in;
    try {
      await access(file);
    } catch {
      throw new InputError(`${file}: no such file`);
    }
    let count = 0;
    let matched = 0;
    try {
      for await (const alert of readAlertFile(file)) {
        count++;
        if (!filter.matches(alert)) continue;
        matched++;
        process.stdout.write(`${alert.diaSourceId}\n`);
      }
    } catch (err) {
      const message = (err as Error).message;
      throw new InputError(message.startsWith(file) ? message : `${file}: ${message}`);
    }
    process.stderr.write(
      `${JSON.stringify({ severity: 'INFO', message: 'alerts filtered', file, count, matched })}\n`,
    );
  },
});
