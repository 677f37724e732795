/**
 * `npm run build`: the compiled code in dist/ runs the same simulated night as the TypeScript
 * sources under tsx, with the same science; the function archive's explicit list holds only
 * dist/, models/, schema/ and the package files; and the staged archive, copied alone beside the
 * installed dependencies, loads every entry point, the model and the schemas.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ENTRY_POINTS } from '../../shared/cloud/names.js';
import { codeVersion } from '../../shared/util/version.js';
// @ts-expect-error: a plain JavaScript build script without type declarations.
import { deployFiles } from '../../scripts/deploy-files.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const listed = deployFiles as (root: string) => string[];

interface NightReport {
  night: { complete: boolean };
  alerts: { received: number; duplicates: number; undecodable: number };
  deadLetters: unknown[];
  science: {
    completeness: { found: number; expected: number };
    purity: { alerts: number; real: number };
  };
}

/** The smallest night (one visit of one 512-pixel detector) run by `node ...args`. */
function night(scratch: string, name: string, args: string[]): NightReport {
  const out = join(scratch, name);
  const run = spawnSync(
    process.execPath,
    [
      ...args,
      '--visits',
      '1',
      '--detectors',
      '1',
      '--size',
      '512',
      '--cadence',
      '0',
      '--instances',
      '1',
      '--timeout',
      '5',
      '--out',
      out,
    ],
    { cwd: root, encoding: 'utf8', timeout: 300_000 },
  );
  assert.equal(run.status, 0, `${name} night failed: ${run.stderr.slice(-2000)}`);
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as NightReport;
}

describe('the compiled build', { timeout: 900_000 }, () => {
  let scratch: string;
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'ap-build-'));
    const build = spawnSync(process.execPath, ['scripts/build.js'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(build.status, 0, `npm run build failed: ${build.stdout}${build.stderr}`);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('lists only dist/, models/, schema/ and the package files for the archive', () => {
    const files = listed(root);
    assert.ok(files.includes('dist/functions/index.js'));
    assert.ok(files.some((f) => f.startsWith('models/rb/') && f.endsWith('weights.bin')));
    assert.ok(files.some((f) => f.startsWith('schema/1/0/') && f.endsWith('.avsc')));
    const outside = files.filter(
      (f) =>
        !/^(dist|models|schema)\//.test(f) && !['package.json', 'package-lock.json'].includes(f),
    );
    assert.deepEqual(outside, []);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts')),
      [],
      'no TypeScript source',
    );
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main: string };
    assert.ok(files.includes(pkg.main), `package.json main ${pkg.main} is in the archive`);
  });

  it('the staged archive alone loads every entry point, the model and the schemas', () => {
    const copy = join(scratch, 'source');
    cpSync(join(root, '.deploy', 'source'), copy, { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const probe = `
      const ff = await import('@google-cloud/functions-framework/testing');
      await import('./dist/functions/index.js');
      const { loadModel, latestShippedDir } = await import('./dist/shared/rb/model.js');
      const { loadAlertSchema, CURRENT_SCHEMA } = await import('./dist/shared/alerts/schema.js');
      const names = ${JSON.stringify(Object.keys(ENTRY_POINTS))}.filter((n) => typeof ff.getFunction(n) === 'function');
      const model = await loadModel(latestShippedDir());
      const schema = loadAlertSchema(CURRENT_SCHEMA.major, CURRENT_SCHEMA.minor);
      const { codeVersion } = await import('./dist/shared/util/version.js');
      console.log(JSON.stringify({ names, model: model.version, schema: schema.id, dir: latestShippedDir(), version: codeVersion() }));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: copy,
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    const seen = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      names: string[];
      model: string;
      schema: number;
      dir: string;
      version: string;
    };
    // The code version comes from the build's dist/build-info.json: the archive has no .git.
    assert.equal(seen.version, codeVersion());
    assert.deepEqual(seen.names.sort(), Object.keys(ENTRY_POINTS).sort());
    assert.match(seen.model, /^rb-v\d+$/);
    assert.ok(seen.dir.startsWith(copy), 'the model is read from the archive');
    assert.ok(seen.schema >= 100);
  });

  it('node dist/... runs the same night as tsx, with the same science', () => {
    const compiled = night(scratch, 'dist', ['dist/functions/night/main.js']);
    const sources = night(scratch, 'tsx', ['--import', 'tsx', 'functions/night/main.ts']);
    for (const report of [compiled, sources]) {
      assert.ok(report.night.complete);
      assert.ok(report.alerts.received > 0);
      assert.equal(report.alerts.duplicates, 0);
      assert.equal(report.alerts.undecodable, 0);
      assert.deepEqual(report.deadLetters, []);
    }
    assert.equal(compiled.alerts.received, sources.alerts.received);
    assert.deepEqual(compiled.science.completeness, sources.science.completeness);
    assert.deepEqual(compiled.science.purity, sources.science.purity);
  });
});
