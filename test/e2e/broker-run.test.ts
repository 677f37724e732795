/**
 * A broker's night, scripted as docs/broker-quickstart.md tells it, and its report in a browser.
 *
 * The night: `npm run emulators` up (it
 * creates the topics and buckets), the quickstart consumer (verbatim from the doc) creates its
 * subscription before the night, `npm start -- --keep` plays one small visit on those emulators and
 * keeps the archive up, and the consumer then receives every filtered alert of the night exactly
 * once after de-duplication and fetches one back from the archive. Free ports stand in for the
 * fixed ones (through the *_EMULATOR_HOST variables and --archive-port), so that the test does
 * not collide with a night running on the machine.
 *
 * The report: Debian's chromium, driven by playwright-core (no browser download), opens the
 * night's index.html from disk, which draws its plots, and a click on an alert whose object was
 * detected twice renders that alert's light curve and cutouts. AP_REPORT_SCREENSHOT=FILE saves a
 * screenshot of the page (docs/night-report/interactive.png was made so).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chromium } from 'playwright-core';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOC = join(ROOT, 'docs/broker-quickstart.md');
const SUBSCRIPTION = 'broker-run-bright';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A child process with its output collected; `waitFor` resolves when stdout matches. */
function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const io = { out: '', err: '' };
  child.stdout.on('data', (d: Buffer) => (io.out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (io.err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const waitFor = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (pattern.test(io.out) ? resolve() : undefined);
      child.stdout.on('data', check);
      void exited.then(() =>
        pattern.test(io.out)
          ? resolve()
          : reject(new Error(`exited before ${pattern}: ${io.err.slice(-2000)}`)),
      );
      check();
    });
  return { child, io, exited, waitFor };
}

/** Debian's chromium, headless, without network or updates. */
const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
  ],
};

async function checkReportInBrowser(page: string): Promise<void> {
  const browser = await chromium.launch(CHROMIUM);
  try {
    const tab = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    tab.on('pageerror', (e) => errors.push(e.message));
    await tab.goto(`file://${page}`);
    // Completeness, reliability, sky map and latency: each an SVG plot with its ticks.
    assert.equal(await tab.locator('.grid .plot svg').count(), 4);
    assert.ok((await tab.locator('#sky circle').count()) > 0, 'the sky map has the alerts');
    assert.match((await tab.locator('#detectors').textContent()) ?? '', /completeness/);
    // An alert of an object detected in both visits (the table lists those first): its light curve has both points.
    const row = tab.locator('#alerts tr[data-id]').first();
    assert.equal(
      await row.locator('td').nth(1).textContent(),
      '2',
      'the first row is an object seen twice',
    );
    const id = await row.getAttribute('data-id');
    await row.click();
    assert.equal(await tab.locator('#d-id').textContent(), id);
    assert.equal(
      await tab.locator('#lightcurve circle').count(),
      2,
      'two detections on the light curve',
    );
    assert.equal(await tab.locator('#d-cutout img').count(), 1, 'its cutouts');
    assert.match((await tab.locator('#d-cutout svg').textContent()) ?? '', /N.*E/);
    // Zoom: a dragged box re-ticks the axes; a double click restores them.
    const sky = tab.locator('#sky svg');
    await sky.scrollIntoViewIfNeeded();
    const ticksBefore = await sky.locator('text').allTextContents();
    const box = (await sky.boundingBox())!;
    await tab.mouse.move(box.x + 150, box.y + 80);
    await tab.mouse.down();
    await tab.mouse.move(box.x + 400, box.y + 250, { steps: 5 });
    await tab.mouse.up();
    assert.notDeepEqual(await sky.locator('text').allTextContents(), ticksBefore, 'zoomed axes');
    await sky.dblclick({ position: { x: 300, y: 150 } });
    assert.deepEqual(await sky.locator('text').allTextContents(), ticksBefore, 'reset');
    assert.deepEqual(errors, []);
    if (process.env.AP_REPORT_SCREENSHOT) {
      await tab.evaluate(() => window.scrollTo(0, 0));
      await tab.screenshot({ path: process.env.AP_REPORT_SCREENSHOT, fullPage: true });
    }
  } finally {
    await browser.close();
  }
}

