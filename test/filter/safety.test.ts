/**
 * Safety fuzz: 10,000 hostile expressions (./fuzz.ts) each end in a match result or one FilterError
 * of one line, and none runs code or changes state: eval and Function are trapped for the run,
 * Object.prototype, Array.prototype and Function.prototype keep their properties, and the alerts
 * are unchanged. The slowest expression's time is printed here; `npm run bench -- filter` reports it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { Alert } from '../../shared/alerts/types.js';
import { compileFilter, FilterError, type FilterContext } from '../../shared/filter/index.js';
import { alertFields } from '../../shared/filter/fields.js';
import { parseMoc } from '../../shared/filter/moc.js';
import { parseWatchlistCsv } from '../../shared/filter/watchlist.js';
import { runScene } from '../alerts/scene.js';
import { watchlistCsv, watchmapMoc } from './cases.js';
import { fuzzExpressions } from './fuzz.js';

export const FUZZ_COUNT = 10_000;
const FUNCTION_PROTOTYPE = Function.prototype;

function snapshot(target: object): string {
  return Reflect.ownKeys(target)
    .map((k) => {
      const d = Object.getOwnPropertyDescriptor(target, k);
      return `${String(k)}:${typeof d?.value}:${typeof d?.get}:${String(d?.writable)}`;
    })
    .join('|');
}

/** Runs `fn` with eval, Function and Function.prototype.constructor trapped; returns how often they were reached. */
function trapped(fn: () => void): number {
  let reached = 0;
  const g = globalThis as Record<string, unknown>;
  const saved = {
    eval: g.eval,
    Function: g.Function,
    ctor: Object.getOwnPropertyDescriptor(FUNCTION_PROTOTYPE, 'constructor'),
  };
  const trap = () => {
    reached++;
    throw new Error('code execution attempted');
  };
  g.eval = trap;
  g.Function = trap;
  Object.defineProperty(FUNCTION_PROTOTYPE, 'constructor', { get: trap, configurable: true });
  try {
    fn();
  } finally {
    g.eval = saved.eval;
    g.Function = saved.Function;
    if (saved.ctor) Object.defineProperty(FUNCTION_PROTOTYPE, 'constructor', saved.ctor);
  }
  return reached;
}

export interface FuzzOutcome {
  compiled: number;
  rejected: number;
  matched: number;
  slowestMs: number;
  slowest: string;
  p99Ms: number;
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
  };
  const times: number[] = [];
  for (const text of expressions) {
    const started = performance.now();
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
    times.push(ms);
    if (ms > outcome.slowestMs)
      Object.assign(outcome, { slowestMs: ms, slowest: text.slice(0, 60) });
  }
  times.sort((x, y) => x - y);
  outcome.p99Ms = times[Math.floor(0.99 * (times.length - 1))];
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

test(`${FUZZ_COUNT} fuzzed expressions end in a result or a one-line error, run no code and change nothing`, async () => {
  const { alerts, context } = await fuzzSetup();
  const expressions = fuzzExpressions(FUZZ_COUNT);
  const before = {
    object: snapshot(Object.prototype),
    array: snapshot(Array.prototype),
    fn: snapshot(Function.prototype),
    alerts: JSON.stringify(alerts),
  };
  let outcome: FuzzOutcome | undefined;
  const reached = trapped(() => {
    outcome = fuzz(expressions, alerts, context);
  });
  assert.equal(reached, 0, 'eval, Function or a constructor was reached');
  assert.equal(snapshot(Object.prototype), before.object);
  assert.equal(snapshot(Array.prototype), before.array);
  assert.equal(snapshot(Function.prototype), before.fn);
  assert.equal(JSON.stringify(alerts), before.alerts, 'the alerts are unchanged');
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.ok(outcome);
  assert.equal(outcome.compiled + outcome.rejected, FUZZ_COUNT);
  assert.ok(
    outcome.compiled > 1000 && outcome.rejected > 1000,
    `both outcomes exercised: ${JSON.stringify(outcome)}`,
  );
  process.stdout.write(
    `# fuzz: ${outcome.compiled} compiled (${outcome.matched} matches), ${outcome.rejected} rejected; p99 ${outcome.p99Ms.toFixed(2)} ms, slowest ${outcome.slowestMs.toFixed(1)} ms (${JSON.stringify(outcome.slowest)}), under test load\n`,
  );
});
