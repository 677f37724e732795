/**
 * The repository stands alone: no file a clone holds points at a file outside it (the team's
 * shared folder beside the checkout) or names an absolute path of the machine it was written on.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Generated or installed, never committed (.gitignore). */
const SKIP = new Set([
  'node_modules',
  '.git',
  'dist',
  '.deploy',
  'night-report',
  'tmp',
  'out',
  '.bench-out',
  '.cache',
]);
const TEXT = /\.(ts|js|mjs|json|md|tf|hcl|py|sh|txt|yml|yaml|csv|html|rules)$|^run$|^\.[a-z]+rc$/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    if (SKIP.has(name)) return [];
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return files(full);
    return TEXT.test(name) ? [full] : [];
  });
}

// Built from parts so that this file does not match itself.
const OUTSIDE = [
  new RegExp(['\\.\\./', 'shared/', '[A-Z]+\\.md'].join('')),
  new RegExp(['(^|[\\s\'"`(])/', '(work|home|root|Users)/'].join('')),
];

test('no committed text file names a path outside the repository', () => {
  const offenders: string[] = [];
  for (const file of files(root)) {
    const text = readFileSync(file, 'utf8');
    for (const pattern of OUTSIDE) {
      const m = pattern.exec(text);
      if (m)
        offenders.push(
          `${relative(root, file)}: ${text.slice(Math.max(0, m.index - 20), m.index + 40).replace(/\n/g, ' ')}`,
        );
    }
  }
  assert.deepEqual(offenders, []);
});
