// `npm run build`: compiles the TypeScript to dist/ (tsconfig.build.json), then stages the Cloud
// Functions source in .deploy/source/ from the explicit list of scripts/deploy-files.js, which is
// what terraform/ zips and uploads. dist/ is built beside and swapped in whole, its
// build-info.json naming the sources it was built from (bin/ap.js runs it only while they are
// unchanged), so an `ap` started meanwhile runs either build or the sources, never a partial one.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceHash } from './build-sources.js';
import { deployFiles } from './deploy-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const staged = join(root, '.deploy', 'source');

const dist = join(root, 'dist');
// Beside dist/ (the same depth keeps the source maps' relative paths), one pair per build.
const next = join(root, `.dist-next-${process.pid}`);
const old = join(root, `.dist-old-${process.pid}`);
// Hashed before compiling: a source edited meanwhile makes the build stale, not falsely fresh.
const sources = sourceHash(root);
const tsc = spawnSync(
  process.execPath,
  [
    join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    next,
  ],
  {
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) {
  rmSync(next, { recursive: true, force: true });
  process.exit(tsc.status ?? 1);
}

// The committed WebAssembly modules (shared/wasm/README.md) beside the compiled modules that load them.
const shared = join(root, 'shared');
for (const file of readdirSync(shared, { recursive: true }).map(String)) {
  if (file.endsWith('.wasm')) cpSync(join(shared, file), join(next, 'shared', file));
}

// The code version the compiled build reports (shared/util/version.ts): package version and commit.
const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' });
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const commit = git.status === 0 ? git.stdout.trim() : null;
writeFileSync(join(next, 'build-info.json'), `${JSON.stringify({ version, commit, sources })}\n`);
if (existsSync(dist)) renameSync(dist, old);
renameSync(next, dist);
rmSync(old, { recursive: true, force: true });

rmSync(staged, { recursive: true, force: true });
const files = deployFiles(root);
for (const file of files) {
  mkdirSync(dirname(join(staged, file)), { recursive: true });
  cpSync(join(root, file), join(staged, file));
}
process.stderr.write(`build: dist/ compiled; ${files.length} files staged in .deploy/source/\n`);
