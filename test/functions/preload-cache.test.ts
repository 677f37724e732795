/**
 * The preload keeps the template it prepared for a footprint: the next visit of the same pointing
 * (Rubin observes each field twice a night) copies it instead of cutting out and characterizing
 * the template again, the same bytes; a new generation of the template is prepared afresh.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';
import { createServices, setServices, type Services } from '../../functions/context.js';
import { pointing, planSky } from '../../functions/night/sky.js';
import { preloadDetector } from '../../functions/preload.js';
import { preloadPrefix } from '../../shared/prompt/preload.js';
import { gridCamera } from '../../shared/prompt/camera.js';
import { templateKey } from '../../shared/prompt/template-tiles.js';
import { simulateNight } from '../../shared/sim/night.js';
import { simulatedImageFits } from '../../shared/sim/write.js';

const SIZE = 256;
const BORESIGHT: [number, number] = [150.1, 2.2];
let emulators: RunningEmulators;
let s: Services;

before(async () => {
  emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
  process.env.PUBSUB_EMULATOR_HOST = emulators.pubsubHost;
  process.env.STORAGE_EMULATOR_HOST = emulators.storageHost;
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  const config = createServices().config;
  s = createServices({
    ...config,
    projectId: 'test-preload-cache',
    bucketPrefix: 'pc',
    camera: gridCamera('APSIM', SIZE, 14, 0.2),
  });
  setServices(s);
  for (const bucket of Object.values(s.buckets)) await bucket.create();
});

after(async () => {
  setServices(null);
  await s?.pubsub.close();
  await s?.firestore.terminate();
  await emulators?.stop();
});

/** Uploads a simulated template covering the detector to its tile; returns the detector. */
async function uploadTemplate(seed: number): Promise<number> {
  const [det] = planSky(s.config.camera, BORESIGHT, 'r', 1).detectors;
  const night = simulateNight({
    size: SIZE + 64,
    seed,
    visits: 1,
    ra: det.centre[0],
    dec: det.centre[1],
  });
  const t = night.template;
  const bytes = simulatedImageFits(t, {
    seed,
    fwhmPx: 3,
    skyAdu: 1000,
    unit: 'adu',
  });
  await s.buckets.templates.file(templateKey('r', det.tile)).save(Buffer.from(bytes));
  return det.detector;
}

const read = async (key: string) => (await s.work.get(key))?.toString('base64');

test('a second visit of the same pointing copies the prepared template, a new template is prepared again', async () => {
  const detector = await uploadTemplate(5);
  const visit = (groupId: string) => pointing(BORESIGHT, 'r', [detector], groupId, 30);
  const first = await preloadDetector(s, visit('g1'), detector);
  const second = await preloadDetector(s, visit('g2'), detector);
  assert.ok(first.template, 'the template was found and prepared');
  assert.equal(first.templateCached, false);
  assert.equal(second.templateCached, true);
  assert.equal(second.templateFwhmPx, first.templateFwhmPx);
  const bytes = await read(`${preloadPrefix('g1', detector)}template.fits`);
  assert.ok(bytes);
  assert.equal(await read(`${preloadPrefix('g2', detector)}template.fits`), bytes);
  // Replayed: idempotent.
  assert.equal((await preloadDetector(s, visit('g2'), detector)).templateCached, true);

  await uploadTemplate(6);
  const third = await preloadDetector(s, visit('g3'), detector);
  assert.equal(third.templateCached, false, 'a new generation of the template is prepared');
  assert.notEqual(await read(`${preloadPrefix('g3', detector)}template.fits`), bytes);
});
