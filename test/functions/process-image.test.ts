/**
 * processImage on the emulators, called as the trigger calls it: bad input of several kinds is
 * dead-lettered at once with `reason`, `stage` and `attempts` and the record ends `failed`;
 * transient failures are retried and then given up by the function itself (before the
 * subscription's maxDeliveryAttempts) with the reason; a different image under a claimed
 * (visit, detector) is refused, and a byte-identical copy under another raw path is a no-op; the
 * database unreachable for every delivery: the last one gives up itself, and its dead letter replays.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message, Subscription } from '@google-cloud/pubsub';
import type { RunningEmulators } from '../../emulators/main.js';
import {
  collect,
  givenUpOnRefusedConnections,
  startFunctionCloud,
  unreachableStorage,
  waitForLetter,
} from '../helpers/function-cloud.js';
import { setServices, type Services } from '../../functions/context.js';
import { processImage } from '../../functions/process-image.js';
import { ProcessingRecords } from '../../functions/processing-record.js';
import { FirestoreApdb } from '../../shared/adapters/firestore.js';
import { deadLetterTopic, TOPICS } from '../../shared/cloud/names.js';
import { FitsHeader, writeFits } from '../../shared/fits/index.js';
import { tileOf } from '../../shared/prompt/template-tiles.js';
import type { TemplateCandidate } from '../../shared/template/candidates.js';

let emulators: RunningEmulators;
let s: Services;
let dead: Subscription;
const letters: Message[] = [];
let offered: Subscription;
const offers: Message[] = [];
const candidates = () =>
  offers.map((m) => JSON.parse(m.data.toString('utf8')) as TemplateCandidate);

before(async () => {
  ({ emulators, s } = await startFunctionCloud('test-process-image', 'pi', [
    TOPICS.alertBatches,
    TOPICS.templateCandidates,
    deadLetterTopic(TOPICS.rawArrived),
  ]));
  offered = await collect(s, TOPICS.templateCandidates, 'watch-offered', offers);
  dead = await collect(s, deadLetterTopic(TOPICS.rawArrived), 'watch-dead', letters);
});

after(async () => {
  await dead?.close();
  await offered?.close();
  setServices(null);
  await s?.pubsub.close();
  await s?.firestore.terminate();
  await emulators?.stop();
});

const SIDE = 128;

/** Sky `fill` with deterministic noise (sigma 10) and nine Gaussian stars (sigma 1.5 px): enough to measure a PSF on. */
function starField(fill: number): Float32Array {
  const data = new Float32Array(SIDE * SIDE);
  let seed = 7;
  const uniform = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < data.length; i++)
    data[i] =
      fill + 10 * Math.sqrt(-2 * Math.log(uniform() + 1e-12)) * Math.cos(2 * Math.PI * uniform());
  for (let k = 0; k < 9; k++) {
    const cx = 24 + (k % 3) * 40 + 0.3 * k;
    const cy = 24 + Math.floor(k / 3) * 40 + 0.2 * k;
    for (let y = 0; y < SIDE; y++)
      for (let x = 0; x < SIDE; x++)
        data[y * SIDE + x] += 3000 * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 4.5);
  }
  return data;
}

/** A 128 x 128 star field with a TAN WCS of `scale` arcsec/px and the given cards. */
function image(
  cards: Record<string, string | number>,
  scale = 0.2,
  fill = 100,
  pixels = starField(fill),
): Buffer {
  const header = new FitsHeader()
    .set('CTYPE1', 'RA---TAN')
    .set('CTYPE2', 'DEC--TAN')
    .set('CRPIX1', SIDE / 2 + 0.5)
    .set('CRPIX2', SIDE / 2 + 0.5)
    .set('CRVAL1', 150)
    .set('CRVAL2', 2)
    .set('CD1_1', -scale / 3600)
    .set('CD1_2', 0)
    .set('CD2_1', 0)
    .set('CD2_2', scale / 3600)
    .set('MJD-OBS', 61000.1)
    .set('FILTER', 'r');
  for (const [k, v] of Object.entries(cards)) header.set(k, v);
  return Buffer.from(writeFits([{ data: pixels, width: SIDE, height: SIDE, header }]));
}

