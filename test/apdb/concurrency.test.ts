/**
 * Two visits of one field stored at the same time on the Firestore emulator (each associated
 * against the APDB before the other was stored, as two busy processImage instances do): no
 * DiaObject update is lost; each shared DiaObject ends as if the visits had been stored in turn.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Firestore } from '@google-cloud/firestore';
import { startEmulators } from '../../emulators/main.js';
import { FirestoreApdb } from '../../shared/adapters/firestore.js';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import type { Apdb, DiaObject } from '../../shared/apdb/types.js';
import { associateVisit, type DetectorFootprint } from '../../shared/association/associate.js';
import { makeSky, observe, DEC0, RA0, type SimVisit } from '../association/sky.js';

const emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
const db = new Firestore({ projectId: 'apdb-concurrency' });
after(async () => {
  await db.terminate();
  await emulators.stop();
});

const everywhere: DetectorFootprint = {
  cone: { ra: RA0, dec: DEC0, radiusDeg: 0.05 },
  contains: () => true,
};

const associate = (apdb: Apdb, v: SimVisit) =>
  associateVisit(apdb, {
    visit: v.info,
    records: v.records,
    footprint: everywhere,
    timeProcessedMjdTai: v.info.mjd + 0.01,
    forcedPhotometry: (positions) =>
      positions.map(() => ({ psfFlux: 1, psfFluxErr: 2, scienceFlux: 3, scienceFluxErr: 4 })),
  });

const byId = (rows: DiaObject[]) => new Map(rows.map((o) => [o.diaObjectId, o]));

// 10 variables: one DiaObject transaction per visit; 150: several chunks of 30, whose
// boundaries differ between the two visits where their detections differ.
for (const variables of [10, 150])
  test(
    `two visits of one field stored at once lose no DiaObject update (${variables} variables)`,
    { timeout: 120_000 },
    async () => {
      const [first, second, third] = observe(makeSky(31, variables, 5, 3), 3, 32);
      const remote = new FirestoreApdb(db, { prefix: `c${variables}_` });
      await remote.storeVisit((await associate(remote, first)).batch);
      // Both read the APDB as the first visit left it, then store together.
      const [a, b] = await Promise.all([associate(remote, second), associate(remote, third)]);
      await Promise.all([remote.storeVisit(a.batch), remote.storeVisit(b.batch)]);

      const local = new EmbeddedApdb();
      for (const v of [first, second, third])
        await local.storeVisit((await associate(local, v)).batch);

      const concurrent = byId(await remote.getDiaObjectsInRegion(everywhere.cone));
      const sequential = byId(await local.getDiaObjectsInRegion(everywhere.cone));
      const shared = [...sequential.values()].filter((o) => o.nDiaSources === 3);
      assert.ok(
        shared.length > variables / 2,
        `objects seen in all three visits: ${shared.length}`,
      );
      for (const o of shared) {
        const got = concurrent.get(o.diaObjectId);
        assert.equal(got?.nDiaSources, 3, `DiaObject ${o.diaObjectId}: an update was lost`);
        assert.equal(got?.lastDiaSourceMjdTai, o.lastDiaSourceMjdTai);
        assert.ok(
          Math.abs((got?.r_psfFluxMean ?? 0) - (o.r_psfFluxMean ?? 0)) <=
            1e-9 * Math.abs(o.r_psfFluxMean ?? 1),
          'features from all three sources',
        );
      }
    },
  );
