/** The trigger runner delivers Pub/Sub messages to functions-framework handlers as Eventarc does. */
import { cloudEvent, type CloudEventFunction } from '@google-cloud/functions-framework';
import { PubSub } from '@google-cloud/pubsub';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';
import { startTriggerRunner, type PubsubCloudEvent } from '../../emulators/triggers.js';
import { closeSubscriptions, receive } from './pubsub-suite.js';

const TIMEOUT = { timeout: 30_000 };

describe('trigger runner', () => {
  let emulators: RunningEmulators;
  let pubsub: PubSub;
  before(async () => {
    emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
    pubsub = new PubSub({ projectId: 'local-project', apiEndpoint: emulators.pubsubHost });
  });
  after(async () => {
    await closeSubscriptions();
    await pubsub.close();
    await emulators.stop();
  });

  it(
    'delivers messagePublished CloudEvents to a registered function, attributes-only included',
    TIMEOUT,
    async () => {
      const events: PubsubCloudEvent[] = [];
      let done: () => void;
      const twoEvents = new Promise<void>((resolve) => (done = resolve));
      const echo: CloudEventFunction<PubsubCloudEvent['data']> = (event) => {
        events.push(event as unknown as PubsubCloudEvent);
        if (events.length === 2) done();
      };
      cloudEvent('echoEvents', echo);
      const runner = await startTriggerRunner({
        pubsubHost: emulators.pubsubHost,
        projectId: 'local-project',
        triggers: [{ topic: 'next-visit', functionName: 'echoEvents' }],
      });
      const topic = pubsub.topic('next-visit');
      const id = await topic.publishMessage({
        data: Buffer.from('{"groupId":"g1"}'),
        attributes: { instrument: 'LSSTCam' },
      });
      await topic.publishMessage({ attributes: { only: 'attributes' } });
      await twoEvents;
      await runner.stop();
      const first = events.find((e) => e.id === id)!;
      assert.equal(first.type, 'google.cloud.pubsub.topic.v1.messagePublished');
      assert.equal(
        first.source,
        '//pubsub.googleapis.com/projects/local-project/topics/next-visit',
      );
      assert.equal(Buffer.from(first.data.message.data!, 'base64').toString(), '{"groupId":"g1"}');
      assert.deepEqual(first.data.message.attributes, { instrument: 'LSSTCam' });
      assert.equal(first.data.message.messageId, id);
      assert.equal(first.data.subscription, runner.subscriptions[0]);
      assert.ok(!Number.isNaN(Date.parse(first.data.message.publishTime)));
      const bare = events.find((e) => e.id !== id)!;
      assert.deepEqual(bare.data.message.attributes, { only: 'attributes' });
      assert.equal(bare.data.message.data, undefined);
    },
  );

  it(
    'retries a failing handler with backoff, then dead-letters after maxDeliveryAttempts',
    TIMEOUT,
    async () => {
      const attempts = new Map<string, number>();
      const errors: unknown[] = [];
      const [dead] = await pubsub.createTopic('alerts-dead');
      const [deadSub] = await dead.createSubscription('alerts-dead-sub');
      const runner = await startTriggerRunner({
        pubsubHost: emulators.pubsubHost,
        projectId: 'local-project',
        onError: (err) => errors.push(err),
        triggers: [
          {
            topic: 'alerts',
            subscription: 'flaky',
            minBackoffSeconds: 0.05,
            maxBackoffSeconds: 0.2,
            deadLetterTopic: 'alerts-dead',
            maxDeliveryAttempts: 5,
            handler: (event) => {
              const text = Buffer.from(event.data.message.data ?? '', 'base64').toString();
              const n = (attempts.get(text) ?? 0) + 1;
              attempts.set(text, n);
              if (text === 'poison' || n < 3) throw new Error(`attempt ${n} of ${text} fails`);
            },
          },
        ],
      });
      const topic = pubsub.topic('alerts');
      await topic.publishMessage({ data: Buffer.from('flaky') });
      await topic.publishMessage({ data: Buffer.from('poison') });
      const [letter] = await receive(deadSub, 1);
      assert.equal(letter.data.toString(), 'poison');
      assert.equal(letter.attributes.CloudPubSubDeadLetterSourceDeliveryCount, '5');
      assert.equal(attempts.get('poison'), 5);
      while ((attempts.get('flaky') ?? 0) < 3) await new Promise((r) => setTimeout(r, 20));
      assert.equal(attempts.get('flaky'), 3);
      assert.ok(errors.length >= 6);
      await runner.stop();
    },
  );
});
