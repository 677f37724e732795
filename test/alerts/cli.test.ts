import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAlertContainer } from '../../shared/alerts/container.js';
import { alertAttributes } from '../../shared/alerts/attributes.js';
import { encodeAlert } from '../../shared/alerts/wire.js';
import { runScene } from './scene.js';

const cli = new URL('../../cli/main.ts', import.meta.url).pathname;
const ap = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', cli, 'alerts', ...args], { encoding: 'utf8' });

test('ap alerts prints container files and Pub/Sub dumps as JSON lines, cutouts elided', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-alerts-'));
  try {
    const { visits } = await runScene(2);
    const alerts = visits[1].alerts;
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
        .join('\n') + '\n',
    );
    for (const file of [avro, dump]) {
      const run = ap('--in', file);
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              diaSourceId: number;
              cutoutScience: string;
              diaSource: { diaObjectId: number };
            },
        );
      assert.deepEqual(
        lines.map((l) => l.diaSourceId),
        alerts.map((a) => a.diaSourceId),
      );
      assert.match(lines[0].cutoutScience, /^<\d+ bytes FITS elided>$/);
      assert.equal(lines[0].diaSource.diaObjectId, alerts[0].diaSource.diaObjectId);
    }
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'hello\n');
    const run = ap('--in', bad);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /bad\.txt:1: neither an Avro container file nor JSON lines/);
    assert.equal(run.stderr.trim().split('\n').length, 1);
    assert.equal(ap('--in', join(dir, 'missing.avro')).status, 2);
    assert.equal(ap('--help').status, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
