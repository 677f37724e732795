/**
 * A StreamingPull client that reads slowly (a loaded machine: its event loop busy, HTTP/2 flow
 * control holding the server's writes) must not get messages twice because their ack deadline
 * ran out while they waited in the server's buffer: the deadline runs from the moment a batch
 * leaves for the client. Before, a batch's lease started when it was queued, expired behind the
 * stalled reader, and the messages were redelivered on the same stream: the consumer held both
 * copies (the quickstart's consumer saw 12 % duplicates on a loaded 3-visit night).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { after, before, test } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';

const MESSAGES = 40;
const BYTES = 100_000;
const DEADLINE_S = 10;

let emulators: RunningEmulators;
before(async () => {
  emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
});
after(async () => emulators?.stop());

/** A protobuf string field and varint field: StreamingPullRequest {subscription = 1, stream_ack_deadline_seconds = 5}. */
function streamingPullRequest(subscription: string, deadlineSeconds: number): Buffer {
  const name = Buffer.from(subscription);
  const body = Buffer.concat([
    Buffer.from([0x0a, name.length]),
    name,
    Buffer.from([0x28, deadlineSeconds]),
  ]);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(body.length, 1); // gRPC framing: uncompressed, 4-byte length
  return Buffer.concat([frame, body]);
}

test(
  'messages held behind a slow reader are not redelivered when it catches up',
  { timeout: 60_000 },
  async () => {
    const projectId = 'lease-test';
    const pubsub = new PubSub({ projectId, apiEndpoint: emulators.pubsubHost });
    const [topic] = await pubsub.createTopic('slow-reader');
    const [subscription] = await topic.createSubscription('slow-reader', {
      ackDeadlineSeconds: DEADLINE_S,
    });
    // Each message carries a marker, found again in the raw response bytes.
    const marker = (i: number) => `MSG-${String(i).padStart(4, '0')}-`;
    await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        topic.publishMessage({ data: Buffer.from(marker(i).padEnd(BYTES, 'x')) }),
      ),
    );
    await pubsub.close();

    // A raw HTTP/2 client with the default 64 KiB window that does not read for longer than the deadline.
    const session = connect(`http://${emulators.pubsubHost}`);
    const stream = session.request({
      ':method': 'POST',
      ':path': '/google.pubsub.v1.Subscriber/StreamingPull',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.write(streamingPullRequest(subscription.name, DEADLINE_S));
    stream.pause();
    await new Promise((r) => setTimeout(r, (DEADLINE_S + 3) * 1000));

    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.resume();
    await new Promise((r) => setTimeout(r, 4000));
    stream.close();
    session.close();

    const text = Buffer.concat(chunks).toString('latin1');
    const counts = Array.from({ length: MESSAGES }, (_, i) => text.split(marker(i)).length - 1);
    assert.equal(counts.filter((c) => c === 0).length, 0, 'every message delivered');
    assert.deepEqual(
      counts.map((c, i) => [i, c]).filter(([, c]) => c > 1),
      [],
      'no message delivered twice',
    );
  },
);
