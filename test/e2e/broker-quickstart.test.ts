/**
 * docs/broker-quickstart.md works as written: its Node snippet, run as a separate process with the
 * official Pub/Sub client and avsc, subscribes with its filter, decodes the alerts with the schema
 * from the archive and fetches one back; its Python decoding snippet reads the same frames with
 * Debian's python3-avro.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { alertAttributes } from '../../shared/alerts/attributes.js';
import { AlertArchive } from '../../shared/alerts/archive.js';
import type { Alert } from '../../shared/alerts/types.js';
import { encodeAlert } from '../../shared/alerts/wire.js';
import { GcsObjectStore } from '../../shared/adapters/storage.js';
import { TOPICS } from '../../shared/cloud/names.js';
import { startLocalCloud, type LocalCloud } from '../../functions/night/cloud.js';
import { pythonWith, skipWithout } from '../helpers/python.js';
import { runScene } from '../alerts/scene.js';

const DOC = new URL('../../docs/broker-quickstart.md', import.meta.url);

/** The fenced code blocks of a language in the quickstart, in order. */
function snippets(language: string): string[] {
  const text = readFileSync(DOC, 'utf8');
  return [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map(
    (m) => m[1],
  );
}

describe('broker quickstart', { timeout: 240_000 }, () => {
  let cloud: LocalCloud;
  let alerts: Alert[];

  before(async () => {
    cloud = await startLocalCloud({
      concurrency: { nextVisit: 1, processImage: 1, alertFanout: 1 },
    });
    alerts = (await runScene(3)).visits.flatMap((v) => v.alerts);
  });
  after(async () => cloud?.stop());

  it('the Node snippet subscribes with its filter, decodes and fetches from the archive', async () => {
    const [code] = snippets('js');
    // Inside the repository, so that its imports resolve to this project's node_modules.
    const file = new URL(`./.quickstart-${process.pid}.mjs`, import.meta.url);
    await writeFile(file, code);
    const bright = alerts.filter((a) => (a.diaSource.snr ?? 0) >= 20);
    assert.ok(bright.length >= 3 && bright.length < alerts.length);
    try {
      const child = spawn(process.execPath, [file.pathname], {
        env: {
          ...process.env,
          ...cloud.env,
          AP_ARCHIVE_URL: cloud.archiveUrl,
          AP_MAX_ALERTS: String(bright.length),
          AP_SUBSCRIPTION: 'quickstart-node',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const listening = new Promise<void>((resolve) =>
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('listening on')) resolve();
        }),
      );
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await Promise.race([listening, exited]);
      assert.ok(out.includes('listening on'), `the snippet did not start: ${err}`);
      const archive = new AlertArchive(new GcsObjectStore(cloud.buckets.alerts));
      const topic = cloud.pubsub.topic(TOPICS.alerts);
      for (const alert of alerts) {
        const frame = encodeAlert(alert);
        await topic.publishMessage({ data: frame, attributes: alertAttributes(alert) });
        await archive.putAlert(alert.diaSourceId, frame);
      }
      assert.equal(await exited, 0, err);
      const decoded = out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map(
          (l) =>
            JSON.parse(l) as {
              diaSourceId: number;
              snr: number;
              snrBin: string;
              cutoutBytes: number;
            },
        );
      assert.deepEqual(
        decoded.map((d) => d.diaSourceId).sort(),
        bright.map((a) => a.diaSourceId).sort(),
      );
      for (const d of decoded) {
        const a = bright.find((b) => b.diaSourceId === d.diaSourceId)!;
        // snr is an Avro float.
        assert.equal(d.snr, Math.fround(a.diaSource.snr!));
        assert.ok(Number(d.snrBin) >= 20 && d.cutoutBytes > 0);
      }
      assert.match(out, /archive: alert \d+ fetched back, same SNR true/);
    } finally {
      await rm(file, { force: true });
    }
  });

  it(
    'the Python snippet decodes frames with the schema from the archive',
    { skip: skipWithout('avro') },
    async () => {
      const [decoding] = snippets('python');
      const alert = alerts[0];
      const frame = encodeAlert(alert);
      await new AlertArchive(new GcsObjectStore(cloud.buckets.alerts)).putAlert(
        alert.diaSourceId,
        frame,
      );
      const check = `
import sys, os
os.environ["AP_ARCHIVE_URL"] = sys.argv[1]
${decoding}
a = decode_alert(sys.stdin.buffer.read())
b = fetch_archived(a["diaSourceId"])
print(a["diaSourceId"], a["diaSource"]["snr"], b["diaSource"]["snr"], len(a["cutoutDifference"] or b""))
`;
      // Asynchronously: the archive it calls is served by this very process.
      const python = spawn(pythonWith('avro')!, ['-c', check, cloud.archiveUrl], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      python.stdout.on('data', (d: Buffer) => (out += d.toString()));
      python.stderr.on('data', (d: Buffer) => (err += d.toString()));
      python.stdin.end(frame);
      assert.equal(await new Promise((resolve) => python.once('exit', resolve)), 0, err);
      const [id, snr, archivedSnr, cutout] = out.trim().split(' ');
      assert.equal(Number(id), alert.diaSourceId);
      assert.equal(Number(snr), Math.fround(alert.diaSource.snr!));
      assert.equal(archivedSnr, snr);
      assert.ok(Number(cutout) > 0);
    },
  );
});
