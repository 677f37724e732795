// The inputs of `npm run build` (scripts/build.js) and their fingerprint, recorded in
// dist/build-info.json: bin/ap.js runs the compiled dist/ only when it was built from the sources
// as they are now, else the TypeScript sources through tsx.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Files that change what the build compiles or reports besides the sources. */
const CONFIG_FILES = ['package.json', 'tsconfig.json', 'tsconfig.build.json'];

/** What the compiled build is made of: TypeScript (not tests), JSON and WebAssembly modules. */
const SOURCE = /(?<!\.test)\.ts$|\.json$|\.wasm$/;

/** The build's input files, relative to `root`, sorted: tsconfig.build.json's folders and the configuration. */
export function buildSources(root) {
  const { include } = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8'));
  const files = include.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && SOURCE.test(e.name))
      .map((e) => relative(root, join(e.parentPath ?? e.path, e.name))),
  );
  return [...CONFIG_FILES, ...files.sort()];
}

/** SHA-256 of the build's input files, names and contents. */
export function sourceHash(root) {
  const hash = createHash('sha256');
  for (const file of buildSources(root))
    hash.update(`${file}\0`).update(readFileSync(join(root, file)));
  return hash.digest('hex');
}
