/**
 * One error path for every `ap` command: one line on stderr, `ap CMD: FILE: cause`, exit 2, the
 * same words for the same cause whichever command meets it; negative option values reach the
 * command's own check; `ap --version`; `npm run bench -- --help`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const AP = join(import.meta.dirname, '../../bin/ap.js');
const BENCH = join(import.meta.dirname, '../../bench/main.ts');
const root = mkdtempSync(join(tmpdir(), 'ap-errors-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

function ap(...args: string[]) {
  return spawnSync(process.execPath, [AP, ...args], { encoding: 'utf8' });
}

/** Exit 2 and exactly the one line `expected` on stderr. */
function oneLine(run: ReturnType<typeof ap>, expected: string): void {
  assert.equal(run.status, 2, run.stderr);
  assert.equal(run.stderr, `${expected}\n`);
}

test('a missing input file reads the same in every command', () => {
  const nope = join(root, 'nope.fits');
  oneLine(
    ap('detect', '--diff', nope, '--out', join(root, 'x.csv')),
    `ap detect: ${nope}: no such file`,
  );
  oneLine(
    ap('diff', '--science', nope, '--template', nope, '--out', join(root, 'd.fits')),
    `ap diff: ${nope}: no such file`,
  );
  oneLine(
    ap('process', '--science', nope, '--template', nope, '--out', join(root, 'out')),
    `ap process: ${nope}: no such file`,
  );
  oneLine(ap('fakes', '--science', nope, '--template', nope), `ap fakes: ${nope}: no such file`);
  oneLine(ap('alerts', '--in', nope), `ap alerts: ${nope}: no such file`);
  oneLine(
    ap('detect', '--diff', root, '--out', join(root, 'x.csv')),
    `ap detect: ${root}: is a folder, not a file`,
  );
});

test('a negative option value reaches the option check, not the argument parser', () => {
  oneLine(
    ap('detect', '--diff', 'd.fits', '--out', 'x.csv', '--threshold', '-3'),
    'ap detect: --threshold must be positive, got -3',
  );
  oneLine(
    ap(
      'process',
      '--science',
      's.fits',
      '--template',
      't.fits',
      '--out',
      'o',
      '--threshold',
      '-.5',
    ),
    'ap process: --threshold must be positive, got -0.5',
  );
  // An option after a value option still is an option.
  oneLine(
    ap('detect', '--diff', '--out', 'x.csv'),
    "ap detect: Option '--diff' argument is ambiguous.",
  );
});

test('ap diff with a template that does not overlap the science image names the template', () => {
  const sim = join(root, 'sim');
  const made = ap('simulate', '--out', sim, '--size', '512', '--visits', '1', '--seed', '4');
  assert.equal(made.status, 0, made.stderr);
  // The same template 10 degrees away in right ascension: its CRVAL1 card rewritten in place.
  const bytes = readFileSync(join(sim, 'template.fits'));
  const at = bytes.indexOf('CRVAL1  = ');
  const card = bytes.subarray(at, at + 80).toString('latin1');
  const ra = Number(card.slice(10, 30).trim()) + 10;
  bytes.write(`CRVAL1  = ${String(ra).padStart(20)}`.padEnd(80), at, 'latin1');
  const far = join(root, 'far.fits');
  writeFileSync(far, bytes);
  const science = join(sim, 'science-1.fits');
  const run = ap('diff', '--science', science, '--template', far, '--out', join(root, 'd.fits'));
  oneLine(
    run,
    `ap diff: ${far}: template covers 0.00% of the science image, below the minimum 10.00% (science ${science})`,
  );
});

test('ap --version prints the package version', () => {
  const run = ap('--version');
  assert.equal(run.status, 0);
  const { version } = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8'),
  );
  assert.match(run.stdout, new RegExp(`^ap ${version.replace(/\./g, '\\.')}(\\+[0-9a-f]+)?\n$`));
  assert.match(ap('--help').stdout, /ap --version/);
});

test('npm run bench -- --help lists the areas and exits 0', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', BENCH, '--help'], {
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^usage: npm run bench/);
  for (const area of ['fits', 'diffim', 'pipeline', 'e2e'])
    assert.match(run.stdout, new RegExp(`\\n  ${area} +\\S`));
  assert.equal(run.stderr, '');
});
