/**
 * templateBuilder and templateApi on the emulators, called as the trigger and an operator call
 * them, on simulated 512^2 template-input visits (shared/sim/template-inputs.ts): malformed
 * candidates are dead-lettered with the reason; a redelivered candidate is recorded once; a sliver of
 * a visit on a tile makes no candidate; a candidate making tiles due requests one build each, each
 * delivered on its own; a tile waits (with the reason) while too few inputs are usable, then is
 * built from the first usable three and frozen; a redelivered build request and later visits do
 * not change it; a release makes the next version
 * (a new TMPLID, the first kept), and processImage's alerts carry the TMPLID they were
 * differenced against.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudEvent, Request, Response } from '@google-cloud/functions-framework';
import type { Message, Subscription } from '@google-cloud/pubsub';
import type { RunningEmulators } from '../../emulators/main.js';
import { collect, startFunctionCloud, waitForLetter } from '../helpers/function-cloud.js';
import { setServices, type Services } from '../../functions/context.js';
import { processImage } from '../../functions/process-image.js';
import { resultKey } from '../../functions/stored-result.js';
import { resetTemplateApi, templateApi } from '../../functions/template-api.js';
import {
  minCandidatesFromEnv,
  minTileOverlapFromEnv,
  templateBuilder,
  templateTiles,
  versionKey,
  vettingKey,
} from '../../functions/template-builder.js';
import { decodeResult } from '../../functions/stored-result.js';
import { decodeAlert } from '../../shared/alerts/wire.js';
import { deadLetterTopic, TOPICS } from '../../shared/cloud/names.js';
import { readExposureWithHeader } from '../../shared/fits/index.js';
import { templateKey, tileOf } from '../../shared/prompt/template-tiles.js';
import { renderImage } from '../../shared/sim/night.js';
import { planTemplateInputs } from '../../shared/sim/template-inputs.js';
import { simulatedImageFits } from '../../shared/sim/write.js';
import {
  DEFAULT_MIN_TILE_OVERLAP,
  tileOverlaps,
  type BuildRequest,
  type TemplateCandidate,
} from '../../shared/template/candidates.js';
import type { LocalCloud } from '../../functions/night/cloud.js';
import { templateFigures } from '../../functions/night/templates.js';

const SIZE = 512;
let emulators: RunningEmulators;
let s: Services;
let dead: Subscription;
let requested: Subscription;
const letters: Message[] = [];
/** Everything published on template-candidates: here, templateBuilder's build requests. */
const requests: Message[] = [];
// Seeing 3-3.6 px: every input passes the cuts (maxFwhmRatio), so the counts below are the candidates'.
const set = planTemplateInputs(
  { size: SIZE, seed: 7, fwhmRangePx: [3, 3.6] },
  { inputs: 4, later: 1 },
);
const centre = set.inputs[0].wcs.pixelToSky({
  x: Float64Array.of((SIZE - 1) / 2),
  y: Float64Array.of((SIZE - 1) / 2),
});
const TILE = tileOf(centre.ra[0], centre.dec[0]);
const BAND = set.plan.config.band;
/** The band of the tests of candidates and requests alone (no input is of it). */
const OTHER = 'g';
const TOKEN = 'operator-token-0123456789';

before(async () => {
  const tokens = join(mkdtempSync(join(tmpdir(), 'tmpl-')), 'tokens.json');
  writeFileSync(tokens, JSON.stringify({ [TOKEN]: 'ops@example.org' }));
  process.env.AP_TEMPLATE_TOKENS = tokens;
  process.env.AP_TEMPLATE_OPERATORS = 'ops@example.org';
  resetTemplateApi();
  ({ emulators, s } = await startFunctionCloud('test-template-builder', 'tb', [
    TOPICS.alertBatches,
    TOPICS.templateCandidates,
    deadLetterTopic(TOPICS.templateCandidates),
    deadLetterTopic(TOPICS.rawArrived),
  ]));
  dead = await collect(s, deadLetterTopic(TOPICS.templateCandidates), 'watch-dead', letters);
  requested = await collect(s, TOPICS.templateCandidates, 'watch-requests', requests);
  // Inputs 1-4 and the later visit in the raw bucket, as the camera wrote them.
  for (const [k, spec] of [...set.inputs, ...set.later].entries()) {
    const plan = k < set.inputs.length ? set.inputPlan(k) : set.laterPlan;
    const bytes = simulatedImageFits(renderImage(plan, spec).image, {
      seed: 7,
      fwhmPx: spec.psf.fwhmAt(SIZE / 2, SIZE / 2),
      skyAdu: spec.skyAdu,
    });
    await s.buckets.raw.file(rawName(spec.visit)).save(Buffer.from(bytes));
  }
});

