/**
 * scripts/build-sources.js: the fingerprint bin/ap.js compares with dist/build-info.json's changes
 * with any compiled source, its name or the build's configuration, and with nothing else.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
// @ts-expect-error: a plain JavaScript build script without type declarations.
import { buildSources, sourceHash } from '../../scripts/build-sources.js';

const hashOf = sourceHash as (root: string) => string;
const sourcesOf = buildSources as (root: string) => string[];

test('the build fingerprint follows the compiled sources and configuration only', () => {
  const root = mkdtempSync(join(tmpdir(), 'ap-build-sources-'));
  try {
    const write = (file: string, text: string): void => {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), text);
    };
    write('package.json', '{"version":"1.0.0"}');
    write('tsconfig.json', '{}');
    write('tsconfig.build.json', '{"include":["src"]}');
    write('src/a.ts', 'export const a = 1;');
    write('src/deep/b.ts', 'export const b = 2;');
    write('src/deep/m.wasm', 'wasm');
    write('src/a.test.ts', 'test');
    write('src/README.md', 'docs');
    write('other/c.ts', 'not built');
    assert.deepEqual(sourcesOf(root), [
      'package.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src/a.ts',
      'src/deep/b.ts',
      'src/deep/m.wasm',
    ]);
    const first = hashOf(root);
    write('src/a.test.ts', 'changed test');
    write('src/README.md', 'changed docs');
    write('other/c.ts', 'changed, not built');
    assert.equal(hashOf(root), first);
    write('src/deep/b.ts', 'export const b = 3;');
    const edited = hashOf(root);
    assert.notEqual(edited, first);
    renameSync(join(root, 'src/deep/b.ts'), join(root, 'src/deep/c.ts'));
    assert.notEqual(hashOf(root), edited);
    write('package.json', '{"version":"1.0.1"}');
    assert.notEqual(hashOf(root), edited);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
