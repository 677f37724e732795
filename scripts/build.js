// `npm run build`: compiles the TypeScript to dist/ (tsconfig.build.json), then stages the Cloud
// Functions source in .deploy/source/ from the explicit list of scripts/deploy-files.js, which is
// what terraform/ zips and uploads.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deployFiles } from './deploy-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const staged = join(root, '.deploy', 'source');

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')],
  {
    stdio: 'inherit',
  },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

// The committed WebAssembly modules (shared/wasm/README.md) beside the compiled modules that load them.
const shared = join(root, 'shared');
for (const file of readdirSync(shared, { recursive: true }).map(String)) {
  if (file.endsWith('.wasm')) cpSync(join(shared, file), join(root, 'dist', 'shared', file));
}

// The code version the compiled build reports (shared/util/version.ts): package version and commit.
const git = spawnSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, encoding: 'utf8' });
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const commit = git.status === 0 ? git.stdout.trim() : null;
writeFileSync(join(root, 'dist', 'build-info.json'), `${JSON.stringify({ version, commit })}\n`);

rmSync(staged, { recursive: true, force: true });
const files = deployFiles(root);
for (const file of files) {
  mkdirSync(dirname(join(staged, file)), { recursive: true });
  cpSync(join(root, file), join(staged, file));
}
process.stderr.write(`build: dist/ compiled; ${files.length} files staged in .deploy/source/\n`);
