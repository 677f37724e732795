/**
 * The filter language's rules one by one: three-valued logic, precedence, errors naming the
 * column at creation time, the size, depth and cost limits, and the explained form.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../shared/alerts/types.js';
import { compileFilter, FilterError, MAX_DEPTH } from '../../shared/filter/index.js';
import { runScene } from '../alerts/scene.js';

const { visits } = await runScene(3, undefined, false);
const base = visits[2].alerts.find((a) => (a.prvDiaSources?.length ?? 0) >= 2) as Alert;

function alertWith(source: Partial<Alert['diaSource']>, rest: Partial<Alert> = {}): Alert {
  return { ...base, ...rest, diaSource: { ...base.diaSource, ...source } };
}

const evaluate = (text: string, alert: Alert = base) => compileFilter(text).evaluate(alert);

function rejects(text: string, column: number, pattern: RegExp): void {
  assert.throws(
    () => compileFilter(text),
    (err: unknown) => {
      assert.ok(err instanceof FilterError, `FilterError for ${text}`);
      assert.equal(err.position + 1, column, `${text}: ${err.message}`);
      assert.match(err.message, new RegExp(`^at column ${column}: `));
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('three-valued logic: comparisons with null are unknown, AND/OR/NOT follow Kleene', () => {
  const noReliability = alertWith({ reliability: null, snr: 12 });
  assert.equal(evaluate('diaSource.reliability > 0.5', noReliability), null);
  assert.equal(evaluate('NOT (diaSource.reliability > 0.5)', noReliability), null);
  assert.equal(
    evaluate('diaSource.reliability > 0.5 AND diaSource.snr > 100', noReliability),
    false,
  );
  assert.equal(evaluate('diaSource.reliability > 0.5 AND diaSource.snr > 10', noReliability), null);
  assert.equal(evaluate('diaSource.reliability > 0.5 OR diaSource.snr > 10', noReliability), true);
  assert.equal(evaluate('diaSource.reliability > 0.5 OR diaSource.snr > 100', noReliability), null);
  assert.equal(evaluate('diaSource.reliability = NULL', noReliability), null, 'use IS NULL');
  assert.equal(evaluate('diaSource.reliability IS NULL', noReliability), true);
  assert.equal(evaluate("diaSource.band IN ('g', NULL)", alertWith({ band: 'r' })), null);
  assert.equal(evaluate("diaSource.band IN ('r', NULL)", alertWith({ band: 'r' })), true);
  assert.equal(evaluate("diaSource.band NOT IN ('g', 'i')", alertWith({ band: null })), null);
  assert.equal(evaluate('diaSource.snr BETWEEN 1 AND NULL', alertWith({ snr: 0 })), false);
  assert.equal(compileFilter('diaSource.reliability > 0.5').matches(noReliability), false);
  assert.equal(evaluate('diaSource.snr / 0 IS NULL'), true, 'division by zero is null');
  assert.equal(
    evaluate('mag(diaSource.psfFlux) IS NULL', alertWith({ psfFlux: -5 })),
    true,
    'no magnitude of a negative flux',
  );
  assert.equal(
    evaluate('diaSource.snr IS NULL', alertWith({ snr: NaN })),
    true,
    'NaN reads as null',
  );
});

test('values: AB magnitudes of nJy, history aggregates, cones and precedence', () => {
  const alert = alertWith({ psfFlux: 3631e9 / 100, snr: -7, ra: 10, dec: 20 });
  assert.equal(
    evaluate('abs(mag(diaSource.psfFlux) - 5) < 1e-12', alert),
    true,
    '1/100 of 3631 Jy is AB 5',
  );
  assert.equal(evaluate('abs(diaSource.snr) = 7 AND -diaSource.snr = 7', alert), true);
  assert.equal(
    evaluate('1 + 2 * 3 = 7 AND (1 + 2) * 3 = 9 AND 8 / 4 / 2 = 1 AND 5 - 3 - 1 = 1'),
    true,
  );
  assert.equal(evaluate('TRUE OR TRUE AND FALSE'), true, 'AND binds tighter than OR');
  assert.equal(evaluate('NOT FALSE AND FALSE'), false, 'NOT binds tighter than AND');
  assert.equal(evaluate('cone(10, 20.001, 3.7)', alert), true, '3.6 arcsec away');
  assert.equal(evaluate('cone(10, 20.001, 3.5)', alert), false);
  const snrs = (base.prvDiaSources ?? []).map((p) => p.snr as number);
  const n = snrs.length;
  assert.equal(evaluate(`count(prvDiaSources) = ${n}`), true);
  assert.equal(
    evaluate(
      `max(prvDiaSources.snr) = ${Math.max(...snrs)} AND min(prvDiaSources.snr) = ${Math.min(...snrs)}`,
    ),
    true,
  );
  assert.equal(
    compileFilter('mean(prvDiaSources.snr) > 0').evaluate(alertWith({}, { prvDiaSources: [] })),
    null,
    'mean over nothing is null',
  );
  assert.equal(evaluate('count(prvDiaSources) = 0', alertWith({}, { prvDiaSources: null })), true);
  assert.equal(evaluate('diaObject IS NULL', alertWith({}, { diaObject: null })), true);
  assert.equal(evaluate('diaObject.nDiaSources > 0', alertWith({}, { diaObject: null })), null);
  assert.equal(evaluate("diaSource.band = 'it''s'", alertWith({ band: "it's" })), true);
  assert.equal(
    evaluate(
      'diaSource.isDipole = false and not diaSource.isDipole',
      alertWith({ isDipole: false }),
    ),
    true,
    'keywords in any case',
  );
});

test('errors at creation name the column: unknown fields, types, syntax', () => {
  rejects('diaSource.snr > 5 AND diaSource.snrr > 1', 23, /unknown field "diaSource\.snrr"/);
  rejects("diaSource.snr > 'high'", 17, /compares a number with a string/);
  rejects('diaSource.band + 1 > 2', 1, /'\+' needs a number, found a string/);
  rejects('diaSource.isDipole < TRUE', 20, /does not order booleans/);
  rejects('diaSource.snr AND TRUE', 1, /AND needs a boolean, found a number/);
  rejects('diaSource.snr + 1', 1, /a filter must be true or false/);
  rejects('prvDiaSources.snr > 1', 1, /is a list: use count\(\), min\(\), max\(\) or mean\(\)/);
  rejects('diaSource > 1', 1, /is a record/);
  rejects("cutoutScience = 'x'", 1, /holds bytes/);
  rejects('mean(diaSource.snr) > 1', 6, /numeric history field/);
  rejects("count('x') > 1", 7, /takes a history field/);
  rejects('abs(1, 2) > 1', 1, /takes 1 argument, found 2/);
  rejects('sqrt(4) = 2', 1, /unknown function "sqrt"/);
  rejects("watchlist('snia')", 11, /unknown watchlist "snia"/);
  rejects('cone(diaSource.ra, 2, 3)', 6, /takes a number here/);
  rejects('cone(10, 95, 3)', 10, /declination 95 is outside/);
  rejects('diaSource.snr > 5 diaSource.snr', 19, /unexpected "diaSource"/);
  rejects('diaSource.snr >', 16, /found end of expression/);
  rejects('(diaSource.snr > 5', 19, /expected '\)' to close the '\(' at column 1/);
  rejects('1 < 2 < 3', 7, /do not chain/);
  rejects('diaSource.snr > 5;', 18, /unexpected character ";"/);
  rejects('diaSource.band = "g"', 18, /strings take single quotes/);
  rejects("diaSource.band = 'g", 18, /unterminated string/);
  rejects('diaSource.snr > 1e999', 17, /out of range/);
  rejects('diaSource.snr > 12abc', 17, /malformed number/);
  rejects('__proto__.polluted = 1', 1, /unknown field "__proto__"/);
  rejects('diaSource.constructor = 1', 1, /unknown field "diaSource\.constructor"/);
  rejects('', 1, /empty expression/);
});

test('limits: 4 KB, nesting depth 64, cost', () => {
  rejects(
    `diaSource.band = '${'x'.repeat(250)}' OR ${'diaSource.snr > 1 OR '.repeat(190)}TRUE`,
    1,
    /longer than the limit of 4096/,
  );
  const nested = (depth: number) => `${'('.repeat(depth)}diaSource.snr > 1${')'.repeat(depth)}`;
  assert.equal(compileFilter(nested(MAX_DEPTH)).evaluate(alertWith({ snr: 2 })), true);
  rejects(nested(MAX_DEPTH + 1), MAX_DEPTH + 1, /nested deeper than 64/);
  rejects(`${'NOT '.repeat(100)}TRUE`, 4 * 64 + 1, /nested deeper than 64/);
  rejects(`${'-'.repeat(100)}1 > 0`, 65, /nested deeper than 64/);
  rejects(
    `${'max(prvDiaSources.snr) > 1 AND '.repeat(60)}TRUE`,
    1,
    /costs \d+ units, more than the limit of 1000/,
  );
  rejects(`diaSource.band = '${'x'.repeat(300)}'`, 18, /string longer than 256/);
});

test('--explain form: fully parenthesised, keywords canonical, re-parses to itself', () => {
  const text =
    "diaSource.snr > 10 and diaSource.reliability >= 0.8 AND diaSource.band in ('g', 'r') or not diaSource.isDipole";
  const explained = compileFilter(text).explain;
  assert.equal(
    explained,
    "((((diaSource.snr > 10) AND (diaSource.reliability >= 0.8)) AND (diaSource.band IN ('g', 'r'))) OR (NOT diaSource.isDipole))",
  );
  assert.equal(compileFilter(explained).explain, explained);
});