/** The file with one more card before END (our writer drops DATASUM, as it cannot know it). */
function withCard(bytes: Buffer, card: string): Buffer {
  let end = 0;
  while (bytes.subarray(end, end + 8).toString('latin1') !== 'END     ') end += 80;
  const out = Buffer.from(bytes);
  out.write(card.padEnd(80), end, 'latin1');
  out.write('END'.padEnd(80), end + 80, 'latin1');
  return out;
}

let eventId = 0;
/** Uploads bytes as a raw image and returns the finalize event the trigger would deliver. */
async function upload(name: string, bytes: Buffer): Promise<CloudEvent<unknown>> {
  const file = s.buckets.raw.file(name);
  await file.save(bytes);
  const [meta] = await file.getMetadata();
  const payload = {
    bucket: s.buckets.raw.name,
    name,
    generation: String(meta.generation),
    timeCreated: new Date().toISOString(),
    size: bytes.length,
  };
  const id = String(++eventId);
  return {
    specversion: '1.0',
    id,
    source: 'test',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: {
      message: {
        data: Buffer.from(JSON.stringify(payload)).toString('base64'),
        attributes: { eventType: 'OBJECT_FINALIZE', objectId: name, bucketId: s.buckets.raw.name },
        messageId: id,
      },
    },
  } as CloudEvent<unknown>;
}

const letterFor = (name: string) => waitForLetter(letters, (a) => a.objectId === name, name);

const keyOf = (name: string) =>
  name
    .replace(/\.fits$/, '')
    .split('/')
    .filter((_, i) => i !== 2)
    .join('_');

test('bad input of several kinds: one dead letter each, with reason, stage and attempts; the record ends failed', async () => {
  const cases: Array<[string, Buffer, string, RegExp]> = [
    [
      'APSIM/g-trunc/0/1.fits',
      image({ VISIT: 1, DETECTOR: 1 }).subarray(0, 4000),
      'read',
      /FitsError/,
    ],
    [
      'APSIM/g-abc/0/2.fits',
      image({ VISIT: 'abc', DETECTOR: 2 }),
      'read',
      /VISIT = "abc" is not a non-negative integer/,
    ],
    [
      'APSIM/g-cd0/0/3.fits',
      image({ VISIT: 3, DETECTOR: 3, CD1_1: 0, CD2_2: 0, CD1_2: 1e-12, CD2_1: 1e-12 }),
      'read',
      /pixel scale .* below/,
    ],
    [
      'APSIM/g-200/0/4.fits',
      image({ VISIT: 4, DETECTOR: 4 }, 200),
      'read',
      /pixel scale 200"\/px .* above 30/,
    ],
    [
      'APSIM/g-det/0/5.fits',
      image({ VISIT: 5, DETECTOR: 9 }),
      'identity',
      /header detector 9 differs from the raw path's detector 5/,
    ],
    [
      'APSIM/g-sum/0/9.fits',
      withCard(image({ VISIT: 9, DETECTOR: 9 }), "DATASUM = '12345'"),
      'read',
      /DATASUM "12345" does not match the data/,
    ],
  ];
  for (const [name, bytes, stage, reason] of cases) {
    await processImage(await upload(name, bytes));
    const a = await letterFor(name);
    assert.equal(a.stage, stage, name);
    assert.match(a.reason, reason, name);
    assert.equal(a.attempts, '1', name);
    assert.equal((await s.records.get(keyOf(name)))?.state, 'failed', name);
  }
});