after(async () => {
  await dead?.close();
  await requested?.close();
  setServices(null);
  await s?.pubsub.close();
  await s?.firestore.terminate();
  await emulators?.stop();
});

const DETECTOR = set.plan.config.detector;
const rawName = (visit: number) => `APSIM/v${visit}/0/${DETECTOR}.fits`;

function candidate(visit: number, change: Partial<TemplateCandidate> = {}): TemplateCandidate {
  return {
    name: rawName(visit),
    generation: '1',
    key: `APSIM_v${visit}_${DETECTOR}`,
    visit,
    detector: DETECTOR,
    band: BAND,
    mjd: 61000 + visit,
    tiles: [TILE],
    overlaps: [1],
    outcome: 'processed',
    ...change,
  };
}

let eventId = 0;
function event(
  data: Buffer | object,
  attributes: Record<string, string> = {},
): CloudEvent<unknown> {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(JSON.stringify(data));
  const id = String(++eventId);
  return {
    specversion: '1.0',
    id,
    source: 'test',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: { message: { data: bytes.toString('base64'), attributes, messageId: id } },
  } as CloudEvent<unknown>;
}

let taken = 0;
/**
 * The build requests published since the last call, exactly `count` of them (none more arrives
 * within a short wait): each as the event that delivers it and the tile it names.
 */
async function newRequests(
  count: number,
): Promise<Array<{ delivery: CloudEvent<unknown>; request: BuildRequest }>> {
  for (let i = 0; i < 100 && requests.length < taken + count; i++)
    await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  const batch = requests.slice(taken);
  taken = requests.length;
  assert.equal(batch.length, count, `build requests: ${batch.map((m) => m.data).join(', ')}`);
  return batch.map((m) => {
    assert.equal(m.attributes.kind, 'build');
    return {
      delivery: event(m.data, m.attributes),
      request: JSON.parse(m.data.toString('utf8')) as BuildRequest,
    };
  });
}

/** Delivers the one build request the last candidate made. */
async function deliverBuild(): Promise<CloudEvent<unknown>> {
  const [{ delivery }] = await newRequests(1);
  await templateBuilder(delivery);
  return delivery;
}

const letter = (messageId: string) =>
  waitForLetter(letters, (a) => a.sourceMessageId === messageId, `message ${messageId}`);

async function call(
  method: string,
  path: string,
  token = TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  let status = 0;
  let body: Record<string, unknown> = {};
  const req = {
    method,
    path,
    url: path,
    query: {},
    get: (h: string) => (h.toLowerCase() === 'authorization' ? `Bearer ${token}` : undefined),
  } as unknown as Request;
  const res = {
    status(code: number) {
      status = code;
      return this;
    },
    json(value: Record<string, unknown>) {
      body = value;
      return this;
    },
  } as unknown as Response;
  await templateApi(req, res);
  return { status, body };
}

const liveTemplate = async () =>
  (await s.buckets.templates.file(templateKey(BAND, TILE)).download())[0];

