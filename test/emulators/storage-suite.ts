/**
 * Client-level Cloud Storage checks through the official @google-cloud/storage client, pointed at
 * the emulator by STORAGE_EMULATOR_HOST only (gcloud ships no Storage emulator to compare with).
 * Notifications are checked end to end through @google-cloud/pubsub on PUBSUB_EMULATOR_HOST.
 */
import { PubSub } from '@google-cloud/pubsub';
import {
  CRC32C,
  Storage,
  type GetFilesOptions,
  type GetFilesResponse,
} from '@google-cloud/storage';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { closeSubscriptions, expectCode, receive } from './pubsub-suite.js';

const TIMEOUT = { timeout: 60_000 };

export function storageSuite(
  name: string,
  hosts: () => Promise<{ storage: string; pubsub: string }>,
): void {
  describe(`Storage client against ${name}`, () => {
    let gcs: Storage;
    let pubsub: PubSub;
    let n = 0;
    const bucketName = (base: string) => `${base}-${process.pid}-${n++}`;

    before(async () => {
      const h = await hosts();
      process.env.STORAGE_EMULATOR_HOST = h.storage;
      process.env.PUBSUB_EMULATOR_HOST = h.pubsub;
      gcs = new Storage({ projectId: 'emulator-suite' });
      pubsub = new PubSub({ projectId: 'emulator-suite' });
    });
    after(async () => {
      await closeSubscriptions();
      await pubsub.close();
    });

    it(
      'uploads simple, multipart and resumable (chunked) objects and downloads them verified',
      TIMEOUT,
      async () => {
        const [bucket] = await gcs.createBucket(bucketName('uploads'));
        const big = Buffer.alloc(9 * 1024 * 1024 + 17);
        for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
        await bucket.file('simple.txt').save('hello', {
          resumable: false,
          contentType: 'text/plain',
          metadata: { metadata: { kind: 'note' } },
        });
        await bucket
          .file('resumable.bin')
          .save(big, { resumable: true, chunkSize: 4 * 1024 * 1024 });
        await bucket.file('stream.bin').save(big, { resumable: true });
        const [simple] = await bucket.file('simple.txt').download();
        assert.equal(simple.toString(), 'hello');
        for (const file of ['resumable.bin', 'stream.bin']) {
          const [data] = await bucket.file(file).download({ validation: 'crc32c' });
          assert.ok(data.equals(big), file);
          const [meta] = await bucket.file(file).getMetadata();
          const crc = new CRC32C();
          crc.update(big);
          assert.equal(meta.crc32c, crc.toString());
          assert.equal(meta.md5Hash, createHash('md5').update(big).digest('base64'));
          assert.equal(Number(meta.size), big.length);
        }
        const [meta] = await bucket.file('simple.txt').getMetadata();
        assert.equal(meta.contentType, 'text/plain');
        assert.deepEqual(meta.metadata, { kind: 'note' });
      },
    );

    it(
      'stores gzip-encoded uploads and serves them decompressed to the client',
      TIMEOUT,
      async () => {
        const [bucket] = await gcs.createBucket(bucketName('gzip'));
        const text = 'alert '.repeat(1000);
        await bucket.file('v1/alerts/1.avro').save(text, { resumable: false, gzip: true });
        const [meta] = await bucket.file('v1/alerts/1.avro').getMetadata();
        assert.equal(meta.contentEncoding, 'gzip');
        assert.ok(Number(meta.size) < text.length);
        const [data] = await bucket.file('v1/alerts/1.avro').download();
        assert.equal(data.toString(), text);
      },
    );

    it('serves byte ranges', TIMEOUT, async () => {
      const [bucket] = await gcs.createBucket(bucketName('ranges'));
      await bucket.file('abc').save('0123456789', { resumable: false });
      const [middle] = await bucket.file('abc').download({ start: 2, end: 5 });
      assert.equal(middle.toString(), '2345');
      const [tail] = await bucket.file('abc').download({ start: 7 });
      assert.equal(tail.toString(), '789');
    });

    it('lists with prefix, delimiter and pagination', TIMEOUT, async () => {
      const [bucket] = await gcs.createBucket(bucketName('listing'));
      const names = ['a/1', 'a/2', 'a/b/3', 'c', 'd/4', 'e'];
      await Promise.all(names.map((f) => bucket.file(f).save(f, { resumable: false })));
      const [top, , response] = await bucket.getFiles({ delimiter: '/', autoPaginate: false });
      assert.deepEqual(
        top.map((f) => f.name),
        ['c', 'e'],
      );
      assert.deepEqual((response as { prefixes: string[] }).prefixes, ['a/', 'd/']);
      const [inA] = await bucket.getFiles({ prefix: 'a/', delimiter: '/' });
      assert.deepEqual(
        inA.map((f) => f.name),
        ['a/1', 'a/2'],
      );
      const seen: string[] = [];
      let query: GetFilesOptions | null = { maxResults: 4, autoPaginate: false };
      while (query) {
        const [files, next]: GetFilesResponse = await bucket.getFiles(query);
        seen.push(...files.map((f) => f.name));
        query = next ? { ...(next as GetFilesOptions), autoPaginate: false } : null;
      }
      assert.deepEqual(seen, names);
      const [all] = await bucket.getFiles();
      assert.deepEqual(
        all.map((f) => f.name),
        names,
      );
    });

    it(
      'enforces ifGenerationMatch preconditions (create-only writes) with 412',
      TIMEOUT,
      async () => {
        const [bucket] = await gcs.createBucket(bucketName('preconditions'));
        const file = bucket.file('once');
        await file.save('first', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
        await expectCode(
          file.save('second', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
          412,
        );
        await expectCode(
          file.save('second', { resumable: true, preconditionOpts: { ifGenerationMatch: 0 } }),
          412,
        );
        const [meta] = await file.getMetadata();
        await file.save('third', {
          resumable: false,
          preconditionOpts: { ifGenerationMatch: Number(meta.generation) },
        });
        const [data] = await file.download();
        assert.equal(data.toString(), 'third');
      },
    );

    it('answers bad requests with 400, 404 and 409', TIMEOUT, async () => {
      await expectCode(gcs.createBucket('Bad_Name!'), 400);
      const [bucket] = await gcs.createBucket(bucketName('errors'));
      await expectCode(gcs.createBucket(bucket.name), 409);
      await expectCode(bucket.file('missing').download(), 404);
      await expectCode(
        gcs.bucket(bucketName('nobucket')).file('x').save('x', { resumable: false }),
        404,
      );
      await bucket.file('x').save('x', { resumable: false });
      await expectCode(bucket.delete(), 409);
      await bucket.file('x').delete();
      await expectCode(bucket.file('x').delete(), 404);
      await bucket.delete();
      await expectCode(bucket.getMetadata(), 404);
    });

    it('copies, composes and updates metadata', TIMEOUT, async () => {
      const [bucket] = await gcs.createBucket(bucketName('copy'));
      await bucket.file('p1').save('ab', { resumable: false });
      await bucket.file('p2').save('cd', { resumable: false });
      await bucket.file('p1').copy(bucket.file('p1-copy'));
      await bucket.combine(['p1', 'p2'], 'joined');
      assert.equal((await bucket.file('p1-copy').download())[0].toString(), 'ab');
      assert.equal((await bucket.file('joined').download())[0].toString(), 'abcd');
      await bucket
        .file('joined')
        .setMetadata({ metadata: { stage: 'raw' }, contentType: 'text/plain' });
      const [meta] = await bucket.file('joined').getMetadata();
      assert.deepEqual(meta.metadata, { stage: 'raw' });
      assert.equal(meta.contentType, 'text/plain');
    });

    it(
      'publishes object finalize and delete notifications to Pub/Sub in GCS format',
      TIMEOUT,
      async () => {
        const [topic] = await pubsub.createTopic(bucketName('raw-arrived'));
        const [sub] = await topic.createSubscription(bucketName('raw-arrived-sub'));
        const [bucket] = await gcs.createBucket(bucketName('raw'));
        const [notification] = await bucket.createNotification(topic.name, {
          eventTypes: ['OBJECT_FINALIZE', 'OBJECT_DELETE'],
          customAttributes: { origin: 'test' },
        });
        await bucket.file('LSST/g1/0/42.fits').save(Buffer.alloc(1000, 1), { resumable: false });
        await bucket.file('LSST/g1/0/42.fits').delete();
        const [finalize, deletion] = await receive(sub, 2);
        const object = JSON.parse(finalize.data.toString()) as {
          name: string;
          bucket: string;
          size: string;
          generation: string;
        };
        assert.deepEqual(
          { ...finalize.attributes, eventTime: undefined },
          {
            notificationConfig: `projects/_/buckets/${bucket.name}/notificationConfigs/${notification.id}`,
            eventType: 'OBJECT_FINALIZE',
            payloadFormat: 'JSON_API_V1',
            bucketId: bucket.name,
            objectId: 'LSST/g1/0/42.fits',
            objectGeneration: object.generation,
            eventTime: undefined,
            origin: 'test',
          },
        );
        assert.ok(!Number.isNaN(Date.parse(finalize.attributes.eventTime)));
        assert.equal(object.name, 'LSST/g1/0/42.fits');
        assert.equal(object.size, '1000');
        assert.equal(deletion.attributes.eventType, 'OBJECT_DELETE');
        const [configs] = await bucket.getNotifications();
        assert.equal(configs.length, 1);
        await sub.close();
      },
    );
  });
}
