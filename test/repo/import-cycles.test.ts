// No import cycle among the modules of shared/ and functions/, type-only imports included: a
// cycle makes the load order matter and ties modules that should be read and tested alone.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The graph of relative imports and re-exports (type-only ones too) between the given files. */
export function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')))
      .filter((path) => known.has(path));
    graph.set(file, targets);
  }
  return graph;
}

/** One cycle per strongly connected group of the graph (Tarjan), as a list of files. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(group.reverse());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

test('the cycle finder finds a two-module cycle and no cycle in a chain', () => {
  const cyclic = new Map([
    ['a', ['b']],
    ['b', ['a']],
    ['c', ['a']],
  ]);
  assert.deepEqual(
    findCycles(cyclic).map((c) => c.sort()),
    [['a', 'b']],
  );
  assert.deepEqual(
    findCycles(
      new Map([
        ['a', ['b']],
        ['b', ['c']],
        ['c', []],
      ]),
    ),
    [],
  );
});

test('shared/ and functions/ have no import cycle (type-only imports included)', () => {
  const files = [...sources(join(ROOT, 'shared')), ...sources(join(ROOT, 'functions'))];
  const cycles = findCycles(importGraph(files)).map((c) =>
    c.map((f) => relative(ROOT, f)).join(' -> '),
  );
  assert.deepEqual(cycles, [], `import cycles:\n${cycles.join('\n')}`);
});
