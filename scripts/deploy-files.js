// The Cloud Functions source archive, as an explicit list: the compiled functions and the shared
// code they import (dist/, with its WebAssembly modules), the real/bogus model weights (models/),
// the alert schemas (schema/) and the package files the build installs production dependencies
// from. Nothing else of the working tree is uploaded (no sources, tests, data, outputs or local
// files). test/build checks the list.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

/** Folders walked, each with the files it contributes (a test on the path relative to the root). */
export const DEPLOY_FOLDERS = [
  {
    dir: 'dist/functions',
    keep: (p) => p.endsWith('.js') && !p.startsWith('dist/functions/night/'),
  },
  { dir: 'dist/shared', keep: (p) => p.endsWith('.js') || p.endsWith('.wasm') },
  { dir: 'models', keep: (p) => p.endsWith('/manifest.json') || p.endsWith('/weights.bin') },
  { dir: 'schema', keep: (p) => p.endsWith('.avsc') },
];

/** Single files at the package root. */
export const DEPLOY_PACKAGE_FILES = ['package.json', 'package-lock.json'];

/** Written by the build: the code version and commit (shared/util/version.ts). */
export const DEPLOY_BUILD_FILES = ['dist/build-info.json'];

function walk(root, dir) {
  const full = join(root, dir);
  if (!existsSync(full)) throw new Error(`${dir}/ is missing: run npm run build first`);
  return readdirSync(full, { recursive: true })
    .map((f) => join(full, String(f)))
    .filter((f) => statSync(f).isFile())
    .map((f) => relative(root, f).split(sep).join('/'));
}

/** The archive's paths, relative to the package root, sorted. */
export function deployFiles(root) {
  const files = DEPLOY_FOLDERS.flatMap(({ dir, keep }) => walk(root, dir).filter(keep));
  return [...files, ...DEPLOY_BUILD_FILES, ...DEPLOY_PACKAGE_FILES].sort();
}
