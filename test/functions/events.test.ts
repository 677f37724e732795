/**
 * Decoding of trigger events: a Pub/Sub CloudEvent without a publish time (or with one that is
 * not a time) still yields valid dates, where it used to yield an Invalid Date that crashed the
 * storage-notification decoder with a RangeError instead of a dead letter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CloudEvent } from '@google-cloud/functions-framework';
import { pubsubMessage, storageNotification } from '../../functions/events.js';

const event = (message: Record<string, unknown>, time?: string): CloudEvent<unknown> =>
  ({
    specversion: '1.0',
    id: '1',
    source: 'test',
    type: 't',
    time,
    data: { message },
  }) as CloudEvent<unknown>;

const notice = Buffer.from(JSON.stringify({ bucket: 'b', name: 'I/g/0/1.fits' })).toString(
  'base64',
);

test('a message with no publish time, or a bad one, is dated now; a notification without timeCreated takes it', () => {
  for (const m of [{ data: notice }, { data: notice, publishTime: 'yesterday' }]) {
    const before = Date.now();
    const message = pubsubMessage(event(m));
    assert.ok(message.publishTime.getTime() >= before, 'dated when received');
    const object = storageNotification(message);
    assert.equal(object.timeCreated.getTime(), message.publishTime.getTime());
  }
});

test("stated times are kept: the message's publish time, the event's time, the object's timeCreated", () => {
  const t = '2026-12-07T01:00:00.000Z';
  assert.equal(pubsubMessage(event({ data: notice, publishTime: t })).publishTime.toISOString(), t);
  assert.equal(pubsubMessage(event({ data: notice }, t)).publishTime.toISOString(), t);
  const created = Buffer.from(JSON.stringify({ bucket: 'b', name: 'n', timeCreated: t })).toString(
    'base64',
  );
  assert.equal(
    storageNotification(pubsubMessage(event({ data: created }))).timeCreated.toISOString(),
    t,
  );
});
