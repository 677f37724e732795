/**
 * The committed WebAssembly modules are what their AssemblyScript sources compile to, byte for byte,
 * with the pinned compiler (shared/wasm/build.js). Without that compiler installed the test skips with
 * the reason printed, unless package.json declares it (then `npm ci` installed it, and its absence fails).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
// @ts-expect-error: a plain JavaScript build script without type declarations.
import * as build from '../../shared/wasm/build.js';

const { ASC_VERSION, WASM_MODULES, compile, loadAsc } = build as {
  ASC_VERSION: string;
  WASM_MODULES: string[];
  compile: (asc: unknown, name: string) => Promise<Uint8Array>;
  loadAsc: () => Promise<{ version: string }>;
};

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  devDependencies?: Record<string, string>;
};
const declared = pkg.devDependencies?.assemblyscript !== undefined;

async function compiler(): Promise<{ version: string } | string> {
  try {
    const asc = await loadAsc();
    return asc.version === ASC_VERSION
      ? asc
      : `assemblyscript ${asc.version} installed, the modules are built with ${ASC_VERSION}`;
  } catch (error) {
    return `assemblyscript ${ASC_VERSION} not installed (devDependencies "assemblyscript": "${ASC_VERSION}"): ${String(error).split('\n')[0]}`;
  }
}

test('each committed .wasm is its source compiled by the pinned asc', async (t) => {
  const asc = await compiler();
  if (typeof asc === 'string') {
    assert.ok(!declared, `package.json declares assemblyscript, but: ${asc}`);
    t.skip(asc);
    return;
  }
  for (const name of WASM_MODULES) {
    const built = Buffer.from(await compile(asc, name));
    const committed = readFileSync(new URL(`../../shared/wasm/${name}.wasm`, import.meta.url));
    assert.ok(
      built.equals(committed),
      `shared/wasm/${name}.wasm differs from its source's build: node shared/wasm/build.js`,
    );
  }
});