test('AP_TEMPLATE_MIN_CANDIDATES: a build waits for that many candidates, never fewer than minInputs; a bad value names the variable', () => {
  const env = (value: string) => ({ AP_TEMPLATE_MIN_CANDIDATES: value });
  assert.equal(minCandidatesFromEnv(3, {}), 3);
  assert.equal(minCandidatesFromEnv(3, env('8')), 8);
  assert.equal(minCandidatesFromEnv(3, env('1')), 3);
  for (const bad of ['x', '-1', '2.5'])
    assert.throws(
      () => minCandidatesFromEnv(3, env(bad)),
      new RegExp(`AP_TEMPLATE_MIN_CANDIDATES: '${bad}' is not a non-negative integer`),
    );
});

test('AP_TEMPLATE_MIN_TILE_OVERLAP: the smallest overlap of a candidate, default DEFAULT_MIN_TILE_OVERLAP; a bad value names the variable', () => {
  assert.equal(minTileOverlapFromEnv({}), DEFAULT_MIN_TILE_OVERLAP);
  assert.equal(minTileOverlapFromEnv({ AP_TEMPLATE_MIN_TILE_OVERLAP: '0.5' }), 0.5);
  for (const bad of ['x', '-0.1', '1.5'])
    assert.throws(
      () => minTileOverlapFromEnv({ AP_TEMPLATE_MIN_TILE_OVERLAP: bad }),
      new RegExp(`AP_TEMPLATE_MIN_TILE_OVERLAP: '${bad}' is not a number in \\[0, 1\\]`),
    );
});

test('tileOverlaps: a detector wholly in a tile overlaps it fully, however small; its neighbours get nothing', () => {
  const overlaps = tileOverlaps({ wcs: set.inputs[0].wcs, width: SIZE, height: SIZE } as never);
  const own = overlaps.find((o) => o.tile === TILE);
  assert.ok(own && own.overlap > 0.99, JSON.stringify(overlaps));
  // 512 px at 0.2"/px cover ~2 % of the ~0.23 deg tile: the share of the image, not of the tile, counts.
  for (const o of overlaps) if (o.tile !== TILE) assert.ok(o.overlap < 0.01, JSON.stringify(o));
});

test('malformed candidates are dead-lettered with the reason; nothing is recorded', async () => {
  const cases: Array<[Buffer | object, RegExp]> = [
    [Buffer.from('{not json'), /payload is not JSON/],
    [candidate(1, { tiles: [-1] }), /tiles \[-1\] is not 1-1024 tile numbers/],
    [candidate(1, { band: '' }), /band "" is not a non-empty string/],
    [{ ...candidate(1), visit: 'one' }, /visit "one" is not a non-negative integer/],
    [candidate(1, { overlaps: [1, 1] }), /overlaps \[1,1\] is not one number in \[0, 1\] per tile/],
  ];
  for (const [data, reason] of cases) {
    const e = event(data);
    await templateBuilder(e);
    const a = await letter(e.id);
    assert.match(a.reason, reason);
    assert.equal(a.stage, 'decode');
  }
  assert.equal(await templateTiles(s).get(BAND, TILE), null);
  const bad = event({ band: BAND, tile: -1 }, { kind: 'build' });
  await templateBuilder(bad);
  assert.match((await letter(bad.id)).reason, /build request .*: tile -1 is not a tile number/);
  const odd = event(candidate(1), { kind: 'rebuild' });
  await templateBuilder(odd);
  assert.match((await letter(odd.id)).reason, /attribute kind 'rebuild' is not 'build'/);
});

test('a sliver of a visit on a tile makes no candidate there; the tile it lies mostly in counts it', async () => {
  // Band OTHER: the tile sequence below counts the tiles of its band.
  const [sliver, mostly] = [TILE + 10, TILE + 11];
  await templateBuilder(
    event(candidate(1, { band: OTHER, tiles: [sliver, mostly], overlaps: [0.05, 0.9] })),
  );
  assert.equal(await templateTiles(s).get(OTHER, sliver), null, 'no candidate on the sliver');
  assert.equal((await templateTiles(s).get(OTHER, mostly))?.candidates, 1);
  await newRequests(0);
});

