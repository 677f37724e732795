/**
 * `npm run bench -- faults`: the fault campaign of the reliability issue, reproducible by anyone,
 * on the project's emulators in this process (loopback only), through processImage as the trigger
 * calls it. Malformed raw images and events of >= 40 kinds, each in several variants, plus
 * concurrent first deliveries and replays of them; for each kind it prints how many inputs were
 * dead-lettered with a `reason` and `stage`, the slowest time to the dead letter, hangs (no
 * answer within HANG_SECONDS) and crashes (a throw out of the handler, i.e. a retry loop).
 * Bounded: every input has its own time limit and the campaign stops after its fixed list.
 *
 * Then its parts, each also run alone by name: `fault-mix.ts` (good images interleaved with all
 * these inputs through the whole local system: the good ones' latency against a run without bad
 * inputs, the time to each dead letter) and `fault-kills.ts` (SIGKILLs of the emulator process,
 * Firestore cuts within and beyond the client's retry budget, function instances killed at each
 * stage of a small visit).
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message } from '@google-cloud/pubsub';
import { startEmulators } from '../emulators/main.js';
import { killExperiments } from './fault-kills.js';
import { mixExperiment } from './fault-mix.js';
import { createServices, setServices, type Services } from '../functions/context.js';
import { processImage } from '../functions/process-image.js';
import { deadLetterTopic, TOPICS } from '../shared/cloud/names.js';
import { kinds, type Input } from './fault-inputs.js';

/** An input counts as hung when neither a dead letter nor an error came within this time. */
const HANG_SECONDS = 60;
/** Variants of each kind (different visits, detectors and pixel seeds); AP_FAULT_VARIANTS overrides. */
const VARIANTS = Number(process.env.AP_FAULT_VARIANTS ?? 12);

let eventId = 0;

async function eventFor(s: Services, input: Input): Promise<CloudEvent<unknown>> {
  const id = `fault-${++eventId}`;
  if (input.noMessage)
    return {
      specversion: '1.0',
      id,
      source: 'faults',
      type: 'google.cloud.pubsub.topic.v1.messagePublished',
      data: {},
    } as CloudEvent<unknown>;
  let generation = '1';
  if (input.bytes) {
    const file = s.buckets.raw.file(input.name);
    await file.save(input.bytes, { resumable: false });
    generation = String((await file.getMetadata())[0].generation);
  }
  const payload =
    input.payload ??
    JSON.stringify({
      bucket: s.buckets.raw.name,
      name: input.name,
      generation,
      timeCreated: new Date().toISOString(),
      size: input.bytes?.length ?? 0,
    });
  const message = {
    data: Buffer.from(payload).toString('base64'),
    attributes: { eventType: 'OBJECT_FINALIZE', eventId: id },
    messageId: id,
  };
  return {
    specversion: '1.0',
    id,
    source: 'faults',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    data: { message },
  } as CloudEvent<unknown>;
}

interface Outcome {
  letters: number;
  withReason: number;
  hung: boolean;
  threw: boolean;
  seconds: number;
}

