import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';

const AP = join(import.meta.dirname, '../../bin/ap.js');

function ap(...args: string[]) {
  return spawnSync(process.execPath, [AP, ...args], { encoding: 'utf8' });
}

test('ap fakes on a simulated pair writes fakes.json and the completeness plot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-fakes-'));
  const sim = ap('simulate', '--out', dir, '--size', '768', '--seed', '4', '--visits', '1');
  assert.equal(sim.status, 0, sim.stderr);
  const out = join(dir, 'report');
  const run = ap(
    'fakes',
    '--science',
    join(dir, 'science-1.fits'),
    '--template',
    join(dir, 'template.fits'),
    '--n',
    '60',
    '--out',
    out,
    '--truth',
    join(dir, 'truth.csv'),
  );
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(readFileSync(join(out, 'fakes.json'), 'utf8'));
  assert.equal(report.injected, 60);
  assert.equal(report.fakes.length, 60);
  assert.equal(report.truthUsed, true);
  for (const key of [
    'completenessAboveCut',
    'snr50',
    'fluxBias',
    'fluxBiasCorrected',
    'purityRaw',
    'bins',
  ])
    assert.ok(key in report, key);
  assert.ok(report.completenessAboveCut >= 0.9, `completeness ${report.completenessAboveCut}`);
  assert.ok(
    report.fakes.every(
      (f: { snr: number; detected: boolean }) =>
        f.snr >= 3 && f.snr <= 50 && typeof f.detected === 'boolean',
    ),
  );
  // The summary is a table on stdout, and says how many fakes landed on hosts (at most one a host).
  assert.match(
    run.stdout,
    new RegExp(
      `^fakes injected: 60 \\(${report.onHost} on host galaxies, ${60 - report.onHost} in empty sky\\)`,
    ),
  );
  assert.match(run.stdout, /completeness at SNR >= 6: \d\.\d{3}/);
  assert.match(run.stdout, /purity of \|SNR\| >= 6 detections: /);
  const hosted = report.fakes.filter((f: { onHost: boolean }) => f.onHost);
  assert.equal(hosted.length, report.onHost);
  const png = PNG.sync.read(readFileSync(join(out, 'fakes-completeness.png')));
  assert.ok(png.width > 100 && png.height > 100);
});

test('ap fakes rejects bad input with one line', () => {
  const missing = ap('fakes', '--template', 'x.fits');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--science/);
  const n = ap('fakes', '--science', 'a.fits', '--template', 'b.fits', '--n', '0');
  assert.equal(n.status, 2);
  assert.match(n.stderr, /--n/);
  const absent = ap('fakes', '--science', '/nonexistent/a.fits', '--template', 'b.fits');
  assert.equal(absent.status, 2);
  assert.equal(absent.stderr.trim().split('\n').length, 1);
});
