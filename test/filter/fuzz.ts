/**
 * Hostile filter expressions for the safety fuzz (test/filter/safety.test.ts, bench/filter.ts):
 * random token soups, deep nesting, huge literals, JavaScript and SQL injection attempts, random
 * UTF-16, and random well-formed expressions from the grammar (so that many also compile and run).
 */
import { performance } from 'node:perf_hooks';
import type { Alert } from '../../shared/alerts/types.js';
import { alertFields } from '../../shared/filter/fields.js';
import { compileFilter, FilterError, type FilterContext } from '../../shared/filter/index.js';
import { parseMoc } from '../../shared/filter/moc.js';
import { parseWatchlistCsv } from '../../shared/filter/watchlist.js';
import { runScene } from '../alerts/scene.js';
import { EXPRESSIONS, watchlistCsv, watchmapMoc } from './cases.js';

/** Mulberry32: a small seeded generator, so every run fuzzes the same expressions. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIELDS = [
  'diaSource.snr',
  'diaSource.band',
  'diaSource.reliability',
  'diaSource.isDipole',
  'diaSource.psfFlux',
  'diaObject.nDiaSources',
  'diaObject.r_psfFluxMean',
  'prvDiaSources',
  'prvDiaSources.snr',
  'prvDiaForcedSources.psfFlux',
  'diaSourceId',
  'diaObject',
  'cutoutScience',
];
const HOSTILE_NAMES = [
  '__proto__',
  'constructor',
  'constructor.constructor',
  'diaSource.__proto__',
  'diaSource.constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'Object.prototype.polluted',
  'process.exit',
  'process.mainModule',
  'globalThis',
  'this',
  'require',
  'import',
  'eval',
  'Function',
  'diaSource.__defineGetter__',
];
const KEYWORDS = [
  'AND',
  'OR',
  'NOT',
  'IN',
  'BETWEEN',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
  'and',
  'Or',
  'not',
  'SELECT',
  'WHERE',
  'DROP',
  'UNION',
  'LIKE',
];
const SYMBOLS = [
  '=',
  '!=',
  '<>',
  '<',
  '<=',
  '>',
  '>=',
  '+',
  '-',
  '*',
  '/',
  '(',
  ')',
  ',',
  '.',
  ';',
  '--',
  '/*',
  '*/',
  '`',
  '$',
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  '\\',
  '=>',
  '?',
  ':',
  '!',
  '&&',
  '||',
  '%',
  '^',
  '~',
  '@',
  '#',
];
const LITERALS = [
  '0',
  '1',
  '10',
  '-3.5e3',
  '0.5',
  '.5',
  '1e308',
  '1e309',
  '5e-324',
  '1e-400',
  '0x1F',
  '1_000',
  'NaN',
  'Infinity',
  "'g'",
  "'r'",
  "''",
  "'it''s'",
  "'\\''",
  '9'.repeat(300),
];
const FUNCTIONS = [
  'abs(',
  'mag(',
  'cone(',
  'watchlist(',
  'watchmap(',
  'count(',
  'min(',
  'max(',
  'mean(',
  'eval(',
  'Function(',
  'require(',
  'import(',
  'setTimeout(',
  'constructor(',
];
const INJECTIONS = [
  "constructor.constructor('return process')().exit()",
  "diaSource.constructor.constructor('while(true){}')()",
  '__proto__.polluted = 1',
  "diaSource.__proto__.polluted = 'yes'",
  'diaSource.snr > 1; DROP TABLE alerts; --',
  "diaSource.band = 'g' OR '1'='1'",
  "diaSource.band = 'g'; DELETE FROM filters",
  'diaSource.snr > 1 UNION SELECT * FROM users',
  '1 = 1 -- comment',
  'diaSource.snr > `${process.exit(1)}`',
  "diaSource.band = \"x\" + require('child_process').execSync('id')",
  "this.constructor.constructor('return this')()",
  'globalThis.process.exit(1)',
  "eval('1+1') = 2",
  "Function('return 1')() = 1",
  "import('node:fs')",
  'diaSource.snr > 1 /* */ OR 1=1',
  "watchlist('__proto__')",
  "watchmap('constructor')",
  'watchlist(constructor)',
  'count(__proto__)',
  'mean(prvDiaSources.__proto__)',
  "diaSource['snr'] > 1",
  'diaSource.band IN (SELECT band FROM x)',
  '(a => a)(1)',
  'diaSource.snr > 1 AND sleep(10)',
  "diaSource.band = '\u0000' OR diaSource.band = '\u2028'",
  "diaSource.band LIKE '%(a+)+$'",
];

