import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFits } from '../../shared/fits/read.js';
import { DECAM_DIR } from '../helpers/data.js';

const AP = fileURLToPath(new URL('../../bin/ap.js', import.meta.url));
const DIR = DECAM_DIR;

test('ap diff writes the difference file; bad input is one line and exit 2', () => {
  const out = mkdtempSync(join(tmpdir(), 'ap-diff-'));
  try {
    const file = join(out, 'd.fits');
    const ok = spawnSync(
      process.execPath,
      [
        AP,
        'diff',
        '--science',
        join(DIR, 'DEC-OBS04a.mini.fits'),
        '--template',
        join(DIR, 'DEC-OBS18a.mini.fits'),
        '--out',
        file,
        '--method',
        'zogy',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(ok.status, 0, ok.stderr);
    const hdus = readFits(readFileSync(file));
    assert.equal(hdus[0].header.get('DIFFMETH'), 'ZOGY');
    assert.deepEqual(
      hdus.slice(1).map((h) => h.name),
      ['IMAGE', 'MASK', 'VARIANCE', 'PSF', 'SCORR'],
    );
    const bad = spawnSync(
      process.execPath,
      [
        AP,
        'diff',
        '--science',
        join(DIR, 'README.md'),
        '--template',
        join(DIR, 'DEC-OBS18a.mini.fits'),
        '--out',
        file,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /README\.md/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('ap diff --prepared-template-out writes a prepared template that a next run takes without characterizing it', () => {
  const out = mkdtempSync(join(tmpdir(), 'ap-diff-prep-'));
  const run = (template: string, extra: string[]) =>
    spawnSync(
      process.execPath,
      [
        AP,
        'diff',
        '--science',
        join(DIR, 'DEC-OBS04a.mini.fits'),
        '--template',
        template,
        '--out',
        join(out, 'd.fits'),
        ...extra,
      ],
      { encoding: 'utf8' },
    );
  const done = (stderr: string) =>
    JSON.parse(stderr.split('\n').find((l) => l.includes('"ap diff done"')) ?? '{}') as {
      kernelSum: number;
      templatePrepared: boolean;
    };
  try {
    const prepared = join(out, 'template.prepared.fits');
    const first = run(join(DIR, 'DEC-OBS18a.mini.fits'), ['--prepared-template-out', prepared]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(readFits(readFileSync(prepared))[0].header.get('APPREP'), true);
    const second = run(prepared, []);
    assert.equal(second.status, 0, second.stderr);
    const [a, b] = [done(first.stderr), done(second.stderr)];
    // The second run takes the prepared template's characterization instead of measuring it again.
    assert.deepEqual([a.templatePrepared, b.templatePrepared], [false, true]);
    // The same template model: the photometric scale agrees (stars are found afresh: not bit for bit).
    assert.ok(Math.abs(b.kernelSum / a.kernelSum - 1) < 0.01, `${b.kernelSum} vs ${a.kernelSum}`);
    const again = run(prepared, ['--prepared-template-out', join(out, 'x.fits')]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already prepared/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
