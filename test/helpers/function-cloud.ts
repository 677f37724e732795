/**
 * The cloud of a function test: the project's emulators on free ports, the clients pointed at
 * them, the instance's services for a project and bucket prefix of the test's own, its buckets and
 * the topics it publishes to created, and subscriptions that collect what reaches a topic.
 */
import type { Message, Subscription } from '@google-cloud/pubsub';
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
