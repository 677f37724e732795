/**
 * docs/broker-quickstart.md works as written: its Node consumer, run as a separate process with
 * the official Pub/Sub client and avsc, subscribes with its filter, takes alerts delivered in
 * batches and re-sent exactly once each (de-duplicated by diaSourceId), fetches one back from the
 * archive, runs a second time on the same subscription, and stops when Pub/Sub goes away; its
 * Python decoding snippet reads the same frames with Debian's python3-avro.
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
import { PubSub } from '@google-cloud/pubsub';
import { startEmulators } from '../../emulators/main.js';
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

  /** Runs the doc's Node consumer (written inside the repository so its imports resolve). */
  function consumer(env: Record<string, string>) {
    const child = spawn(process.execPath, [file.pathname], {
      env: {
        ...process.env,
        ...cloud.env,
        AP_ARCHIVE_URL: cloud.archiveUrl,
        AP_SUBSCRIPTION: 'quickstart-node',
        ...env,
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
    return {
      started: Promise.race([listening, exited]).then(() =>
        assert.ok(out.includes('listening on'), `the consumer did not start: ${err}`),
      ),
      exited: exited.then((code) => ({ code, out, err })),
    };
  }
  const file = new URL(`./.quickstart-${process.pid}.mjs`, import.meta.url);
  const decodedLines = (out: string) =>
    out
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

  it('the Node consumer takes alerts in batches once each, fetches one from the archive, and runs again', async () => {
    await writeFile(file, snippets('js')[0]);
    const bright = alerts.filter((a) => (a.diaSource.snr ?? 0) >= 20);
    assert.ok(bright.length >= 3 && bright.length < alerts.length);
    try {
      const first = consumer({ AP_MAX_ALERTS: String(bright.length) });
      await first.started;
      // All at once, through the client's publish batching, and a third of them twice (as a
      // retried fan-out re-sends): the consumer gets them in batches and must count each once.
      const archive = new AlertArchive(new GcsObjectStore(cloud.buckets.alerts));
      await Promise.all(alerts.map((a) => archive.putAlert(a.diaSourceId, encodeAlert(a))));
      const topic = cloud.pubsub.topic(TOPICS.alerts, {
        batching: { maxMessages: 50, maxMilliseconds: 50 },
      });
      const resent = alerts.filter((_, i) => i % 3 === 0);
      await Promise.all(
        [...alerts, ...resent].map((a) =>
          topic.publishMessage({ data: encodeAlert(a), attributes: alertAttributes(a) }),
        ),
      );
      const run1 = await first.exited;
      assert.equal(run1.code, 0, run1.err);
      const decoded = decodedLines(run1.out);
      assert.deepEqual(
        decoded.map((d) => d.diaSourceId).sort(),
        bright.map((a) => a.diaSourceId).sort(),
        'each filtered alert exactly once',
      );
      for (const d of decoded) {
        const a = bright.find((b) => b.diaSourceId === d.diaSourceId)!;
        assert.equal(d.snr, Math.fround(a.diaSource.snr!)); // snr is an Avro float
        assert.ok(Number(d.snrBin) >= 20 && d.cutoutBytes > 0);
      }
      assert.equal(
        run1.out.match(/archive: alert \d+ fetched back, same SNR true/g)?.length,
        1,
        run1.out,
      );
      assert.match(
        run1.out,
        new RegExp(`done: ${bright.length} alerts, \\d+ repeated deliveries skipped`),
      );

      // A second run reuses the subscription (no ALREADY_EXISTS) and gets only what is new.
      const second = consumer({ AP_IDLE_SECONDS: '3' });
      await second.started;
      const late = bright[0];
      await topic.publishMessage({ data: encodeAlert(late), attributes: alertAttributes(late) });
      const run2 = await second.exited;
      assert.equal(run2.code, 0, run2.err);
      assert.deepEqual(
        decodedLines(run2.out).map((d) => d.diaSourceId),
        [late.diaSourceId],
      );
      assert.match(run2.out, /archive: alert \d+ fetched back, same SNR true/);
    } finally {
      await rm(file, { force: true });
    }
  });

  it('the Node consumer stops with a message when Pub/Sub goes away instead of hanging', async () => {
    await writeFile(file, snippets('js')[0]);
    const gone = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
    try {
      const pubsub = new PubSub({ projectId: cloud.projectId, apiEndpoint: gone.pubsubHost });
      await pubsub.createTopic(TOPICS.alerts);
      await pubsub.close();
      const run = consumer({ PUBSUB_EMULATOR_HOST: gone.pubsubHost });
      await run.started;
      await gone.stop();
      const { code, err } = await run.exited;
      assert.equal(code, 1);
      assert.match(err, /Pub\/Sub does not answer|subscription quickstart-node: /);
    } finally {
      await gone.stop().catch(() => {});
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
