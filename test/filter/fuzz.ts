/**
 * Hostile filter expressions for the safety fuzz (test/filter/safety.test.ts, bench/filter.ts):
 * random token soups, deep nesting, huge literals, JavaScript and SQL injection attempts, random
 * UTF-16, and random well-formed expressions from the grammar (so that many also compile and run).
 */
import { EXPRESSIONS } from './cases.js';

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
