/**
 * The hand-written StreamingPullResponse encoder frames a gRPC message that decodes, with the
 * official protos, to its input, and passes large payloads by reference.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { clientProtoDirs, loadService } from '../../emulators/grpc.js';
import type { StreamingPullResponse } from '../../emulators/pubsub/stream.js';
import { encodeStreamingPullResponse } from '../../emulators/pubsub/wire.js';

/** The pieces joined, checked for the gRPC frame header, without it. */
function unframe(pieces: Buffer[]): Buffer {
  const framed = Buffer.concat(pieces);
  assert.equal(framed[0], 0, 'not compressed');
  assert.equal(framed.readUInt32BE(1), framed.length - 5, 'length prefix');
  return framed.subarray(5);
}

it('encodes StreamingPullResponse as protobufjs does, field for field', () => {
  const service = loadService(
    clientProtoDirs('@google-cloud/pubsub'),
    'google/pubsub/v1/pubsub.proto',
    'google.pubsub.v1.Subscriber',
  );
  const method = service.StreamingPull;
  const response: StreamingPullResponse = {
    receivedMessages: [
      {
        ackId: '12',
        deliveryAttempt: 300,
        message: {
          data: Buffer.from('héllo'),
          attributes: { a: 'b', ké: 'vé', empty: '' },
          messageId: '99',
          publishTime: { seconds: '1795625025', nanos: 958000000 },
          orderingKey: 'k1',
        },
      },
      {
        ackId: '1300000',
        deliveryAttempt: 0,
        message: {
          data: Buffer.alloc(0),
          attributes: { only: 'attributes' },
          messageId: '100',
          publishTime: { seconds: '0', nanos: 0 },
          orderingKey: '',
        },
      },
      {
        ackId: 'x',
        deliveryAttempt: 1,
        message: {
          data: Buffer.alloc(200_000, 1),
          attributes: {},
          messageId: '101',
          publishTime: null,
          orderingKey: '',
        },
      },
    ],
    subscriptionProperties: { exactlyOnceDeliveryEnabled: true, messageOrderingEnabled: false },
  };
  const pieces = encodeStreamingPullResponse(response);
  const ours = method.responseDeserialize(unframe(pieces));
  const reference = method.responseDeserialize(method.responseSerialize(response));
  assert.deepEqual(ours, reference);
  const large = response.receivedMessages[2].message.data;
  assert.ok(pieces.includes(large), 'the 200 KB payload is written by reference');
  assert.ok(!pieces.includes(response.receivedMessages[0].message.data), 'small data is copied');
  const empty: StreamingPullResponse = {
    receivedMessages: [],
    subscriptionProperties: { exactlyOnceDeliveryEnabled: false, messageOrderingEnabled: true },
  };
  assert.deepEqual(
    method.responseDeserialize(unframe(encodeStreamingPullResponse(empty))),
    method.responseDeserialize(method.responseSerialize(empty)),
  );
});
