/**
 * Client-level Pub/Sub checks through the official @google-cloud/pubsub client, pointed at an
 * emulator by PUBSUB_EMULATOR_HOST only. Run against ours (test/emulators/ours.test.ts) and against
 * Google's emulator where gcloud exists (test/emulators/gcloud.test.ts); `gaps` lists what Google's
 * emulator does not do, skipped there with the reason printed (see emulators/README.md).
 */
import { PubSub, v1, type Message, type Subscription } from '@google-cloud/pubsub';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';

export interface SuiteTarget {
  name: string;
  /** Resolves the host to point the client at (the emulator may still be starting). */
  host: () => Promise<string>;
  /** Features the target lacks: feature -> reason (printed as the skip reason). */
  gaps?: Record<string, string>;
}

const TIMEOUT = { timeout: 30_000 };
/** Setting up and closing the clients: a hook without a bound hangs the whole file when an emulator stops answering. */
export const HOOK_TIMEOUT = { timeout: 60_000 };

export async function expectCode(promise: Promise<unknown>, code: number): Promise<void> {
  await assert.rejects(promise, (err: { code?: number }) => {
    assert.equal(
      err.code,
      code,
      `expected gRPC/HTTP code ${code}, got ${String(err.code)}: ${String(err)}`,
    );
    return true;
  });
}

const listening = new Set<Subscription>();

/** Closes every subscription `receive` listened on (also after a failed test). */
export async function closeSubscriptions(): Promise<void> {
  await Promise.all([...listening].map((s) => s.close()));
  listening.clear();
}

/** Collects `count` messages from a subscription; `onMessage` decides ack (default) or nack. */
export function receive(
  sub: Subscription,
  count: number,
  onMessage: (m: Message) => void = (m) => m.ack(),
): Promise<Message[]> {
  return new Promise((resolve, reject) => {
    const got: Message[] = [];
    const handler = (m: Message) => {
      got.push(m);
      onMessage(m);
      if (got.length === count) {
        sub.removeListener('message', handler);
        resolve(got);
      }
    };
    listening.add(sub);
    sub.on('message', handler);
    sub.once('error', reject);
  });
}

function skipFor(target: SuiteTarget, feature: string): string | false {
  const reason = target.gaps?.[feature];
  if (reason) process.stdout.write(`# SKIP ${target.name}: ${reason}\n`);
  return reason ?? false;
}

