/**
 * A broker's night, scripted as docs/broker-quickstart.md tells it: `npm run emulators` up (it
 * creates the topics and buckets), the quickstart consumer (verbatim from the doc) creates its
 * subscription before the night, `npm start -- --keep` plays one small visit on those emulators and
 * keeps the archive up, and the consumer then receives every filtered alert of the night exactly
 * once after de-duplication and fetches one back from the archive. Free ports stand in for the
 * fixed ones (through the *_EMULATOR_HOST variables and --archive-port), so that the test does
 * not collide with a night running on the machine.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

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
          '1',
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

      night.child.kill('SIGINT');
      assert.equal(await night.exited, 0, night.io.err.slice(-2000));
    } finally {
      rmSync(consumerFile, { force: true });
      emulators.child.kill('SIGTERM');
      await emulators.exited;
    }
  });
});
