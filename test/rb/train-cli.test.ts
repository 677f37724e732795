// npm run train-rb's retrain and uncertain modes on a small labelled set, and its one-line errors.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateNight } from '../../shared/rb/dataset.js';
import { readSet, writeSet } from '../../shared/rb/labelled-set.js';
import { REPRODUCTION_NIGHT } from '../../shared/rb/release.js';

const cli = join(import.meta.dirname, '../../shared/rb/train-cli.ts');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });

test('uncertain exports the least certain cutouts unlabelled; retrain fine-tunes on labelled ones and reports both models', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-cli-'));
  const night = await generateNight(77, {
    ...REPRODUCTION_NIGHT,
    sim: { ...REPRODUCTION_NIGHT.sim, size: 384, visits: 1 },
  });
  writeSet(join(dir, 'night'), night);

  const picked = run(
    'uncertain',
    '--cutouts',
    join(dir, 'night'),
    '--out',
    join(dir, 'todo'),
    '--count',
    '10',
  );
  assert.equal(picked.status, 0, picked.stderr);
  const todo = readSet(join(dir, 'todo'));
  assert.equal(todo.raw.count, Math.min(10, night.raw.count));
  assert.ok(todo.label.every((l) => l === -1));

  const tuned = run(
    'retrain',
    '--cutouts',
    join(dir, 'night'),
    '--out',
    join(dir, 'tuned'),
    '--version',
    'rb-test-tuned',
    '--epochs',
    '1',
  );
  assert.equal(tuned.status, 0, tuned.stderr);
  const manifest = JSON.parse(readFileSync(join(dir, 'tuned', 'manifest.json'), 'utf8')) as {
    version: string;
  };
  assert.equal(manifest.version, 'rb-test-tuned');
  assert.ok(
    existsSync(join(dir, 'tuned', 'heldout.json')) &&
      existsSync(join(dir, 'tuned', 'heldout-base.json')),
  );
});

test('bad input exits 2 with one line naming the problem', () => {
  const missing = run('retrain', '--cutouts', '/nonexistent/set', '--out', '/tmp/x');
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, 'train-rb: /nonexistent/set.csv: no such file\n');
  const usage = run('uncertain', '--cutouts', 'x', '--out', 'y', '--count', 'many');
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--count must be a positive integer, got 'many'/);
  assert.equal(run('sideways').status, 2);
  const input = run('train', '--input', 'sideways', '--out', '/tmp/x');
  assert.equal(input.status, 2);
  assert.equal(
    input.stderr,
    "train-rb: --input must be one of median, local-background, got 'sideways'\n",
  );
  const nights = run('train', '--nights', 'all', '--out', '/tmp/x');
  assert.equal(nights.status, 2);
  assert.equal(
    nights.stderr,
    "train-rb: --nights must be one of default, default-faint, defects-broad, defects-broad-faint, got 'all'\n",
  );
});
