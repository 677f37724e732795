/**
 * The filter language against an independent evaluation: every expression of ./cases.ts is run
 * by compileFilter over alerts read back from an Avro container file, and by ./independent.py
 * (python3-avro and astropy; written separately, by hand) over the same file. The
 * matched diaSourceIds must be equal, on alerts of the association scene (with nulls knocked in)
 * and on alerts of `ap process` (two visits of an `ap simulate` pair, so with history).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAlertContainer } from '../../shared/alerts/container.js';
import { compileFilter } from '../../shared/filter/index.js';
import { runScene } from '../alerts/scene.js';
import { withNulls } from './cases.js';
import { crossCheck, readAll, skipWithoutOracle } from './cross-check.js';

const cli = new URL('../../cli/main.ts', import.meta.url).pathname;
const skip = skipWithoutOracle();

test(
  'every operator and function matches the independent Python evaluation (association scene, with nulls)',
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-filter-'));
    try {
      const { visits } = await runScene(6, undefined, false);
      const file = join(dir, 'alerts.avro');
      await writeAlertContainer(file, withNulls(visits.flatMap((v) => v.alerts)));
      const alerts = await readAll(file);
      const found = await crossCheck(dir, file, alerts);
      // The cases discriminate: none matches nothing and none matches everything, except where the
      // data cannot (no cone/snr/division result depends on it being so).
      const trivial = [...found]
        .filter(([, ids]) => ids.length === 0 || ids.length === alerts.length)
        .map(([t]) => t);
      assert.deepEqual(
        trivial,
        ['diaSource.snr / 0 IS NULL'],
        'only x / 0 IS NULL is true of every alert',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test(
  'ap process alerts: the same expressions, and ap filter prints exactly the matches',
  { skip },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-filter-process-'));
    const ap = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });
    try {
      const sim = join(dir, 'sim');
      const out = join(dir, 'run');
      for (const args of [
        ['simulate', '--out', sim, '--size', '512', '--visits', '2', '--seed', '3'],
        [
          'process',
          '--science',
          join(sim, 'science-1.fits'),
          '--template',
          join(sim, 'template.fits'),
          '--out',
          out,
        ],
        [
          'process',
          '--science',
          join(sim, 'science-2.fits'),
          '--template',
          join(sim, 'template.fits'),
          '--out',
          out,
        ],
      ]) {
        const run = ap(...args);
        assert.equal(run.status, 0, run.stderr);
      }
      const file = join(out, 'alerts.avro');
      const alerts = await readAll(file);
      assert.ok(alerts.length >= 5, `ap process made ${alerts.length} alerts`);
      const found = await crossCheck(dir, file, alerts);
      for (const text of [
        'diaSource.snr > 10',
        "watchlist('targets')",
        'count(prvDiaSources) >= 1 AND mag(diaSource.psfFlux) < 24',
      ]) {
        const args = [
          'filter',
          '--in',
          file,
          '--where',
          text,
          '--watchlist',
          `targets=${join(dir, 'targets.csv')}`,
        ];
        const run = ap(...args);
        assert.equal(run.status, 0, run.stderr);
        const expected =
          found.get(text) ??
          alerts.filter((a) => compileFilter(text).matches(a)).map((a) => a.diaSourceId);
        assert.deepEqual(run.stdout.split('\n').filter(Boolean).map(Number), expected, text);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
