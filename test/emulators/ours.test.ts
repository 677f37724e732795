/** The client-level suites against the project's own emulators, started in process. */
import { after, before } from 'node:test';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';
import { firestoreSuite } from './firestore-suite.js';
import { pubsubSuite } from './pubsub-suite.js';
import { storageSuite } from './storage-suite.js';

let emulators: RunningEmulators;
const ready = new Promise<RunningEmulators>((resolve) =>
  before(async () =>
    resolve(
      (emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 })),
    ),
  ),
);
after(() => emulators.stop());

pubsubSuite({ name: 'our emulator', host: async () => (await ready).pubsubHost });
storageSuite('our emulator', async () => ({
  storage: (await ready).storageHost,
  pubsub: (await ready).pubsubHost,
}));
firestoreSuite({ name: 'our emulator', host: async () => (await ready).firestoreHost });
