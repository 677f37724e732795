/**
 * The event-driven system end to end on the emulators, through the official clients: images into
 * the raw bucket, alerts out of topic `alerts`, decoded and counted against the simulator's truth;
 * a replayed image and a redelivered notification add no duplicate alert and leave the archive
 * unchanged; a corrupt image and a malformed next_visit are dead-lettered with their reason while
 * the night goes on; nextVisitHttp answers 400 / 200; and the user-filter expressions of
 * test/filter/cases.ts match on the night's archived alerts as test/filter/independent.py says.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { writeAlertContainer } from '../../shared/alerts/container.js';
import { decodeAlert } from '../../shared/alerts/wire.js';
import { readPreparedImage } from '../../shared/pipeline/prepared-io.js';
import { TOPICS } from '../../shared/cloud/names.js';
import { gridCamera } from '../../shared/prompt/camera.js';
import { processingKey, rawPath } from '../../shared/prompt/raw-path.js';
import { configHash, mjdTaiOf, pipelineConfig } from '../../shared/pipeline/index.js';
import { codeVersion } from '../../shared/util/version.js';
import { services } from '../../functions/context.js';
import { startBroker, type Broker } from '../../functions/night/broker.js';
import { startLocalCloud, type LocalCloud } from '../../functions/night/cloud.js';
import { scienceFigures } from '../../functions/night/metrics.js';
import {
  NightMonitor,
  playVisit,
  uploadTemplates,
  writeRaw,
  type PlayedImage,
  type PlayOptions,
} from '../../functions/night/play.js';
import { fetchArchived } from '../../functions/night/report.js';
import type { RenderedDetector } from '../../functions/night/render-worker.js';
import { crossCheck, skipWithoutOracle } from '../filter/cross-check.js';
import { planSky, pointing, renderSky, truthOf, type SkyPlan } from '../../functions/night/sky.js';

const SIZE = 512;
const BORESIGHT: [number, number] = [150.1, 2.2];
const STEP = { timeout: 240_000 };

describe('the night end to end on the emulators', { timeout: 600_000 }, () => {
  let cloud: LocalCloud;
  let broker: Broker;
  let plan: SkyPlan;
  let rendered: Map<number, RenderedDetector>;
  let scratch: string;
  const images: PlayedImage[] = [];
  const notifications: Message[] = [];
  let tap: Subscription | undefined;
  const lines: string[] = [];
  const options: PlayOptions = {
    instrument: 'APSIM',
    band: 'r',
    boresight: BORESIGHT,
    cadenceSeconds: 0,
    preloadWaitSeconds: 60,
    progress: (l) => lines.push(l),
  };

  const archived = async () => {
    const [files] = await cloud.buckets.alerts.getFiles({ prefix: 'v1/alerts/' });
    return files.map((f) => `${f.name}#${String(f.metadata.generation)}`).sort();
  };
  const finish = async (played: PlayedImage[]) => {
    const monitor = new NightMonitor(cloud, broker, (l) => lines.push(l));
    monitor.track(played);
    assert.ok(await monitor.drain(200_000), `images not done: ${lines.slice(-5).join(' | ')}`);
  };
  const replaysOf = (key: string) =>
    cloud.logs.entries.filter((e) => e.message === 'replayed image ignored' && e.key === key)
      .length;

  before(async () => {
    cloud = await startLocalCloud({
      camera: { detectorSize: SIZE },
      concurrency: { processImage: 1 },
      backoffSeconds: [0.5, 2],
    });
    scratch = await mkdtemp(join(tmpdir(), 'ap-e2e-'));
    plan = planSky(gridCamera('APSIM', SIZE, 14, 0.2), BORESIGHT, 'r', 1);
    rendered = await renderSky(plan, {
      size: SIZE,
      visits: 2,
      seed: 5,
      band: 'r',
      startMjd: mjdTaiOf(Date.now()),
      cadenceSeconds: 60,
      dir: scratch,
      parallel: 1,
    });
    broker = await startBroker(cloud.pubsub, 'e2e-broker');
    [tap] = await cloud.pubsub.topic(TOPICS.rawArrived).createSubscription('e2e-tap-raw-arrived');
    tap.on('message', (m: Message) => {
      notifications.push(m);
      m.ack();
    });
    await uploadTemplates(cloud, plan, rendered, 'r');
  });

  after(async () => {
    await tap?.close();
    await broker?.close();
    await cloud?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('turns raw images into decoded alerts that match the simulated changes', STEP, async () => {
    const played = await playVisit(cloud, plan, rendered, 0, 'e2e-visit-1', options);
    images.push(...played);
    await finish(played);
    const published = cloud.logs.entries.find(
      (e) => e.message === 'alerts published' && e.key === played[0].key,
    );
    const templateStage = cloud.logs.entries.find(
      (e) =>
        e.message === 'stage characterizeTemplate done' &&
        e.visit === played[0].visit &&
        e.detector === played[0].detector,
    );
    assert.equal(
      templateStage?.preloaded,
      true,
      'the template was not taken prepared from the preload',
    );
    const alerts = [...broker.alerts.values()];
    assert.ok(alerts.length > 0, 'no alerts reached the broker');
    assert.equal(alerts.length, Number(published?.alerts));
    assert.equal(broker.undecodable, 0);
    assert.equal(broker.duplicates, 0);
    for (const a of alerts)
      assert.deepEqual([a.visit, a.detector], [played[0].visit, played[0].detector]);
    // The processing record says which configuration and code made the result.
    const record = await services().records.get(played[0].key);
    assert.equal(record?.configHash, configHash(pipelineConfig()));
    assert.equal(record?.codeVersion, codeVersion());
    const figures = scienceFigures(alerts, truthOf(rendered));
    assert.ok(
      figures.completeness.found > 0 && figures.purity.real > 0,
      JSON.stringify(figures.completeness),
    );
    // The filtered subscription got exactly the bright positive alerts, decided on the server.
    const bright = alerts
      .filter((a) => a.snr !== null && a.snr >= 10)
      .map((a) => a.diaSourceId)
      .sort();
    assert.deepEqual([...broker.bright].sort(), bright);
    // Every alert is archived as published.
    assert.equal((await archived()).length, alerts.length);
    const first = await fetchArchived(cloud.archiveUrl, alerts[0].diaSourceId);
    assert.equal(String(first?.diaSourceId), alerts[0].diaSourceId);
  });

  it(
    'ignores a replayed image: the same object written again gives no duplicate alert',
    STEP,
    async () => {
      const [image] = images;
      const before = await archived();
      const count = broker.alerts.size;
      await writeRaw(
        cloud,
        image.objectName,
        await readFile(rendered.get(image.detector)!.visits[0].file),
      );
      await cloud.logs.waitFor(
        (e) => e.message === 'replayed image ignored' && e.key === image.key,
        120_000,
        'the replay to be ignored',
      );
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(broker.alerts.size, count);
      assert.equal(broker.duplicates, 0);
      assert.deepEqual(await archived(), before);
    },
  );

  it(
    'ignores a redelivered notification: the same raw-arrived message twice gives no duplicate alert',
    STEP,
    async () => {
      const [image] = images;
      const original = notifications.find((m) => m.attributes.objectId === image.objectName);
      assert.ok(original, 'the raw bucket sent no notification for the image');
      const before = await archived();
      const count = broker.alerts.size;
      const replays = replaysOf(image.key);
      const topic = cloud.pubsub.topic(TOPICS.rawArrived);
      for (let i = 0; i < 2; i++)
        await topic.publishMessage({ data: original.data, attributes: original.attributes });
      await cloud.logs.waitFor(
        () => replaysOf(image.key) >= replays + 2,
        120_000,
        'both redeliveries to be ignored',
      );
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(broker.alerts.size, count);
      assert.equal(broker.duplicates, 0);
      assert.deepEqual(await archived(), before);
    },
  );

  it('dead-letters a corrupt image with its reason, and the night goes on', STEP, async () => {
    const detector = plan.detectors[0].detector;
    const objectName = rawPath({ instrument: 'APSIM', groupId: 'e2e-corrupt', snap: 0, detector });
    await writeRaw(
      cloud,
      objectName,
      Buffer.from('SIMPLE  = garbage, not a FITS file at all'.padEnd(4000, '#')),
    );
    const played = await playVisit(cloud, plan, rendered, 1, 'e2e-visit-2', options);
    images.push(...played);
    await finish(played);
    const dead = cloud.deadLetters.find(
      (d) => d.topic === TOPICS.rawArrived && d.attributes.objectId === objectName,
    );
    assert.ok(dead, 'no dead letter for the corrupt image');
    assert.match(dead.attributes.reason, /FitsError/);
    assert.equal(dead.attributes.sourceTopic, TOPICS.rawArrived);
    const record = await cloud.logs.waitFor(
      (e) => e.message === 'dead-lettered' && String(e.reason).includes('FitsError'),
      1000,
    );
    assert.ok(record);
    const second = [...broker.alerts.values()].filter((a) => a.visit === played[0].visit);
    assert.ok(second.length > 0, 'the visit after the corrupt image gave no alerts');
    assert.equal(broker.duplicates, 0);
    assert.equal(
      processingKey({ instrument: 'APSIM', groupId: 'e2e-visit-2', detector }),
      played[0].key,
    );
  });

  it('dead-letters a malformed next_visit notice with its reason', STEP, async () => {
    await cloud.pubsub
      .topic(TOPICS.nextVisit)
      .publishMessage({ json: { instrument: 'APSIM', groupId: 'e2e-bad', position: 'north' } });
    const entry = await cloud.logs.waitFor(
      (e) => e.message === 'dead letter received' && e.topic === TOPICS.nextVisit,
      60_000,
      'the dead letter',
    );
    assert.match(String(entry.reason), /next_visit/);
    const dead = cloud.deadLetters.find((d) => d.topic === TOPICS.nextVisit)!;
    assert.equal(JSON.parse(dead.data.toString()).groupId, 'e2e-bad');
  });

  it('nextVisitHttp answers 400 to bad JSON and 200 with the preload summary', STEP, async () => {
    const server = getTestServer('nextVisitHttp');
    await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
    const url = `http://localhost:${(server.address() as AddressInfo).port}/`;
    try {
      const bad = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"groupId": ',
      });
      assert.equal(bad.status, 400);
      const incomplete = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"groupId": "g"}',
      });
      assert.equal(incomplete.status, 400);
      assert.match(((await incomplete.json()) as { error: string }).error, /next_visit/);
      const detector = plan.detectors[0].detector;
      const notice = pointing(BORESIGHT, 'r', [detector], 'e2e-http-1', 30);
      const ok = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(notice),
      });
      assert.equal(ok.status, 200);
      const summary = (await ok.json()) as {
        groupId: string;
        detectors: Array<{
          detector: number;
          template: string | null;
          templateFwhmPx: number | null;
          diaObjects: number;
        }>;
      };
      assert.equal(summary.groupId, 'e2e-http-1');
      assert.equal(summary.detectors.length, 1);
      assert.equal(summary.detectors[0].detector, detector);
      assert.match(String(summary.detectors[0].template), /^r\/hpx8-\d+\.fits$/);
      const [stored] = await cloud.buckets.work
        .file(`preload/e2e-http-1/${detector}/template.fits`)
        .download();
      const prepared = readPreparedImage(stored, 'preloaded template');
      assert.equal(
        prepared.psfFwhmPx,
        summary.detectors[0].templateFwhmPx,
        'the template is stored characterized, with its PSF',
      );
      assert.ok(prepared.psfFwhmPx > 1 && prepared.exposure.psf !== null);
      assert.ok(
        summary.detectors[0].diaObjects > 0,
        'the preload found none of the DIAObjects of the earlier visits',
      );
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it(
    "user filters over the night's alerts agree with an independent Python evaluation",
    { ...STEP, skip: skipWithoutOracle() },
    async () => {
      // The archive's alerts of both visits: the pipeline's measurements, history, cutouts.
      const [files] = await cloud.buckets.alerts.getFiles({ prefix: 'v1/alerts/' });
      const alerts = await Promise.all(
        files.map(async (f) => decodeAlert(gunzipSync((await f.download())[0]))),
      );
      assert.ok(
        alerts.some((a) => (a.prvDiaSources?.length ?? 0) > 0),
        'alerts with history',
      );
      const dir = await mkdtemp(join(tmpdir(), 'ap-e2e-filter-'));
      try {
        const file = join(dir, 'night.avro');
        await writeAlertContainer(file, alerts);
        const found = await crossCheck(dir, file, alerts);
        const matching = [...found.values()].filter((ids) => ids.length > 0).length;
        assert.ok(matching >= found.size / 2, `${matching} of ${found.size} expressions match`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