test('a candidate making 3 tiles due requests 3 builds, each delivery building one tile; a redelivered request builds nothing', async () => {
  const three = [TILE + 20, TILE + 21, TILE + 22];
  const tiles = templateTiles(s);
  for (const visit of [1, 2]) {
    await templateBuilder(
      event(candidate(visit, { band: OTHER, tiles: three, overlaps: [1, 1, 1] })),
    );
    await newRequests(0);
  }
  await templateBuilder(event(candidate(3, { band: OTHER, tiles: three, overlaps: [1, 1, 1] })));
  const due = await newRequests(3);
  assert.deepEqual(
    due.map((d) => d.request).sort((a, b) => a.tile - b.tile),
    three.map((tile) => ({ band: OTHER, tile })),
  );
  const tried = async () =>
    Promise.all(three.map(async (t) => (await tiles.get(OTHER, t))!.triedAt));
  assert.deepEqual(await tried(), [0, 0, 0], 'the candidate delivery built nothing');
  // A build holding a tile: its request is retried later (a transient error, the message nacked).
  const held = due[0].request.tile;
  await tiles.claimBuild(OTHER, held, 3, 60);
  await assert.rejects(
    templateBuilder(due[0].delivery),
    /BusyError|being processed by another delivery/,
  );
  await tiles.release(OTHER, held, 'test: lease given back');
  for (const [k, { delivery, request }] of due.entries()) {
    await templateBuilder(delivery);
    // Inputs of another band: each build finds no usable input and waits, one tile a delivery.
    const record = await tiles.get(OTHER, request.tile);
    assert.match(record?.reason ?? '', /not enough inputs: 0 usable of 3/);
    assert.equal((await tried()).filter((t) => t === 3).length, k + 1);
  }
  const before = await tiles.get(OTHER, held);
  await templateBuilder(due[0].delivery); // redelivery
  assert.equal((await tiles.get(OTHER, held))?.updatedAt, before?.updatedAt, 'nothing built again');
  await newRequests(0);
});

test('a tile waits with the reason while too few inputs are usable; a redelivered candidate is one record', async () => {
  await templateBuilder(event(candidate(1)));
  await templateBuilder(event(candidate(1))); // redelivery
  await templateBuilder(event(candidate(99))); // its image is not in the raw bucket
  let tile = await templateTiles(s).get(BAND, TILE);
  assert.equal(tile?.candidates, 2, 'visit 1 twice is one record');
  await templateBuilder(event(candidate(2)));
  await deliverBuild();
  tile = await templateTiles(s).get(BAND, TILE);
  assert.equal(tile?.state, 'collecting');
  assert.equal(tile?.triedAt, 3);
  assert.match(tile?.reason ?? '', /not enough inputs: 2 usable of 3, at least 3 needed/);
  assert.deepEqual(
    tile?.rejected.filter((r) => r.reason !== ''),
    [{ file: rawName(99), reason: 'raw image no longer in the raw bucket' }],
  );
  assert.equal((await s.buckets.templates.file(templateKey(BAND, TILE)).exists())[0], false);
  // The night report counts a collecting tile as a tile without a template.
  const waiting = await templateFigures({ buckets: s.buckets } as LocalCloud, BAND, [TILE], null);
  assert.deepEqual([waiting.tiles[0].state, waiting.bands[0].frozen], ['collecting', 0]);
});

test('the third usable candidate builds the tile and freezes it; later visits do not change it', async () => {
  await templateBuilder(event(candidate(3)));
  const request = await deliverBuild();
  const frozen = await templateTiles(s).get(BAND, TILE);
  assert.equal(frozen?.state, 'frozen');
  assert.equal(frozen?.version, 1);
  assert.equal(frozen?.nUsed, 3);
  assert.match(frozen?.tmplId ?? '', new RegExp(`^${BAND}-hpx8-${TILE}-v1-[0-9a-f]{10}$`));
  assert.ok(frozen!.fillFactor > 0 && frozen!.fillFactor < 1, `fill ${frozen?.fillFactor}`);
  const v1 = await liveTemplate();
  assert.equal(readExposureWithHeader(v1, 'v1').exposure.info.templateVersion, frozen?.tmplId);
  assert.ok((await s.buckets.templates.file(vettingKey(BAND, TILE, 1)).exists())[0]);
  await templateBuilder(request); // redelivered: the tile is frozen, nothing is built
  assert.deepEqual(await templateTiles(s).get(BAND, TILE), frozen);
  assert.equal((await s.buckets.templates.file(versionKey(BAND, TILE, 2)).exists())[0], false);
  await templateBuilder(event(candidate(4)));
  await templateBuilder(event(candidate(4, { outcome: 'no template', generation: '2' })));
  const after = await templateTiles(s).get(BAND, TILE);
  assert.equal(after?.candidates, 6);
  await newRequests(0);
  assert.equal(after?.tmplId, frozen?.tmplId);
  assert.ok((await liveTemplate()).equals(v1), 'the frozen template is unchanged');
});