export function pubsubSuite(target: SuiteTarget): void {
  describe(`Pub/Sub client against ${target.name}`, () => {
    let pubsub: PubSub;
    let subscriber: v1.SubscriberClient;
    let n = 0;
    const unique = (base: string) => `${base}-${process.pid}-${n++}`;

    before(async () => {
      process.env.PUBSUB_EMULATOR_HOST = await target.host();
      pubsub = new PubSub({ projectId: 'emulator-suite' });
      subscriber = new v1.SubscriberClient(
        (await pubsub.getClientConfig()) as ConstructorParameters<typeof v1.SubscriberClient>[0],
      );
    }, HOOK_TIMEOUT);
    after(async () => {
      await closeSubscriptions();
      await pubsub.close();
      await subscriber.close();
    }, HOOK_TIMEOUT);

    it(
      'creates, gets and lists topics and subscriptions, with Google error codes',
      TIMEOUT,
      async () => {
        const [topic] = await pubsub.createTopic(unique('crud'));
        const [sub] = await topic.createSubscription(unique('crud-sub'));
        const [exists] = await sub.exists();
        assert.equal(exists, true);
        const [topics] = await pubsub.getTopics();
        assert.ok(topics.some((t) => t.name === topic.name));
        const [subs] = await topic.getSubscriptions();
        assert.deepEqual(
          subs.map((s) => s.name),
          [sub.name],
        );
        await expectCode(pubsub.createTopic(topic.name.split('/').pop()!), 6);
        await expectCode(topic.createSubscription(sub.name.split('/').pop()!), 6);
        await expectCode(
          pubsub.topic(unique('missing')).publishMessage({ data: Buffer.from('x') }),
          5,
        );
        await expectCode(pubsub.topic(unique('missing')).createSubscription(unique('s')), 5);
        await expectCode(pubsub.createTopic('a'), 3);
        await sub.delete();
        await expectCode(sub.getMetadata(), 5);
        await topic.delete();
      },
    );

    it('reports NOT_FOUND to a subscriber of a missing subscription', TIMEOUT, async () => {
      const sub = pubsub.subscription(unique('never-created'));
      const error = await new Promise<{ code?: number }>((resolve) => {
        sub.once('error', resolve);
        sub.on('message', () => undefined);
      });
      assert.equal(error.code, 5);
      await sub.close();
    });

    it(
      'rejects empty messages and out-of-range ack deadlines with INVALID_ARGUMENT',
      TIMEOUT,
      async () => {
        const [topic] = await pubsub.createTopic(unique('bad'));
        const [sub] = await topic.createSubscription(unique('bad-sub'));
        const publisher = new v1.PublisherClient(
          (await pubsub.getClientConfig()) as ConstructorParameters<typeof v1.PublisherClient>[0],
        );
        await expectCode(publisher.publish({ topic: topic.name, messages: [{}] }), 3);
        await expectCode(
          subscriber.modifyAckDeadline({
            subscription: sub.name,
            ackIds: ['1'],
            ackDeadlineSeconds: 601,
          }),
          3,
        );
        await expectCode(
          topic.createSubscription(unique('bad-deadline'), { ackDeadlineSeconds: 700 }),
          3,
        );
        await publisher.close();
      },
    );

    it(
      'delivers data, attributes and ordering keys through streaming pull, attributes-only included',
      TIMEOUT,
      async () => {
        const [topic] = await pubsub.createTopic(unique('stream'));
        const [sub] = await topic.createSubscription(unique('stream-sub'), {
          enableMessageOrdering: true,
        });
        const ordered = pubsub.topic(topic.name, { messageOrdering: true });
        const payloads = Array.from({ length: 30 }, (_, i) => `m${i}`);
        await Promise.all(
          payloads.map((p, i) =>
            ordered.publishMessage({
              data: Buffer.from(p),
              attributes: { i: String(i) },
              orderingKey: 'visit-1',
            }),
          ),
        );
        await topic.publishMessage({ attributes: { only: 'attributes' } });
        const got = await receive(sub, 31);
        const keyed = got.filter((m) => m.orderingKey === 'visit-1');
        assert.deepEqual(
          keyed.map((m) => m.data.toString()),
          payloads,
        );
        assert.deepEqual(
          keyed.map((m) => m.attributes.i),
          payloads.map((_, i) => String(i)),
        );
        const bare = got.find((m) => m.attributes.only === 'attributes');
        assert.ok(bare, 'attributes-only message delivered');
        assert.equal(bare.data.length, 0);
        await sub.close();
      },
    );

    it(
      'redelivers a nacked ordered message before the later messages of its key',
      TIMEOUT,
      async () => {
        const [topic] = await pubsub.createTopic(unique('ordered-nack'));
        const [sub] = await topic.createSubscription(unique('ordered-nack-sub'), {
          enableMessageOrdering: true,
        });
        const ordered = pubsub.topic(topic.name, { messageOrdering: true });
        await Promise.all(
          [0, 1, 2, 3, 4].map((i) =>
            ordered.publishMessage({ data: Buffer.from(String(i)), orderingKey: 'k' }),
          ),
        );
        const seen: number[] = [];
        const acked = new Set<number>();
        let nacked = false;
        await new Promise<void>((resolve) => {
          listening.add(sub);
          sub.on('message', (m: Message) => {
            const i = Number(m.data.toString());
            seen.push(i);
            if (i === 2 && !nacked) {
              nacked = true;
              m.nack();
              return;
            }
            m.ack();
            acked.add(i);
            if (acked.size === 5) resolve();
          });
        });
        const again = seen.indexOf(2, seen.indexOf(2) + 1);
        assert.ok(again > 0, `2 was redelivered: ${seen.join(',')}`);
        const after = seen.slice(again);
        assert.deepEqual(
          after,
          [...after].sort(),
          `in order after the redelivery: ${seen.join(',')}`,
        );
        await sub.close();
      },
    );

    it('redelivers a nacked message', TIMEOUT, async () => {
      const [topic] = await pubsub.createTopic(unique('nack'));
      const [sub] = await topic.createSubscription(unique('nack-sub'));
      await topic.publishMessage({ data: Buffer.from('again') });
      let first = true;
      const got = await receive(sub, 2, (m) => {
        if (first) m.nack();
        else m.ack();
        first = false;
      });
      assert.equal(got[0].id, got[1].id);
      await sub.close();
    });

    it(
      'pull, modifyAckDeadline and redelivery after the ack deadline passes',
      TIMEOUT,
      async () => {
        const [topic] = await pubsub.createTopic(unique('pull'));
        const [sub] = await topic.createSubscription(unique('pull-sub'));
        await topic.publishMessage({ data: Buffer.from('lease') });
        const [first] = await subscriber.pull({ subscription: sub.name, maxMessages: 10 });
        assert.equal(first.receivedMessages?.length, 1);
        const ackId = first.receivedMessages![0].ackId!;
        await subscriber.modifyAckDeadline({
          subscription: sub.name,
          ackIds: [ackId],
          ackDeadlineSeconds: 1,
        });
        let again;
        do [again] = await subscriber.pull({ subscription: sub.name, maxMessages: 10 });
        while (!again.receivedMessages?.length);
        assert.equal(again.receivedMessages[0].message?.data?.toString(), 'lease');
        await subscriber.acknowledge({
          subscription: sub.name,
          ackIds: [again.receivedMessages[0].ackId!],
        });
      },
    );

    it('dead-letters after maxDeliveryAttempts with the delivery count', TIMEOUT, async (t) => {
      const skip = skipFor(target, 'deadLetter');
      if (skip) return t.skip(skip);
      const [topic] = await pubsub.createTopic(unique('dl-src'));
      const [dead] = await pubsub.createTopic(unique('dl-dead'));
      const [deadSub] = await dead.createSubscription(unique('dl-dead-sub'));
      const [sub] = await topic.createSubscription(unique('dl-sub'), {
        deadLetterPolicy: { deadLetterTopic: dead.name, maxDeliveryAttempts: 5 },
      });
      await topic.publishMessage({ data: Buffer.from('poison'), attributes: { k: 'v' } });
      const attempts = await receive(sub, 5, (m) => m.nack());
      assert.deepEqual(
        attempts.map((m) => m.deliveryAttempt),
        [1, 2, 3, 4, 5],
      );
      const [letter] = await receive(deadSub, 1);
      assert.equal(letter.data.toString(), 'poison');
      assert.equal(letter.attributes.k, 'v');
      await sub.close();
      await deadSub.close();
    });

    it(
      'applies attribute filters: =, !=, :, hasPrefix, AND/OR/NOT, parentheses',
      TIMEOUT,
      async (t) => {
        const skip = skipFor(target, 'filters');
        if (skip) return t.skip(skip);
        const [topic] = await pubsub.createTopic(unique('filter'));
        const filter =
          '(attributes.band = "r" OR attributes.band = "g") AND hasPrefix(attributes.snrBin, "1") AND NOT attributes:test';
        const [sub] = await topic.createSubscription(unique('filter-sub'), { filter });
        const cases: Array<{ attributes: Record<string, string>; match: boolean }> = [
          { attributes: { band: 'r', snrBin: '10' }, match: true },
          { attributes: { band: 'g', snrBin: '100' }, match: true },
          { attributes: { band: 'i', snrBin: '10' }, match: false },
          { attributes: { band: 'r', snrBin: '5' }, match: false },
          { attributes: { band: 'r', snrBin: '10', test: '' }, match: false },
          { attributes: { snrBin: '10' }, match: false },
        ];
        for (const [i, c] of cases.entries())
          await topic.publishMessage({ data: Buffer.from(String(i)), attributes: c.attributes });
        await topic.publishMessage({
          data: Buffer.from('end'),
          attributes: { band: 'r', snrBin: '1', last: 'yes' },
        });
        const got = await receive(sub, 3);
        const expected = [...cases.flatMap((c, i) => (c.match ? [String(i)] : [])), 'end'];
        assert.deepEqual(got.map((m) => m.data.toString()).sort(), expected.sort());
        await expectCode(
          topic.createSubscription(unique('bad-filter'), { filter: 'attributes.band = ' }),
          3,
        );
        await sub.close();
      },
    );

    it('pushes messages to an HTTP endpoint in Pub/Sub push JSON', TIMEOUT, async () => {
      const bodies: Array<{
        message: {
          data: string;
          attributes: Record<string, string>;
          messageId: string;
          publishTime: string;
        };
        subscription: string;
      }> = [];
      let calls = 0;
      const server = createServer((req, res) => {
        let text = '';
        req.on('data', (c: Buffer) => (text += c.toString()));
        req.on('end', () => {
          calls++;
          // The first push fails, so the message must come again.
          if (calls === 1) {
            res.writeHead(500).end();
            return;
          }
          bodies.push(JSON.parse(text) as (typeof bodies)[number]);
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve));
      const endpoint = `http://localhost:${(server.address() as AddressInfo).port}/push`;
      const [topic] = await pubsub.createTopic(unique('push'));
      const [sub] = await topic.createSubscription(unique('push-sub'), {
        pushConfig: { pushEndpoint: endpoint },
      });
      const id = await topic.publishMessage({
        data: Buffer.from('pushed'),
        attributes: { a: 'b' },
      });
      while (bodies.length === 0) await new Promise((r) => setTimeout(r, 50));
      const body = bodies[0];
      assert.equal(Buffer.from(body.message.data, 'base64').toString(), 'pushed');
      assert.deepEqual(body.message.attributes, { a: 'b' });
      assert.equal(body.message.messageId, id);
      assert.ok(!Number.isNaN(Date.parse(body.message.publishTime)));
      assert.equal(body.subscription, sub.name);
      await sub.delete();
      server.close();
    });

    it('snapshots and seek replay acknowledged messages', TIMEOUT, async (t) => {
      const skip = skipFor(target, 'snapshots');
      if (skip) return t.skip(skip);
      const [topic] = await pubsub.createTopic(unique('seek'));
      const [sub] = await topic.createSubscription(unique('seek-sub'));
      await topic.publishMessage({ data: Buffer.from('before') });
      const [snapshot] = await sub.createSnapshot(unique('snap'));
      const first = await receive(sub, 1);
      assert.equal(first[0].data.toString(), 'before');
      await sub.close();
      await sub.seek(snapshot.name);
      const replay = await receive(sub, 1);
      assert.equal(replay[0].data.toString(), 'before');
      await sub.close();
      await snapshot.delete();
    });
  });
}