function pick<T>(rng: () => number, list: readonly T[]): T {
  return list[Math.floor(rng() * list.length)];
}

function tokenSoup(rng: () => number): string {
  const pools = [FIELDS, HOSTILE_NAMES, KEYWORDS, SYMBOLS, LITERALS, FUNCTIONS];
  const n = 1 + Math.floor(rng() * 40);
  return Array.from({ length: n }, () => pick(rng, pick(rng, pools))).join(rng() < 0.5 ? ' ' : '');
}

function deepNesting(rng: () => number): string {
  const depth = 1 + Math.floor(rng() ** 2 * 3000);
  const [open, close] = pick(rng, [
    ['(', ')'],
    ['NOT ', ''],
    ['-', ''],
    ['abs(', ')'],
    ['NOT (', ')'],
    ['(', ''],
  ] as const);
  const core = pick(rng, ['diaSource.snr > 5', 'diaSource.snr', 'TRUE', '1']);
  return open.repeat(depth) + core + close.repeat(rng() < 0.8 ? depth : Math.floor(depth / 2));
}

function hugeLiteral(rng: () => number): string {
  const n = 1 + Math.floor(rng() * 6000);
  return pick(rng, [
    () => `diaSource.snr > ${'9'.repeat(n)}`,
    () => `diaSource.snr > 0.${'1'.repeat(n)}`,
    () => `diaSource.band = '${'x'.repeat(n)}'`,
    () => `diaSource.band = '${"''".repeat(n)}'`,
    () =>
      `diaSource.band IN (${Array.from({ length: Math.min(n, 2000) }, (_, i) => `'${i}'`).join(',')})`,
    () => `${'diaSource.snr > 1 AND '.repeat(Math.min(n, 400))}TRUE`,
    () => `${'1+'.repeat(Math.min(n, 2000))}1 > 0`,
    () => `${'a'.repeat(n)} = 1`,
  ])();
}

function randomText(rng: () => number): string {
  const n = Math.floor(rng() ** 3 * 5000);
  let s = '';
  for (let i = 0; i < n; i++)
    s += String.fromCharCode(
      rng() < 0.7 ? 32 + Math.floor(rng() * 95) : Math.floor(rng() * 0x10000),
    );
  return s;
}

/** A random expression the grammar accepts (it may still fail the type check). */
function wellFormed(rng: () => number, depth = 0): string {
  const value = (): string => {
    const r = rng();
    if (r < 0.4 || depth > 4)
      return pick(rng, [...FIELDS.slice(0, 7), ...LITERALS.slice(0, 6), "'g'", 'NULL', 'TRUE']);
    if (r < 0.7) return `${pick(rng, ['abs', 'mag'])}(${value()})`;
    if (r < 0.8)
      return `${pick(rng, ['count', 'min', 'max', 'mean'])}(${pick(rng, ['prvDiaSources', 'prvDiaSources.snr', 'prvDiaSources.psfFlux'])})`;
    return `(${value()} ${pick(rng, ['+', '-', '*', '/'])} ${value()})`;
  };
  const predicate = (): string => {
    const r = rng();
    if (r < 0.4) return `${value()} ${pick(rng, ['=', '!=', '<', '<=', '>', '>='])} ${value()}`;
    if (r < 0.5) return `${value()} ${rng() < 0.5 ? 'NOT ' : ''}IN (${value()}, ${value()})`;
    if (r < 0.6) return `${value()} ${rng() < 0.5 ? 'NOT ' : ''}BETWEEN ${value()} AND ${value()}`;
    if (r < 0.7) return `${value()} IS ${rng() < 0.5 ? 'NOT ' : ''}NULL`;
    if (r < 0.8)
      return pick(rng, [
        'cone(150.1, 2.2, 60)',
        "watchlist('targets')",
        "watchmap('field')",
        'diaSource.isDipole',
      ]);
    if (depth > 5) return 'TRUE';
    return `${rng() < 0.3 ? 'NOT ' : ''}(${wellFormed(rng, depth + 1)})`;
  };
  const n = 1 + Math.floor(rng() * 3);
  return Array.from({ length: n }, predicate).join(` ${pick(rng, ['AND', 'OR'])} `);
}

