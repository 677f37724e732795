/**
 * APDB writes on the Firestore emulator: five visits of one field (800 variables, 100 transients,
 * 20 close pairs; ~700 DiaObjects each, all but the first visit's updating DiaObjects stored
 * before, in transactions) associated and stored in turn: wall and CPU time (this process: the
 * client and the in-process emulator) of each storeVisit. The CPU of a later visit must not grow
 * with what is stored (it did while a transaction's history queries scanned whole collections).
 */
import { Firestore } from '@google-cloud/firestore';
import { startEmulators } from '../emulators/main.js';
import { FirestoreApdb } from '../shared/adapters/firestore.js';
import { associateVisit, type DetectorFootprint } from '../shared/association/associate.js';
import { makeSky, observe, DEC0, RA0 } from '../test/association/sky.js';

const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function run(): Promise<void> {
  const emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  const db = new Firestore({ projectId: 'bench-apdb' });
  try {
    const everywhere: DetectorFootprint = {
      cone: { ra: RA0, dec: DEC0, radiusDeg: 0.05 },
      contains: () => true,
    };
    const apdb = new FirestoreApdb(db);
    for (const [k, v] of observe(makeSky(7, 800, 100, 20), 5, 8).entries()) {
      const { batch } = await associateVisit(apdb, {
        visit: v.info,
        records: v.records,
        footprint: everywhere,
        timeProcessedMjdTai: v.info.mjd + 0.01,
        forcedPhotometry: (p) =>
          p.map(() => ({ psfFlux: 1, psfFluxErr: 2, scienceFlux: 3, scienceFluxErr: 4 })),
      });
      const t = performance.now();
      const c = cpuS();
      await apdb.storeVisit(batch);
      console.log(
        `  visit ${k + 1}: ${batch.diaObjects.length} DiaObjects, ${batch.diaSources.length} DiaSources, ${batch.forcedSources.length} forced: storeVisit ${((performance.now() - t) / 1000).toFixed(2)} s wall, ${(cpuS() - c).toFixed(2)} s CPU`,
      );
    }
  } finally {
    await db.terminate();
    await emulators.stop();
  }
}
