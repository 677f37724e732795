/**
 * The cloud of a function test: the project's emulators on free ports, the clients pointed at
 * them, the instance's services for a project and bucket prefix of the test's own, its buckets and
 * the topics it publishes to created, and subscriptions that collect what reaches a topic.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import type { Message, Subscription } from '@google-cloud/pubsub';
import assert from 'node:assert/strict';
import { Storage } from '@google-cloud/storage';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';
import { createServices, setServices, type Services } from '../../functions/context.js';

export async function startFunctionCloud(
  projectId: string,
  bucketPrefix: string,
  topics: string[],
): Promise<{ emulators: RunningEmulators; s: Services }> {
  const emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  process.env.STORAGE_EMULATOR_HOST = emulators.storageHost;
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  const s = createServices({ ...createServices().config, projectId, bucketPrefix });
  setServices(s);
  for (const bucket of Object.values(s.buckets)) await bucket.create();
  for (const topic of topics) await s.pubsub.createTopic(topic);
  return { emulators, s };
}

/** A new subscription `name` to `topic` whose messages are acknowledged and pushed to `into`. */
export async function collect(
  s: Services,
  topic: string,
  name: string,
  into: Message[],
): Promise<Subscription> {
  const [subscription] = await s.pubsub.topic(topic).createSubscription(name);
  subscription.on('message', (m: Message) => {
    into.push(m);
    m.ack();
  });
  return subscription;
}

/** The attributes of the first message in `letters` that `match` accepts, waiting up to 5 s for it. */
export async function waitForLetter(
  letters: Message[],
  match: (attributes: Record<string, string>) => boolean,
  what: string,
): Promise<Record<string, string>> {
  for (let i = 0; i < 100; i++) {
    const m = letters.find((l) => match(l.attributes));
    if (m) return m.attributes;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no dead letter for ${what}`);
}

/** A Storage client behind a closed port, without retries: every call is a connection refused. */
export function unreachableStorage(projectId: string): Storage {
  const emulatorHost = process.env.STORAGE_EMULATOR_HOST;
  process.env.STORAGE_EMULATOR_HOST = 'http://127.0.0.1:9';
  try {
    return new Storage({ projectId, retryOptions: { autoRetry: false } });
  } finally {
    process.env.STORAGE_EMULATOR_HOST = emulatorHost;
  }
}

/**
 * Runs `handler(event)` on `broken` services (a dependency refusing connections): every one of the
 * function's `maxAttempts` attempts must fail, then the next delivery gives up itself, before the
 * subscription's policy (5); returns the attributes of its dead letter, whose reason says so.
 */
export async function givenUpOnRefusedConnections(
  s: Services,
  broken: Services,
  handler: (event: CloudEvent<unknown>) => Promise<unknown>,
  event: CloudEvent<unknown>,
  letter: () => Promise<Record<string, string>>,
): Promise<Record<string, string>> {
  setServices(broken);
  try {
    for (let attempt = 1; attempt <= s.config.maxAttempts; attempt++)
      await assert.rejects(handler(event), /ECONNREFUSED|connect/);
    await handler(event);
  } finally {
    setServices(s);
  }
  assert.ok(s.config.maxAttempts < 5, 'below the subscription maxDeliveryAttempts (5)');
  const a = await letter();
  assert.match(
    a.reason,
    new RegExp(`^gave up after ${s.config.maxAttempts} attempts: .*(ECONNREFUSED|connect)`),
  );
  return a;
}