test('a notification for an object no longer in the bucket is dead-lettered with one clean line naming it', async () => {
  const name = 'APSIM/g-gone/0/10.fits';
  const event = await upload(name, image({ VISIT: 10, DETECTOR: 10 }));
  await s.buckets.raw.file(name).delete();
  await processImage(event);
  const a = await letterFor(name);
  assert.equal(a.stage, 'download');
  assert.match(
    a.reason,
    /gs:\/\/[^ ]+\/APSIM\/g-gone\/0\/10\.fits: no such object in the raw bucket/,
  );
  assert.doesNotMatch(a.reason, /[{}\n]/, 'one line, not an HTTP body');
  assert.equal((await s.records.get(keyOf(name)))?.state, 'failed');
  // A notification that names another bucket (e.g. a misrouted one) is refused before any read.
  const stray = await upload('APSIM/g-stray/0/10.fits', image({ VISIT: 10, DETECTOR: 10 }));
  const m = (stray.data as { message: { data: string } }).message;
  m.data = Buffer.from(
    JSON.stringify({ bucket: 'other', name: 'APSIM/g-stray/0/10.fits' }),
  ).toString('base64');
  await processImage(stray);
  const b = await letterFor('APSIM/g-stray/0/10.fits');
  assert.equal(b.stage, 'decode');
  assert.match(b.reason, /notification for bucket 'other', not the raw bucket/);
});

test('a visit over a tile with no template makes no alerts and no dead letter: its record says no template and it is offered as a template candidate', async () => {
  const name = 'APSIM/g-notmpl/0/6.fits';
  await processImage(await upload(name, image({ VISIT: 6, DETECTOR: 6 })));
  const record = await s.records.get(keyOf(name));
  assert.equal(record?.state, 'noTemplate');
  assert.match(record?.error ?? '', /no template in band 'r' covers detector 6/);
  let offer: TemplateCandidate | undefined;
  for (let i = 0; i < 100 && !offer; i++) {
    offer = candidates().find((c) => c.name === name);
    if (!offer) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(offer?.outcome, 'no template');
  assert.equal(offer?.visit, 6);
  assert.equal(offer?.band, 'r');
  assert.ok(offer?.tiles.includes(tileOf(150, 2)), 'the tile under the image');
  // Each tile's overlap: the image is centred in tile tileOf(150, 2), which holds most of it.
  const own = offer!.overlaps[offer!.tiles.indexOf(tileOf(150, 2))];
  assert.ok(own === Math.max(...offer!.overlaps) && own > 0.5, `${offer?.overlaps.join(' ')}`);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!letters.some((l) => l.attributes.objectId === name), 'no dead letter');
});

test('an image that no template covers is still screened: blank pixels or no band are dead-lettered, not parked as no template', async () => {
  const cases: Array<[string, Buffer, RegExp]> = [
    [
      'APSIM/g-blank/0/11.fits',
      image({ VISIT: 11, DETECTOR: 11 }, 0.2, 0, new Float32Array(SIDE * SIDE)),
      /no star to measure its PSF on/,
    ],
    ['APSIM/g-noband/0/12.fits', image({ VISIT: 12, DETECTOR: 12, FILTER: '' }), /band unknown/],
  ];
  for (const [name, bytes, reason] of cases) {
    await processImage(await upload(name, bytes));
    const a = await letterFor(name);
    assert.equal(a.stage, 'screen', name);
    assert.match(a.reason, reason, name);
    assert.equal((await s.records.get(keyOf(name)))?.state, 'failed', name);
  }
});

