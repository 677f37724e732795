#!/usr/bin/env node
// Entry point of the `ap` command: the compiled build in dist/ when it was built from the sources
// as they are now (`npm run build`; the fingerprint in dist/build-info.json, scripts/build-sources.js),
// else the TypeScript sources through tsx (no build step needed). The build starts ~0.7 CPU-s
// sooner: nothing to compile, on the main thread or in each worker thread.
import { readFileSync } from 'node:fs';
import { fileURLToPath, URL } from 'node:url';
import { sourceHash } from '../scripts/build-sources.js';

function builtFromTheseSources() {
  try {
    const info = JSON.parse(readFileSync(new URL('../dist/build-info.json', import.meta.url)));
    return info.sources === sourceHash(fileURLToPath(new URL('..', import.meta.url)));
  } catch {
    return false; // no build, or one that predates the fingerprint
  }
}

if (builtFromTheseSources()) {
  // Stack traces (--verbose) name the TypeScript sources, as under tsx.
  if (process.argv.includes('--verbose')) process.setSourceMapsEnabled(true);
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