async function deliver(
  s: Services,
  input: Input,
  letters: Map<string, Message[]>,
  copies = 1,
): Promise<Outcome> {
  const event = await eventFor(s, input);
  const started = performance.now();
  let threw = false;
  const calls = Array.from({ length: copies }, () =>
    processImage(event).catch(() => {
      threw = true;
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  const hung = await Promise.race([
    Promise.all(calls).then(() => false),
    new Promise<boolean>(
      (resolve) => (timer = setTimeout(() => resolve(true), HANG_SECONDS * 1000)),
    ),
  ]);
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  // Dead letters arrive through a subscription: wait briefly for them (a busy delivery throws, as it should).
  const id = String(event.id);
  for (let i = 0; i < 40 && (letters.get(id)?.length ?? 0) === 0 && !threw; i++)
    await new Promise((r) => setTimeout(r, 25));
  const got = letters.get(id) ?? [];
  return {
    letters: got.length,
    withReason: got.filter((m) => m.attributes.reason && m.attributes.stage).length,
    hung,
    threw,
    seconds,
  };
}

export async function run(): Promise<void> {
  const emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
  Object.assign(process.env, emulators.env);
  const s = createServices({
    ...createServices().config,
    projectId: 'faults',
    bucketPrefix: 'faults',
  });
  setServices(s);
  const letters = new Map<string, Message[]>();
  try {
    for (const bucket of Object.values(s.buckets)) await bucket.create();
    for (const topic of [TOPICS.alertBatches, deadLetterTopic(TOPICS.rawArrived)])
      await s.pubsub.createTopic(topic);
    const [sub] = await s.pubsub
      .topic(deadLetterTopic(TOPICS.rawArrived))
      .createSubscription('faults-watch');
    sub.on('message', (m: Message) => {
      const id = m.attributes.eventId ?? m.attributes.sourceMessageId;
      letters.set(id, [...(letters.get(id) ?? []), m]);
      m.ack();
    });
    const table = kinds();
    console.log(
      `| kind | inputs | dead-lettered with reason and stage | extra dead letters | hung (> ${HANG_SECONDS} s) | thrown (retried) | slowest s | stage of the first |`,
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    const totals = { inputs: 0, ok: 0, extra: 0, hung: 0, threw: 0, slowest: 0 };
    for (const [k, [kind, make]] of Object.entries(table).entries()) {
      const row = { inputs: 0, ok: 0, extra: 0, hung: 0, threw: 0, slowest: 0, stage: '' };
      for (let v = 0; v < VARIANTS; v++) {
        // Each kind and variant its own visit, so that no two claim one (visit, detector).
        const input = make(100 * k + v + 1);
        const o = await deliver(s, input, letters);
        row.inputs++;
        row.ok += o.withReason > 0 && !o.hung && !o.threw ? 1 : 0;
        row.extra += Math.max(0, o.letters - 1);
        row.hung += o.hung ? 1 : 0;
        row.threw += o.threw ? 1 : 0;
        row.slowest = Math.max(row.slowest, o.seconds);
        row.stage ||= letters.get(`fault-${eventId}`)?.[0]?.attributes.stage ?? '';
      }
      console.log(
        `| ${kind} | ${row.inputs} | ${row.ok} | ${row.extra} | ${row.hung} | ${row.threw} | ${row.slowest.toFixed(2)} | ${row.stage} |`,
      );
      totals.inputs += row.inputs;
      totals.ok += row.ok;
      totals.extra += row.extra;
      totals.hung += row.hung;
      totals.threw += row.threw;
      totals.slowest = Math.max(totals.slowest, row.slowest);
    }
    // Replays and concurrent first deliveries of bad inputs: one image, two deliveries at once, then a replay.
    const concurrent = { inputs: 0, letters: 0 };
    for (let v = 0; v < VARIANTS; v++) {
      const input = table["VISIT = 'abc'"](90_000 + v);
      const event = await eventFor(s, input);
      await Promise.all([processImage(event), processImage(event)]).catch(() => undefined);
      await processImage(event).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      concurrent.inputs++;
      concurrent.letters += letters.get(String(event.id))?.length ?? 0;
    }
    console.log(
      `| **all ${Object.keys(table).length} kinds** | ${totals.inputs} | ${totals.ok} (${((100 * totals.ok) / totals.inputs).toFixed(1)} %) | ${totals.extra} | ${totals.hung} | ${totals.threw} | ${totals.slowest.toFixed(2)} | |`,
    );
    console.log(
      `\nconcurrent first deliveries (2 at once) then a replay, ${concurrent.inputs} bad images: ${concurrent.letters} dead letters (1 per image is ideal)`,
    );
    await sub.close();
  } finally {
    setServices(null);
    await s.pubsub.close();
    await s.firestore.terminate();
    await emulators.stop();
  }
  await mixExperiment();
  await killExperiments();
}
