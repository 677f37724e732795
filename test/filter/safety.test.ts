/**
 * Safety fuzz: 10,000 hostile expressions (./fuzz.ts) each end in a match result or one FilterError
 * of one line, and none runs code or changes state: eval and Function are trapped for the run,
 * Object.prototype, Array.prototype and Function.prototype keep their properties, and the alerts
 * are unchanged. The slowest expression's time is printed here; `npm run bench -- filter` reports it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, fuzzExpressions, fuzzSetup, type FuzzOutcome } from './fuzz.js';

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
    `# fuzz: ${outcome.compiled} compiled (${outcome.matched} matches), ${outcome.rejected} rejected; wall p99 ${outcome.p99Ms.toFixed(2)} ms, slowest ${outcome.slowestMs.toFixed(1)} ms (${JSON.stringify(outcome.slowest)}); CPU p99 ${outcome.p99CpuMs.toFixed(2)} ms, slowest ${outcome.slowestCpuMs.toFixed(1)} ms; under test load\n`,
  );
});
