/**
 * `ap alerts` on damaged files and closed pipes: a truncated or empty alert file is an error
 * naming the byte offset (a streaming decoder stopped quietly where the bytes stopped), and a
 * reader that stops early (`| head -3`) ends the command quietly with exit 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeAlertContainer } from '../../shared/alerts/container.js';
import type { Alert } from '../../shared/alerts/types.js';
import { runScene } from './scene.js';

const AP = join(import.meta.dirname, '../../bin/ap.js');
const dir = mkdtempSync(join(tmpdir(), 'ap-alerts-cut-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function ap(...args: string[]) {
  return spawnSync(process.execPath, [AP, 'alerts', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
}

/** A container of `copies` x the scene's alerts (several deflate blocks of 64 KiB). */
async function container(copies: number): Promise<{ path: string; alerts: Alert[] }> {
  const { visits } = await runScene(2);
  const alerts = Array.from({ length: copies }, () => visits[1].alerts).flat();
  const path = join(dir, `alerts-${copies}.avro`);
  await writeAlertContainer(path, alerts);
  return { path, alerts };
}

test('a truncated or empty alert file is an error naming the byte offset', async () => {
  const { path, alerts } = await container(4);
  const whole = ap('--in', path);
  assert.equal(whole.status, 0, whole.stderr);
  assert.equal(whole.stdout.trim().split('\n').length, alerts.length);

  const bytes = readFileSync(path);
  const cuts = [3, 5000, Math.floor(bytes.length / 2), bytes.length - 1];
  for (const cut of cuts) {
    const prefix = join(dir, `cut-${cut}.avro`);
    writeFileSync(prefix, bytes.subarray(0, cut));
    const run = ap('--in', prefix);
    assert.equal(run.status, 2, `${cut} bytes: ${run.stderr}`);
    const lines = run.stderr.trim().split('\n');
    assert.equal(
      lines.at(-1),
      lines.find((l) => l.startsWith('ap alerts:')),
      'the error is the last line',
    );
    assert.match(lines.at(-1)!, new RegExp(`^ap alerts: ${prefix}: truncated at byte ${cut}: `));
  }

  const empty = join(dir, 'empty.avro');
  writeFileSync(empty, '');
  const run = ap('--in', empty);
  assert.equal(run.status, 2);
  assert.equal(
    run.stderr,
    `ap alerts: ${empty}: empty file (0 bytes): neither an Avro container file nor a Pub/Sub message dump\n`,
  );
});

test('a corrupted block is an error naming its byte offset', async () => {
  const { path } = await container(2);
  const bytes = readFileSync(path);
  bytes[bytes.length - 1] ^= 0xff; // the last sync marker
  const bad = join(dir, 'corrupt.avro');
  writeFileSync(bad, bytes);
  const run = ap('--in', bad);
  assert.equal(run.status, 2);
  assert.match(
    run.stderr,
    new RegExp(
      `ap alerts: ${bad}: corrupt at byte ${bytes.length - 16}: block \\d+'s sync marker differs from the header's\\n$`,
    ),
  );
});

test('ap alerts | head -3 ends quietly with exit 0', async () => {
  const { path } = await container(40);
  const run = spawnSync(
    'bash',
    ['-c', `set -o pipefail; "${process.execPath}" "${AP}" alerts --in "${path}" | head -3`],
    { encoding: 'utf8', maxBuffer: 1 << 28 },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim().split('\n').length, 3);
  assert.doesNotMatch(run.stderr, /EPIPE|Error|\n +at /);
});