test('a release makes the next version with a new TMPLID, and alerts say which template they used', async () => {
  assert.equal(
    (await call('POST', `/v1/templates/${BAND}/${TILE}/release`, 'wrong-token-12345')).status,
    401,
  );
  const before = await templateTiles(s).get(BAND, TILE);
  const r = await call('POST', `/v1/templates/${BAND}/${TILE}/release`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.version, 2);
  assert.match(String(r.body.tmplId), new RegExp(`^${BAND}-hpx8-${TILE}-v2-`));
  assert.notEqual(r.body.tmplId, before?.tmplId);
  const v2 = await liveTemplate();
  assert.equal(readExposureWithHeader(v2, 'v2').exposure.info.templateVersion, r.body.tmplId);
  const v1 = (await s.buckets.templates.file(versionKey(BAND, TILE, 1)).download())[0];
  assert.equal(readExposureWithHeader(v1, 'v1').exposure.info.templateVersion, before?.tmplId);
  const listed = await call('GET', '/v1/templates');
  assert.deepEqual(
    (listed.body.bands as Array<{ band: string }>).find((b) => b.band === BAND),
    { band: BAND, tiles: 1, frozen: 1, fillFactor: r.body.fillFactor },
  );

  // The later visit, processed as it arrives: its DIASources and alerts name v2.
  const later = set.later[0].visit;
  const file = s.buckets.raw.file(rawName(later));
  const [meta] = await file.getMetadata();
  const payload = {
    bucket: s.buckets.raw.name,
    name: rawName(later),
    generation: String(meta.generation),
    timeCreated: new Date().toISOString(),
  };
  await processImage(event(payload));
  const key = `APSIM_v${later}_${DETECTOR}`;
  assert.equal(
    (await s.records.get(key))?.state,
    'stored',
    (await s.records.get(key))?.error ?? '',
  );
  const stored = decodeResult((await s.work.get(resultKey(key)))!);
  assert.ok(stored.alerts.length > 0, 'the later visit has transients');
  for (const a of stored.alerts)
    assert.equal(decodeAlert(a.frame).diaSource.templateVersion, r.body.tmplId);
  for (const d of stored.batch.diaSources) assert.equal(d.templateVersion, r.body.tmplId);

  // The night report's templates section reads the same records (and a template uploaded directly).
  await s.buckets.templates.file(templateKey(BAND, TILE + 1)).save(v1);
  const figures = await templateFigures(
    { buckets: s.buckets } as LocalCloud,
    BAND,
    [TILE, TILE + 1, TILE + 2],
    null,
  );
  assert.deepEqual(
    figures.tiles.map((t) => [t.state, t.tmplId]),
    [
      ['frozen', r.body.tmplId],
      ['uploaded', before?.tmplId],
      ['none', null],
    ],
  );
  assert.equal(figures.tiles[0].fillFactor, r.body.fillFactor);
  // Tile TILE's template filed under the next tile covers at most the margin it spills over.
  assert.ok(
    figures.tiles[1].fillFactor < Number(r.body.fillFactor),
    `${figures.tiles[1].fillFactor}`,
  );
  assert.equal(figures.bands[0].tiles, 3);
  assert.equal(figures.bands[0].frozen, 2);
});
