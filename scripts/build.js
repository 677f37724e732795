// `npm run build`: compiles the TypeScript to dist/ (tsconfig.build.json), then stages the Cloud
// Functions source in .deploy/source/ from the explicit list of scripts/deploy-files.js, which is
// what terraform/ zips and uploads.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deployFiles } from './deploy-files.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const staged = join(root, '.deploy', 'source');

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], {
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

rmSync(staged, { recursive: true, force: true });
const files = deployFiles(root);
for (const file of files) {
  mkdirSync(dirname(join(staged, file)), { recursive: true });
  cpSync(join(root, file), join(staged, file));
}
process.stderr.write(`build: dist/ compiled; ${files.length} files staged in .deploy/source/\n`);