const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'ap-broker-run-'));
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('a broker on npm start', { timeout: 600_000 }, () => {
  it('subscribes before the night and receives every filtered alert once, and one from the archive', async () => {
    const [pubsub, storage, firestore, archive] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const env = {
      PUBSUB_EMULATOR_HOST: `localhost:${pubsub}`,
      STORAGE_EMULATOR_HOST: `http://localhost:${storage}`,
      FIRESTORE_EMULATOR_HOST: `localhost:${firestore}`,
      GOOGLE_CLOUD_PROJECT: 'ap-local',
    };
    const emulators = run(['--import', 'tsx', 'emulators/main.ts'], env);
    children.push(emulators.child);
    await emulators.waitFor(/export GOOGLE_CLOUD_PROJECT=ap-local/);

    // The consumer, verbatim from the doc, inside the repository so its imports resolve.
    const code = [...readFileSync(DOC, 'utf8').matchAll(/```js\n([\s\S]*?)```/g)][0][1];
    const consumerFile = join(ROOT, 'test/e2e', `.broker-run-${process.pid}.mjs`);
    writeFileSync(consumerFile, code);
    try {
      const consumerEnv = {
        ...env,
        AP_ARCHIVE_URL: `http://localhost:${archive}`,
        AP_SUBSCRIPTION: SUBSCRIPTION,
      };
      // First the subscription: the consumer creates it and, with nothing published yet, goes idle.
      const subscribe = run([consumerFile], { ...consumerEnv, AP_IDLE_SECONDS: '1' });
      assert.equal(await subscribe.exited, 0, subscribe.io.err);
      assert.match(subscribe.io.out, /done: 0 alerts/);

      const out = join(dir, 'night');
      const night = run(
        [
          '--import',
          'tsx',
          'functions/night/main.ts',
          '--visits',
          '2',
          '--detectors',
          '1',
          '--size',
          '512',
          '--cadence',
          '0',
          '--out',
          out,
          '--archive-port',
          String(archive),
          '--keep',
        ],
        env,
      );
      children.push(night.child);
      await night.waitFor(/kept up until interrupted/);
      assert.match(night.io.err, /emulators: reusing those running on/);
      assert.match(
        night.io.out,
        /^before the real\/bogus cut: completeness \d+\/\d+ = [\d.]+ at \|SNR\| >= 6; purity \d+\/\d+ = [\d.]+/m,
      );
      assert.match(
        night.io.out,
        /^after the real\/bogus cut \(reliability >= [\d.]+\): completeness [\d.]+; purity [\d.]+$/m,
      );

      // The consumer's filter: snrBin 20 and above, i.e. SNR >= 20.
      const rows = readFileSync(join(out, 'alerts.csv'), 'utf8').trim().split('\n');
      const header = rows[0].split(',');
      const [idCol, snrCol] = [header.indexOf('diaSourceId'), header.indexOf('snr')];
      const expected = rows
        .slice(1)
        .map((r) => r.split(','))
        .filter((r) => Number(r[snrCol]) >= 20)
        .map((r) => Number(r[idCol]));
      assert.ok(expected.length > 0, 'the night has bright alerts');

      const consume = run([consumerFile], {
        ...consumerEnv,
        AP_MAX_ALERTS: String(expected.length),
        AP_IDLE_SECONDS: '60',
      });
      assert.equal(await consume.exited, 0, consume.io.err);
      const received = consume.io.out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { diaSourceId: number }).diaSourceId);
      assert.deepEqual(
        [...received].sort(),
        [...expected].sort(),
        'every filtered alert, each once',
      );
      assert.match(consume.io.out, /archive: alert \d+ fetched back, same SNR true/);
      const skipped = Number(/(\d+) repeated deliveries skipped/.exec(consume.io.out)?.[1]);
      process.stdout.write(
        `# broker run: ${received.length} filtered alerts, ${skipped} repeated deliveries skipped\n`,
      );

      // The night's user filters (functions/night/filters.ts): each stream got exactly its
      // filter's matches, unaltered, and the report shows them.
      const filterLines = night.io.out.split('\n').filter((l) => l.startsWith('filter '));
      assert.equal(filterLines.length, 8, night.io.out.slice(-3000));
      for (const line of filterLines) assert.match(line, /, 0 altered\), exactly those$/);
      const outcomes = JSON.parse(readFileSync(join(out, 'filters.json'), 'utf8')) as Array<{
        matched: number;
      }>;
      assert.ok(
        outcomes.some((f) => f.matched > 0),
        'some example filter matches the visit',
      );
      assert.match(readFileSync(join(out, 'index.html'), 'utf8'), /<h2>User filters<\/h2>/);

      await checkReportInBrowser(join(out, 'index.html'));

      night.child.kill('SIGINT');
      assert.equal(await night.exited, 0, night.io.err.slice(-2000));
    } finally {
      rmSync(consumerFile, { force: true });
      emulators.child.kill('SIGTERM');
      await emulators.exited;
    }
  });
});
