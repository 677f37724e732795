/**
 * The code version recorded with every output (APVERSION, diaSource.codeVersion, processing
 * records) and printed by `ap --version`: package.json's version, plus the git commit it was
 * built from: dist/build-info.json in the compiled build (written by `npm run build`), else the
 * checkout's HEAD when run from a git checkout, else the version alone.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { findUpwards } from './assets.js';

/** What `npm run build` writes to dist/build-info.json. */
export interface BuildInfo {
  version: string;
  commit: string | null;
}

const GIT_HEAD = ['rev-parse', '--short=12', 'HEAD'];

/** The short commit of the checkout holding `dir`, or null (no git, not a checkout). */
export function gitCommit(dir: string): string | null {
  const git = spawnSync('git', GIT_HEAD, {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return git.status === 0 && git.stdout.trim() ? git.stdout.trim() : null;
}

/** gitCommit without blocking the thread (git runs meanwhile on another core). */
function gitCommitAsync(dir: string): Promise<string | null> {
  return new Promise((resolve) =>
    execFile('git', GIT_HEAD, { cwd: dir, encoding: 'utf8' }, (err, stdout) =>
      resolve(!err && stdout.trim() ? stdout.trim() : null),
    ),
  );
}

function find(name: string): string | null {
  try {
    return findUpwards(import.meta.url, name);
  } catch {
    return null;
  }
}

let cached: string | null = null;

/** Records and returns `version+commit` (the version alone without a commit). */
function remember(version: string, commit: string | null): string {
  cached = commit ? `${version}+${commit}` : version;
  return cached;
}

const packageVersion = (pkg: string): string =>
  (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;

/** `0.1.0+abc123def456`, or `0.1.0` when the commit is unknown. */
export function codeVersion(): string {
  if (cached) return cached;
  const built = find('build-info.json');
  if (built) {
    const info = JSON.parse(readFileSync(built, 'utf8')) as BuildInfo;
    return remember(info.version, info.commit);
  }
  const pkg = find('package.json')!;
  return remember(packageVersion(pkg), gitCommit(dirname(pkg)));
}

/** codeVersion() without blocking the thread: git runs meanwhile (`ap diff` starts it before its work). */
export async function codeVersionAsync(): Promise<string> {
  if (cached || find('build-info.json')) return codeVersion();
  const pkg = find('package.json')!;
  return remember(packageVersion(pkg), await gitCommitAsync(dirname(pkg)));
}
