/** `ap filter` on the command line: matches, --explain, watchmaps, and one-line errors with exit 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAlertContainer } from '../../shared/alerts/container.js';
import { alertAttributes } from '../../shared/alerts/attributes.js';
import { encodeAlert } from '../../shared/alerts/wire.js';
import { compileFilter } from '../../shared/filter/index.js';
import { parseMoc } from '../../shared/filter/moc.js';
import { runScene } from '../alerts/scene.js';
import { watchmapMoc } from './cases.js';

const cli = new URL('../../cli/main.ts', import.meta.url).pathname;
const ap = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, 'filter', ...args], { encoding: 'utf8' });

test('ap filter prints matching diaSourceIds of Avro files and Pub/Sub dumps; bad input exits 2 with one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-filter-cli-'));
  try {
    const { visits } = await runScene(3, undefined, false);
    const alerts = visits.flatMap((v) => v.alerts);
    const avro = join(dir, 'alerts.avro');
    await writeAlertContainer(avro, alerts);
    const dump = join(dir, 'dump.jsonl');
    writeFileSync(
      dump,
      alerts
        .map((a) =>
          JSON.stringify({
            data: encodeAlert(a).toString('base64'),
            attributes: alertAttributes(a),
          }),
        )
        .join('\n'),
    );
    const moc = join(dir, 'field.moc');
    writeFileSync(moc, watchmapMoc(alerts));
    const where = "watchmap('field') AND diaSource.band IN ('g', 'r')";
    // The language's correctness is independent.test.ts's; here the command must print what the library matches.
    const filter = compileFilter(where, {
      watchmaps: new Map([['field', parseMoc(watchmapMoc(alerts))]]),
    });
    const expected = alerts.filter((a) => filter.matches(a)).map((a) => a.diaSourceId);
    assert.ok(expected.length > 0 && expected.length < alerts.length);
    for (const file of [avro, dump]) {
      const run = ap('--in', file, '--where', where, '--watchmap', `field=${moc}`);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(run.stdout.trim().split('\n').map(Number), expected);
    }
    const explain = ap('--explain', 'diaSource.snr > 5 and not diaSource.isDipole');
    assert.equal(explain.stdout, '((diaSource.snr > 5) AND (NOT diaSource.isDipole))\ncost 6\n');
    const bad = ap('--in', avro, '--where', 'diaSource.snr >> 5');
    assert.equal(bad.status, 2);
    assert.equal(
      bad.stderr,
      `ap filter: filter expression at column 16: expected a value, field or '(', found ">"\n`,
    );
    const unknown = ap('--in', avro, '--where', "watchlist('x')");
    assert.equal(unknown.status, 2);
    assert.match(
      unknown.stderr,
      /^ap filter: filter expression at column 11: unknown watchlist "x"\n$/,
    );
    const badCsv = join(dir, 'bad.csv');
    writeFileSync(badCsv, 'ra,dec\n1,2\n');
    const csv = ap('--in', avro, '--where', "watchlist('x')", '--watchlist', `x=${badCsv}`);
    assert.equal(csv.status, 2);
    assert.match(csv.stderr, /^ap filter: .*bad\.csv: line 1: header lacks column 'radius'.*\n$/);
    const missing = ap('--in', join(dir, 'nope.avro'), '--where', 'TRUE');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.avro: no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
