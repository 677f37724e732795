/**
 * templateBuilder after a killed instance (the fault campaign's kills, bench/fault-kills.ts), on
 * the emulators and simulated 512^2 template-input visits: a build whose instance died after
 * claiming the tile is taken over by the next delivery within one lease (AP_LEASE_SECONDS), and a
 * build that died after writing its version object is published as that object, never built a
 * second time from other inputs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Bucket } from '@google-cloud/storage';
import type { RunningEmulators } from '../../emulators/main.js';
import { startFunctionCloud } from '../helpers/function-cloud.js';
import { createServices, setServices, type Services } from '../../functions/context.js';
import {
  buildTile,
  templateBuilder,
  templateConfigFromEnv,
  templateTiles,
  versionKey,
} from '../../functions/template-builder.js';
import { TOPICS } from '../../shared/cloud/names.js';
import { readExposureWithHeader } from '../../shared/fits/index.js';
import { templateKey, tileOf } from '../../shared/prompt/template-tiles.js';
import { renderImage } from '../../shared/sim/night.js';
import { planTemplateInputs } from '../../shared/sim/template-inputs.js';
import { simulatedImageFits } from '../../shared/sim/write.js';
import { BUILD_KIND, type TemplateCandidate } from '../../shared/template/candidates.js';
import {
  buildTemplate,
  templateInputFromBytes,
  templateToFits,
  type TemplateInput,
} from '../../shared/template/index.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';

const SIZE = 512;
const LEASE_SECONDS = 2;
let emulators: RunningEmulators;
let s: Services;
const set = planTemplateInputs(
  { size: SIZE, seed: 7, fwhmRangePx: [3, 3.6] },
  { inputs: 4, later: 0 },
);
const centre = set.inputs[0].wcs.pixelToSky({
  x: Float64Array.of((SIZE - 1) / 2),
  y: Float64Array.of((SIZE - 1) / 2),
});
const TILE = tileOf(centre.ra[0], centre.dec[0]);
const BAND = set.plan.config.band;
const DETECTOR = set.plan.config.detector;
const rawName = (visit: number) => `APSIM/v${visit}/0/${DETECTOR}.fits`;
const visits = set.inputs.map((spec) => spec.visit);

before(async () => {
  process.env.AP_LEASE_SECONDS = String(LEASE_SECONDS);
  ({ emulators, s } = await startFunctionCloud('test-template-crash', 'tc', [
    TOPICS.templateCandidates,
  ]));
  for (const [k, spec] of set.inputs.entries()) {
    const bytes = simulatedImageFits(renderImage(set.inputPlan(k), spec).image, {
      seed: 7,
      fwhmPx: spec.psf.fwhmAt(SIZE / 2, SIZE / 2),
      skyAdu: spec.skyAdu,
    });
    await s.buckets.raw.file(rawName(spec.visit)).save(Buffer.from(bytes));
  }
});

after(async () => {
  delete process.env.AP_LEASE_SECONDS;
  setServices(null);
  await s?.pubsub.close();
  await s?.firestore.terminate();
  await emulators?.stop();
});

function candidate(visit: number): TemplateCandidate {
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
    outcome: 'no template',
  };
}

/** The tile's build request as templateBuilder publishes it (functions/template-builder.ts requestBuild). */
function buildRequest(): CloudEvent<unknown> {
  const data = Buffer.from(JSON.stringify({ band: BAND, tile: TILE })).toString('base64');
  const attributes = { kind: BUILD_KIND, band: BAND, tile: String(TILE) };
  return {
    specversion: '1.0',
    id: `build-${Date.now()}`,
    source: 'test',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: { message: { data, attributes, messageId: `build-${Date.now()}` } },
  } as CloudEvent<unknown>;
}

const download = async (key: string) => (await s.buckets.templates.file(key).download())[0];

test('a build whose instance died after claiming the tile is taken over by the next delivery within one lease', async () => {
  for (const v of visits.slice(0, 3)) await templateTiles(s).record(candidate(v), TILE, 1);
  // The dying instance: its own clients; it claims the build, stops in its first raw read and is
  // killed there: from then on none of its database calls lands (its lease is no longer renewed).
  const dying = createServices(s.config);
  let reached!: () => void;
  const inRead = new Promise<void>((resolve) => (reached = resolve));
  let kill!: () => void;
  const killed = new Promise<never>((_, reject) => (kill = () => reject(new Error('killed'))));
  killed.catch(() => undefined);
  let dead = false;
  const stuck = () => (reached(), killed);
  const raw = new Proxy(dying.buckets.raw, {
    get: (o, p) => (p === 'file' ? () => ({ exists: stuck, download: stuck }) : Reflect.get(o, p)),
  }) as Bucket;
  const firestore = new Proxy(dying.firestore, {
    get(o, p) {
      const v = Reflect.get(o, p) as unknown;
      if (p === 'runTransaction')
        return (...args: unknown[]) =>
          dead ? killed : (v as (...a: unknown[]) => unknown).apply(o, args);
      return typeof v === 'function' ? (v as () => unknown).bind(o) : v;
    },
  });
  const dyingBuild = buildTile(
    { ...dying, firestore, buckets: { ...dying.buckets, raw } },
    BAND,
    TILE,
  ).catch((err: Error) => err);
  await inRead;
  dead = true;
  await templateBuilder(buildRequest()); // the killed delivery, redelivered
  const tile = await templateTiles(s).get(BAND, TILE);
  assert.equal(tile?.state, 'frozen', `tile ${tile?.state}, lease until ${tile?.leaseUntil}`);
  assert.equal(tile?.version, 1);
  assert.equal(tile?.nUsed, 3);
  assert.equal(tile?.leaseUntil, null);
  kill();
  assert.ok((await dyingBuild) instanceof Error);
  await Promise.all([dying.pubsub.close(), dying.firestore.terminate()]);
});

test('a build that died after writing its version object is published as that object, never built again from other inputs', async () => {
  // A release killed after its version 2 object (from inputs 1-3); candidate 4 came since.
  await templateTiles(s).record(candidate(visits[3]), TILE, 1);
  const inputs: TemplateInput[] = [];
  for (const v of visits.slice(0, 3)) {
    const read = templateInputFromBytes(
      (await s.buckets.raw.file(rawName(v)).download())[0],
      rawName(v),
    );
    if ('exposure' in read) inputs.push(read);
  }
  const built = await buildTemplate(inputs, {
    tile: TILE,
    band: BAND,
    config: templateConfigFromEnv(),
    version: 2,
    unreadable: [],
    pool: WorkerPool.shared(),
  });
  const v2 = Buffer.from(templateToFits(built));
  await s.buckets.templates.file(versionKey(BAND, TILE, 2)).save(v2);
  const outcome = await buildTile(s, BAND, TILE, true); // the operator's release, again
  assert.equal(outcome.status, 'frozen');
  const tile = await templateTiles(s).get(BAND, TILE);
  assert.equal(tile?.version, 2);
  assert.equal(tile?.tmplId, built.tmplId);
  assert.ok((await download(templateKey(BAND, TILE))).equals(v2), 'template object == version 2');
  assert.ok((await download(versionKey(BAND, TILE, 2))).equals(v2));
  assert.equal(
    readExposureWithHeader(v2, 'v2').exposure.info.templateVersion,
    built.tmplId,
    'the version object is the build of inputs 1-3',
  );
});
