import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import {
  AlertArchive,
  ArchiveConflictError,
  LocalFolderStore,
} from '../../shared/alerts/archive.js';
import { createArchiveHandler } from '../../shared/alerts/archive-http.js';
import { loadAlertSchema } from '../../shared/alerts/schema.js';
import { encodeAlert, decodeAlert } from '../../shared/alerts/wire.js';
import { buildAlerts } from '../../shared/alerts/build.js';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import { associateVisit, detectorFootprint } from '../../shared/association/associate.js';
import { makeSky, observe } from '../association/sky.js';
import { SIZE, cutoutSources, sceneWcs } from './scene.js';

/** Every file under a folder with its bytes, to compare folder states. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out.set(name, readFileSync(path).toString('base64'));
  }
  return out;
}

test('publishing then replaying visits leaves the APDB files and the archive unchanged', async () => {
  const root = mkdtempSync(join(tmpdir(), 'replay-'));
  try {
    const wcs = sceneWcs();
    const footprint = detectorFootprint(wcs, SIZE, SIZE);
    const sky = makeSky(21, 12, 5, 2)
      .filter((s) => footprint.contains(s.ra, s.dec))
      .map((s, k) => ({ ...s, truthId: k }));
    const visits = observe(sky, 3, 22);
    for (const v of visits) {
      for (const r of v.records) {
        const p = wcs.skyToPixel({ ra: Float64Array.of(r.ra), dec: Float64Array.of(r.dec) });
        [r.x, r.y] = [p.x[0], p.y[0]];
      }
    }
    const archive = new AlertArchive(new LocalFolderStore(join(root, 'bucket')));
    assert.equal(await archive.putSchema(loadAlertSchema()), true);
    assert.equal(await archive.putSchema(loadAlertSchema()), false);

    const process = async (
      v: (typeof visits)[number],
    ): Promise<{ stored: boolean; created: number; duplicates: number; ids: number[] }> => {
      const apdb = await EmbeddedApdb.open(join(root, 'apdb'));
      const result = await associateVisit(apdb, {
        visit: v.info,
        records: v.records,
        footprint,
        timeProcessedMjdTai: v.info.mjd + 0.01,
      });
      const alerts = buildAlerts({ association: result, cutouts: cutoutSources(v.info.zeroPoint) });
      let created = 0;
      for (const a of alerts) if (await archive.putAlert(a.diaSourceId, encodeAlert(a))) created++;
      const stored = await apdb.storeVisit(result.batch);
      return {
        stored,
        created,
        duplicates: alerts.length - created,
        ids: alerts.map((a) => a.diaSourceId),
      };
    };
    const first = [];
    for (const v of visits) first.push(await process(v));
    assert.ok(first.every((r) => r.stored && r.duplicates === 0 && r.created > 0));
    const before = snapshot(root);

    const replay = await process(visits[1]);
    assert.equal(replay.stored, false, 'APDB refuses the stored (visit, detector)');
    assert.equal(replay.created, 0, 'every replayed alert is a detected duplicate');
    assert.deepEqual(replay.ids, first[1].ids, 'a replay yields the same ids');
    assert.deepEqual(snapshot(root), before);

    const reopened = await EmbeddedApdb.open(join(root, 'apdb'));
    assert.equal(await reopened.hasVisit(visits[2].info.visit, 7), true);

    const id = first[2].ids[0];
    const frame = await archive.getAlert(id);
    assert.ok(frame);
    assert.equal(decodeAlert(frame).diaSourceId, id);
    assert.deepEqual(await archive.store.list('v1/schemas/'), ['v1/schemas/101.json']);
    assert.equal(
      (await archive.store.list('v1/alerts/')).length,
      first.reduce((n, r) => n + r.created, 0),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a create-only archive write that finds a different alert under the id is an error, the same alert a no-op', async () => {
  const root = mkdtempSync(join(tmpdir(), 'archive-conflict-'));
  try {
    const archive = new AlertArchive(new LocalFolderStore(root));
    const frame = Buffer.from([0, 0, 0, 0, 100, 1, 2, 3]);
    assert.equal(await archive.putAlertChecked(7, frame), 'created');
    assert.equal(await archive.putAlertChecked(7, frame), 'same');
    await assert.rejects(
      archive.putAlertChecked(7, Buffer.from([0, 0, 0, 0, 100, 9])),
      (e: Error) => e instanceof ArchiveConflictError && /diaSourceId 7/.test(e.message),
    );
    assert.deepEqual(await archive.getAlert(7), frame, 'the archived alert is untouched');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the archive HTTP handler answers a failing store with a fixed 500 body and logs the cause', async () => {
  const causes: unknown[] = [];
  const failing = {
    putIfAbsent: async () => false,
    list: async () => [],
    get: async () => Promise.reject(new Error('secret internal detail /srv/x')),
  };
  const handler = createArchiveHandler(failing, (err) => causes.push(err));
  const headers: Record<string, string | number> = {};
  let body = '';
  const res = {
    statusCode: 0,
    setHeader: (n: string, v: string | number) => (headers[n] = v),
    end: (b?: string | Buffer) => (body = String(b)),
  };
  await handler({ method: 'GET', url: '/v1/alerts/42', headers: {} }, res);
  assert.equal(res.statusCode, 500);
  assert.equal(body, 'archive read failed\n');
  assert.equal(headers['X-Content-Type-Options'], 'nosniff');
  assert.equal(causes.length, 1);
});

test('the archive HTTP handler serves alerts and schemas', async () => {
  const root = mkdtempSync(join(tmpdir(), 'archive-http-'));
  const store = new LocalFolderStore(root);
  const archive = new AlertArchive(store);
  await archive.putSchema(loadAlertSchema());
  const frame = Buffer.from([0, 0, 0, 0, 100, 1, 2, 3]);
  await archive.putAlert(42, frame);
  const handler = createArchiveHandler(store);
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}${path}`, { headers });
  try {
    const plain = await get('/v1/alerts/42', { 'accept-encoding': 'identity' });
    assert.equal(plain.status, 200);
    assert.deepEqual(Buffer.from(await plain.arrayBuffer()), frame);
    const gz = await get('/v1/alerts/42');
    assert.equal(gz.status, 200);
    assert.deepEqual(
      Buffer.from(await gz.arrayBuffer()),
      frame,
      'fetch decodes Content-Encoding: gzip',
    );
    const schema = await get('/v1/schemas/101');
    assert.equal(schema.status, 200);
    assert.equal(await schema.text(), loadAlertSchema().text);
    assert.equal((await get('/v1/alerts/43')).status, 404);
    const long = `${'<script>'.repeat(900)}`;
    const bad = await get(`/v1/alerts/${long}`);
    assert.equal(bad.status, 400);
    const badBody = await bad.text();
    assert.ok(
      badBody.length < 80 && !badBody.includes('script'),
      `short fixed body, no echo: ${badBody.slice(0, 100)}`,
    );
    assert.equal(bad.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(plain.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(
      (await fetch(`http://127.0.0.1:${port}/v1/alerts/42`, { method: 'POST' })).status,
      405,
    );
    assert.deepEqual(gunzipSync(readFileSync(join(root, 'v1', 'alerts', '42.avro.gz'))), frame);
  } finally {
    server.close();
    rmSync(root, { recursive: true, force: true });
  }
});
