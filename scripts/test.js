// The test command: type-check, lint, format check, then every test/**/*.test.ts on Node's test
// runner (through tsx).
// Pass file or folder names to run only those tests, e.g. `node scripts/test.js test/fits`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function findTests(path) {
  if (statSync(path).isFile()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => {
      const full = join(path, name);
      if (statSync(full).isDirectory()) return name === 'fixtures' ? [] : findTests(full);
      return name.endsWith('.test.ts') ? [full] : [];
    });
}

function run(cmd, args) {
  const result = spawnSync(cmd, args, { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

const targets = process.argv.slice(2);
if (targets.length === 0) {
  run('npx', ['tsc', '--noEmit', '-p', '.']);
  run('npx', ['eslint', '.']);
  run('npx', ['prettier', '--check', '.']);
}
const files = (targets.length ? targets : ['test']).flatMap(findTests);
run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files]);
