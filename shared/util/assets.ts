/**
 * Data folders shipped beside the code (schema/, models/): found upwards from the module that
 * asks, so the same lookup works from the TypeScript sources (shared/x/y.ts) and from the compiled
 * build (dist/shared/x/y.js), where the folders stay at the package root, outside dist/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest `relative` path (joined onto each ancestor of module `from`'s folder) that exists. */
export function findUpwards(from: string, relative: string): string {
  let dir = dirname(fileURLToPath(from));
  for (;;) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${relative} not found above ${fileURLToPath(from)}`);
    dir = parent;
  }
}
