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