test('a different image under a claimed (visit, detector) is refused; a copy of the same bytes is a no-op', async () => {
  const first = image({ VISIT: 70, DETECTOR: 7 });
  await processImage(await upload('APSIM/g-a/0/7.fits', first)); // claims (70, 7), then finds no template
  assert.equal((await s.records.get('APSIM_g-a_7'))?.state, 'noTemplate');
  await processImage(
    await upload('APSIM/g-b/0/7.fits', image({ VISIT: 70, DETECTOR: 7 }, 0.2, 101)),
  );
  const refused = await letterFor('APSIM/g-b/0/7.fits');
  assert.equal(refused.stage, 'identity');
  assert.match(refused.reason, /visit 70 detector 7 already holds a different image \(APSIM_g-a_7/);
  const before = letters.length;
  await processImage(await upload('APSIM/g-c/0/7.fits', first));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(letters.length, before, 'a copy is not dead-lettered');
  assert.match((await s.records.get('APSIM_g-c_7'))?.error ?? '', /copy of APSIM_g-a_7/);
});

test('transient failures are retried, then given up by the function before the subscription would, with the reason', async () => {
  const name = 'APSIM/g-net/0/8.fits';
  const event = await upload(name, image({ VISIT: 80, DETECTOR: 8 }));
  // The raw bucket behind a closed port: every download is a connection refused.
  const down = unreachableStorage(s.config.projectId);
  const a = await givenUpOnRefusedConnections(
    s,
    { ...s, buckets: { ...s.buckets, raw: down.bucket(s.buckets.raw.name) } },
    processImage,
    event,
    () => letterFor(name),
  );
  assert.equal(a.stage, 'download');
  assert.equal((await s.records.get('APSIM_g-net_8'))?.state, 'failed');
});

test('the database unreachable for the whole delivery budget: the last delivery gives up itself with the reason, and the dead letter replays the image once it is back', async () => {
  const name = 'APSIM/g-nodb/0/10.fits';
  const event = await upload(name, image({ VISIT: 100, DETECTOR: 10 }));
  // The database does not answer (a partition drops every packet): its calls settle only when the outage ends.
  let end!: () => void;
  const outage = new Promise<never>((_, reject) => {
    end = () => reject(Object.assign(new Error('14 UNAVAILABLE: outage over'), { code: 14 }));
  });
  outage.catch(() => undefined);
  const db = new Proxy(s.firestore, {
    get: (o, p) => (p === 'runTransaction' ? () => outage : Reflect.get(o, p)),
  });
  const broken: Services = {
    ...s,
    config: { ...s.config, deadlineSeconds: 2 },
    firestore: db,
    records: new ProcessingRecords(db),
    apdb: new FirestoreApdb(db),
  };
  // Pub/Sub's 5th delivery (beyond the function's maxAttempts): before, it threw, and the subscription dead-lettered it without a reason.
  const last = event as CloudEvent<{ deliveryAttempt?: number }>;
  last.data = { ...last.data!, deliveryAttempt: s.config.maxAttempts + 1 };
  setServices(broken);
  try {
    await processImage(last);
  } finally {
    setServices(s);
    end();
  }
  const a = await letterFor(name);
  assert.match(a.reason, /^gave up after 5 deliveries: DeadlineError: .*in stage begin/);
  assert.deepEqual([a.stage, a.attempts, a.retryable], ['begin', '5', 'true']);
  // The operator's replay: the dead letter republished as it is, the database back.
  const letter = letters.find((l) => l.attributes.objectId === name)!;
  await processImage({
    ...event,
    id: 'replay',
    data: {
      message: {
        data: letter.data.toString('base64'),
        attributes: letter.attributes,
        messageId: 'replay',
      },
    },
  });
  assert.equal((await s.records.get(keyOf(name)))?.state, 'noTemplate', 'processed by the replay');
});

test("a redelivery after an instance was killed mid-attempt waits for the attempt's lease to lapse and takes the image over", async () => {
  const name = 'APSIM/g-killed/0/9.fits';
  const event = await upload(name, image({ VISIT: 9, DETECTOR: 9 }));
  const [meta] = await s.buckets.raw.file(name).getMetadata();
  // The killed attempt took the record with a short lease and, dead, never renewed it.
  const killed = await s.records.begin(
    keyOf(name),
    s.config.maxAttempts,
    String(meta.generation),
    1,
  );
  assert.equal(killed.action, 'process');
  const lease = s.config.leaseSeconds;
  s.config.leaseSeconds = 3;
  try {
    // Before: 'busy' until the lease ran out, every redelivery, until the subscription gave up without a reason.
    await processImage(event);
  } finally {
    s.config.leaseSeconds = lease;
  }
  const record = await s.records.get(keyOf(name));
  assert.equal(record?.state, 'noTemplate', 'processed by the redelivery');
  assert.equal(record?.attempts, 2);
});
