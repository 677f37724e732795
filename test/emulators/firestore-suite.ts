/**
 * Client-level Firestore checks through the official @google-cloud/firestore client, pointed at an
 * emulator by FIRESTORE_EMULATOR_HOST only; run against ours and, where gcloud exists, Google's.
 */
import { AggregateField, FieldValue, Filter, Firestore, Timestamp } from '@google-cloud/firestore';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectCode, HOOK_TIMEOUT, type SuiteTarget } from './pubsub-suite.js';

const TIMEOUT = { timeout: 60_000 };

export function firestoreSuite(target: SuiteTarget): void {
  describe(`Firestore client against ${target.name}`, () => {
    let db: Firestore;
    let n = 0;
    const collection = (base: string) => db.collection(`${base}-${process.pid}-${n++}`);

    before(async () => {
      process.env.FIRESTORE_EMULATOR_HOST = await target.host();
      db = new Firestore({ projectId: 'emulator-suite', useBigInt: true });
    }, HOOK_TIMEOUT);
    after(() => db.terminate(), HOOK_TIMEOUT);

    it('sets, gets, updates with transforms and deletes, with preconditions', TIMEOUT, async () => {
      const ref = collection('crud').doc('a');
      await ref.create({ name: 'x', count: 1n, nested: { deep: true } });
      await expectCode(ref.create({ name: 'y' }), 6);
      await expectCode(ref.parent.doc('missing').update({ a: 1 }), 5);
      const snap = await ref.get();
      assert.deepEqual(snap.data(), { name: 'x', count: 1n, nested: { deep: true } });
      await ref.update({
        count: FieldValue.increment(2),
        at: FieldValue.serverTimestamp(),
        'nested.more': 'yes',
        tags: FieldValue.arrayUnion('a', 'b'),
      });
      const updated = (await ref.get()).data()!;
      assert.equal(updated.count, 3n);
      assert.ok(updated.at instanceof Timestamp);
      assert.deepEqual(updated.nested, { deep: true, more: 'yes' });
      assert.deepEqual(updated.tags, ['a', 'b']);
      await expectCode(ref.update({ name: 'z' }, { lastUpdateTime: snap.updateTime! }), 9);
      await ref.set({ merged: 1n }, { merge: true });
      assert.equal((await ref.get()).data()!.name, 'x');
      await ref.delete();
      assert.equal((await ref.get()).exists, false);
    });

    it(
      'answers an invalid query on the RunQuery stream with INVALID_ARGUMENT',
      TIMEOUT,
      async () => {
        await expectCode(collection('bad-query').offset(-1).get(), 3);
      },
    );

    it('batch gets documents, found and missing', TIMEOUT, async () => {
      const col = collection('getall');
      await col.doc('one').set({ v: 1n });
      const [one, missing] = await db.getAll(col.doc('one'), col.doc('nope'));
      assert.equal(one.exists, true);
      assert.equal(missing.exists, false);
    });

    it(
      'orders and filters integers and doubles by numeric value (1 == 1.0, exact int64)',
      TIMEOUT,
      async () => {
        const col = collection('numbers');
        await col.doc('i1').set({ v: 1n });
        await col.doc('d1').set({ v: 0n });
        // Two increments of 0.5 make the double 1.0 (the client sends whole numbers as integers).
        await col.doc('d1').update({ v: FieldValue.increment(0.5) });
        await col.doc('d1').update({ v: FieldValue.increment(0.5) });
        await col.doc('d15').set({ v: 1.5 });
        await col.doc('i2').set({ v: 2n });
        await col.doc('big').set({ v: 9007199254740993n });
        await col.doc('s').set({ v: 'text' });
        const ids = async (q: FirebaseFirestore.Query) => (await q.get()).docs.map((d) => d.id);
        assert.deepEqual((await ids(col.where('v', '==', 1n))).sort(), ['d1', 'i1']);
        assert.deepEqual(await ids(col.where('v', '>', 1n).orderBy('v')), ['d15', 'i2', 'big']);
        assert.deepEqual(await ids(col.where('v', '<=', 1.5)), ['d1', 'i1', 'd15']);
        // 2^53 travels as a double; 2^53 + 1 stored as int64 is greater.
        assert.deepEqual(await ids(col.where('v', '>', 9007199254740992)), ['big']);
        assert.deepEqual(await ids(col.orderBy('v', 'desc')), [
          's',
          'big',
          'i2',
          'd15',
          'i1',
          'd1',
        ]);
      },
    );

    it('runs compound queries with order, limit, cursors, offset and count', TIMEOUT, async () => {
      const col = collection('query');
      const rows = Array.from({ length: 10 }, (_, i) => ({
        i: BigInt(i),
        band: 'ugrizy'[i % 6],
        tags: [i % 2 ? 'odd' : 'even'],
      }));
      await Promise.all(rows.map((r) => col.doc(`d${r.i}`).set(r)));
      const ids = async (q: FirebaseFirestore.Query) =>
        (await q.get()).docs.map((d) => Number(d.get('i')));
      assert.deepEqual(await ids(col.where('i', '>=', 3n).where('i', '<', 6n)), [3, 4, 5]);
      assert.deepEqual(
        await ids(
          col
            .where(Filter.or(Filter.where('band', '==', 'u'), Filter.where('i', '==', 4n)))
            .orderBy('i'),
        ),
        [0, 4, 6],
      );
      assert.deepEqual(
        await ids(
          col
            .where(
              Filter.and(Filter.where('tags', 'array-contains', 'odd'), Filter.where('i', '>', 4n)),
            )
            .orderBy('i'),
        ),
        [5, 7, 9],
      );
      assert.deepEqual(await ids(col.where('band', 'in', ['g', 'r']).orderBy('i')), [1, 2, 7, 8]);
      assert.deepEqual(
        await ids(col.where('band', 'not-in', ['u', 'g', 'r', 'i']).orderBy('i')),
        [4, 5],
      );
      assert.deepEqual(await ids(col.orderBy('i', 'desc').limit(3)), [9, 8, 7]);
      assert.deepEqual(await ids(col.orderBy('i').limitToLast(2)), [8, 9]);
      assert.deepEqual(await ids(col.orderBy('i').startAt(2n).endAt(4n)), [2, 3, 4]);
      assert.deepEqual(await ids(col.orderBy('i').startAfter(2n).endBefore(5n)), [3, 4]);
      assert.deepEqual(await ids(col.orderBy('i').offset(7)), [7, 8, 9]);
      const page1 = await col.orderBy('i').limit(4).get();
      assert.deepEqual(
        await ids(col.orderBy('i').startAfter(page1.docs[3]).limit(4)),
        [4, 5, 6, 7],
      );
      assert.equal(Number((await col.where('i', '>=', 5n).count().get()).data().count), 5);
      const agg = await col
        .aggregate({ total: AggregateField.sum('i'), mean: AggregateField.average('i') })
        .get();
      assert.equal(Number(agg.data().total), 45);
      assert.equal(agg.data().mean, 4.5);
      const selected = await col.select('band').where('i', '==', 1n).get();
      assert.deepEqual(selected.docs[0].data(), { band: 'g' });
    });

    it(
      'serializes concurrent read-modify-write transactions on one document: no update lost',
      TIMEOUT,
      async () => {
        const ref = collection('txn').doc('counter');
        await ref.set({ n: 0n });
        const workers = 12;
        await Promise.all(
          Array.from({ length: workers }, () =>
            db.runTransaction(async (t) => {
              const snap = await t.get(ref);
              t.update(ref, { n: (snap.get('n') as bigint) + 1n });
            }),
          ),
        );
        assert.equal((await ref.get()).get('n'), BigInt(workers));
      },
    );

    it('keeps an invariant across documents under concurrent transfers', TIMEOUT, async () => {
      const col = collection('transfer');
      await Promise.all(['a', 'b', 'c'].map((id) => col.doc(id).set({ balance: 100n })));
      const pairs = [
        ['a', 'b'],
        ['b', 'c'],
        ['c', 'a'],
        ['b', 'a'],
        ['a', 'c'],
        ['c', 'b'],
      ];
      await Promise.all(
        pairs.map(([from, to]) =>
          db.runTransaction(async (t) => {
            const [x, y] = await t.getAll(col.doc(from), col.doc(to));
            t.update(x.ref, { balance: (x.get('balance') as bigint) - 10n });
            t.update(y.ref, { balance: (y.get('balance') as bigint) + 10n });
          }),
        ),
      );
      const balances = (await col.get()).docs.map((d) => d.get('balance') as bigint);
      assert.equal(
        balances.reduce((s, b) => s + b, 0n),
        300n,
      );
    });

    it('deletes a collection recursively, leaving its neighbours', TIMEOUT, async () => {
      const col = collection('recursive');
      await col.doc('A').set({ v: 1n });
      await col.doc('x').set({ v: 2n });
      await col.doc('x').collection('sub').doc('y').set({ v: 3n });
      const neighbour = db.collection(`${col.id}b`);
      await neighbour.doc('keep').set({ v: 4n });
      await db.recursiveDelete(col);
      assert.equal((await col.get()).size, 0);
      assert.equal((await col.doc('x').collection('sub').get()).size, 0);
      assert.equal((await neighbour.get()).size, 1);
    });

    it('streams query and document snapshots to listeners (onSnapshot)', TIMEOUT, async () => {
      const col = collection('listen');
      await col.doc('a').set({ v: 1n });
      const views: string[] = [];
      const docViews: string[] = [];
      // The two listeners deliver independently: each wait names what both must have seen.
      const pending: Array<() => void> = [];
      const delivered = () => pending.splice(0).forEach((check) => check());
      const until = (done: () => boolean) =>
        new Promise<void>((resolve) => {
          const check = () => {
            if (done()) resolve();
            else pending.push(check);
          };
          check();
        });
      const unsubscribe = col.where('v', '>=', 1n).onSnapshot((snap) => {
        views.push(
          snap
            .docChanges()
            .map((c) => `${c.type}:${c.doc.id}`)
            .join(','),
        );
        delivered();
      });
      const unsubscribeDoc = col.doc('b').onSnapshot((snap) => {
        docViews.push(snap.exists ? `v=${String(snap.get('v'))}` : 'missing');
        delivered();
      });
      await until(() => views.length === 1 && docViews.length === 1);
      const writes = [
        () => col.doc('b').set({ v: 2n }),
        () => col.doc('a').update({ v: 0n }),
        () => col.doc('b').update({ v: 3n }),
        () => col.doc('b').delete(),
      ];
      for (const [i, write] of writes.entries()) {
        await write();
        await until(() => views.length === i + 2);
      }
      await until(() => docViews.length > 1 && docViews.at(-1) === 'missing');
      unsubscribe();
      unsubscribeDoc();
      assert.deepEqual(views, ['added:a', 'added:b', 'removed:a', 'modified:b', 'removed:b']);
      assert.equal(docViews[0], 'missing');
      assert.equal(docViews.at(-1), 'missing');
      assert.ok(docViews.includes('v=2') || docViews.includes('v=3'));
    });

    it('commits batches and bulk writes; lists collections and documents', TIMEOUT, async () => {
      const col = collection('bulk');
      const batch = db.batch();
      for (let i = 0; i < 5; i++) batch.set(col.doc(`b${i}`), { i: BigInt(i) });
      await batch.commit();
      const writer = db.bulkWriter();
      for (let i = 0; i < 5; i++) void writer.set(col.doc(`w${i}`), { i: BigInt(i) });
      void writer
        .create(col.doc('b0'), { i: 0n })
        .catch((err: { code?: number }) => assert.equal(err.code, 6));
      writer.onWriteError(() => false);
      await writer.close();
      assert.equal(Number((await col.count().get()).data().count), 10);
      await col.doc('b1').collection('sub').doc('x').set({ deep: true });
      await col.doc('ghost').collection('sub').doc('y').set({ deep: true });
      const subcollections = await col.doc('b1').listCollections();
      assert.deepEqual(
        subcollections.map((c) => c.id),
        ['sub'],
      );
      const refs = await col.listDocuments();
      assert.equal(refs.length, 11, 'ten documents and one missing parent with a subcollection');
      const collections = await db.listCollections();
      assert.ok(collections.some((c) => c.id === col.id));
      assert.equal((await db.collectionGroup('sub').get()).size >= 2, true);
    });
  });
}
