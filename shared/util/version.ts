/**
 * The code version recorded with every output (APVERSION, diaSource.codeVersion, processing
 * records) and printed by `ap --version`: package.json's version, plus the git commit it was
 * built from: dist/build-info.json in the compiled build (written by `npm run build`), else the
 * checkout's HEAD when run from a git checkout, else the version alone.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { findUpwards } from './assets.js';

/** What `npm run build` writes to dist/build-info.json. */
export interface BuildInfo {
  version: string;
  commit: string | null;
}

/** The short commit of the checkout holding `dir`, or null (no git, not a checkout). */
export function gitCommit(dir: string): string | null {
  const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return git.status === 0 && git.stdout.trim() ? git.stdout.trim() : null;
}

function find(name: string): string | null {
  try {
    return findUpwards(import.meta.url, name);
  } catch {
    return null;
  }
}

let cached: string | null = null;

/** `0.1.0+abc123def456`, or `0.1.0` when the commit is unknown. */
export function codeVersion(): string {
  if (cached) return cached;
  const built = find('build-info.json');
  let info: BuildInfo;
  if (built) info = JSON.parse(readFileSync(built, 'utf8')) as BuildInfo;
  else {
    const pkg = find('package.json')!;
    info = {
      version: (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version,
      commit: gitCommit(dirname(pkg)),
    };
  }
  cached = info.commit ? `${info.version}+${info.commit}` : info.version;
  return cached;
}