/** `n` fuzzed expressions, the same for the same seed. */
export function fuzzExpressions(n: number, seed = 21): string[] {
  const rng = seeded(seed);
  const makers = [
    tokenSoup,
    deepNesting,
    hugeLiteral,
    randomText,
    wellFormed,
    wellFormed,
    () => pick(rng, INJECTIONS),
    () => pick(rng, EXPRESSIONS),
  ];
  return Array.from({ length: n }, (_, i) => makers[i % makers.length](rng));
}

export interface FuzzOutcome {
  compiled: number;
  rejected: number;
  matched: number;
  slowestMs: number;
  slowest: string;
  p99Ms: number;
  /** The same in CPU time of this process, which a loaded machine's scheduling does not inflate. */
  slowestCpuMs: number;
  p99CpuMs: number;
}

/** Compiles each expression and runs it over the alerts; throws on anything but a result or a FilterError. */
export function fuzz(expressions: string[], alerts: Alert[], context: FilterContext): FuzzOutcome {
  const outcome: FuzzOutcome = {
    compiled: 0,
    rejected: 0,
    matched: 0,
    slowestMs: 0,
    slowest: '',
    p99Ms: 0,
    slowestCpuMs: 0,
    p99CpuMs: 0,
  };
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (const text of expressions) {
    const started = performance.now();
    const cpu0 = process.cpuUsage();
    try {
      const filter = compileFilter(text, context);
      for (const a of alerts) {
        const result = filter.evaluate(a);
        if (result !== true && result !== false && result !== null)
          throw new Error(`non-boolean result ${String(result)} for ${text.slice(0, 80)}`);
        if (result) outcome.matched++;
      }
      outcome.compiled++;
    } catch (err) {
      if (!(err instanceof FilterError))
        throw new Error(
          `${(err as Error).name} (not a FilterError) for ${JSON.stringify(text.slice(0, 80))}: ${(err as Error).message}`,
        );
      if (err.message.includes('\n') || err.message.length > 200)
        throw new Error(`error is not one short line: ${JSON.stringify(err.message)}`);
      if (!/^at column \d+: /.test(err.message))
        throw new Error(`error does not name a column: ${err.message}`);
      outcome.rejected++;
    }
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpu0);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
    times.push(ms);
    if (ms > outcome.slowestMs)
      Object.assign(outcome, { slowestMs: ms, slowest: text.slice(0, 60) });
  }
  times.sort((x, y) => x - y);
  outcome.p99Ms = times[Math.floor(0.99 * (times.length - 1))];
  cpuTimes.sort((x, y) => x - y);
  outcome.p99CpuMs = cpuTimes[Math.floor(0.99 * (cpuTimes.length - 1))];
  outcome.slowestCpuMs = cpuTimes[cpuTimes.length - 1];
  return outcome;
}

export async function fuzzSetup(): Promise<{ alerts: Alert[]; context: FilterContext }> {
  // The schema is parsed before the traps are set: avsc generates its own (de)serialisers with
  // Function from the project's schema, once; the filter never does.
  alertFields();
  const { visits } = await runScene(4, undefined, false);
  const alerts = visits.flatMap((v) => v.alerts).slice(-20);
  const context = {
    watchlists: new Map([['targets', parseWatchlistCsv(watchlistCsv(alerts))]]),
    watchmaps: new Map([['field', parseMoc(watchmapMoc(alerts))]]),
  };
  return { alerts, context };
}
