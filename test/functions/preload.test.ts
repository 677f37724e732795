/**
 * nextVisit's preload on the emulators: the reference stars of a detector's footprint are read
 * from the `<prefix>-refcats` bucket's HEALPix tiles (hpx8-{tile}.fits), cut to the footprint and
 * stored with the preload, which processImage loads; with no tile there, nothing is preloaded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulators, type RunningEmulators } from '../../emulators/main.js';
import { createServices, type Services } from '../../functions/context.js';
import { loadPreload, preloadDetector } from '../../functions/preload.js';
import { writeRefcatFits, type ReferenceStar } from '../../shared/pipeline/refcat.js';
import { angularSeparationDeg, predictDetectorFootprint } from '../../shared/prompt/camera.js';
import type { NextVisit } from '../../shared/prompt/next-visit.js';
import { refcatKey, tileOf } from '../../shared/prompt/template-tiles.js';

let emulators: RunningEmulators;
let s: Services;

before(async () => {
  emulators = await startEmulators({ pubsubPort: 0, storagePort: 0, firestorePort: 0 });
  process.env.STORAGE_EMULATOR_HOST = emulators.storageHost;
  process.env.FIRESTORE_EMULATOR_HOST = emulators.firestoreHost;
  s = createServices({
    ...createServices().config,
    projectId: 'test-preload',
    bucketPrefix: 'pl',
  });
  for (const bucket of Object.values(s.buckets)) await bucket.create();
});

after(async () => {
  await s?.pubsub.close();
  await s?.firestore.terminate();
  await emulators?.stop();
});

const visit = (groupId: string, position: [number, number]): NextVisit => ({
  instrument: s.config.camera.instrument,
  groupId,
  nimages: 1,
  filters: 'r',
  coordinateSystem: 'ICRS',
  position,
  rotationSystem: 'SKY',
  cameraAngle: 0,
  survey: 'TEST',
  duration: 30,
  detectors: [0],
});

test("the footprint's reference stars are preloaded from the refcats bucket and loaded back", async () => {
  const v = visit('g-refcat', [150, 2]);
  const region = predictDetectorFootprint(v, s.config.camera, 0);
  const [ra, dec] = region.center;
  // Stars at the centre and near the rim, and one beyond the footprint, in their own tiles.
  const stars: ReferenceStar[] = [
    { ra, dec, mag: 18 },
    { ra, dec: dec + 0.9 * region.radiusDeg, mag: 19 },
    { ra, dec: dec - 1.5 * region.radiusDeg, mag: 17 },
  ];
  const byTile = new Map<number, ReferenceStar[]>();
  for (const star of stars) {
    const tile = tileOf(star.ra, star.dec);
    byTile.set(tile, [...(byTile.get(tile) ?? []), star]);
  }
  for (const [tile, inTile] of byTile)
    await s.buckets.refcats.file(refcatKey(tile)).save(Buffer.from(writeRefcatFits(inTile, 'r')));
  const summary = await preloadDetector(s, v, 0);
  assert.equal(summary.referenceStars, 2);
  const preload = await loadPreload(s, v.groupId, 0);
  assert.equal(preload.refcat?.band, 'r');
  const loaded = preload.refcat?.stars ?? [];
  assert.deepEqual(loaded.map((x) => x.mag).sort(), [18, 19]);
  for (const x of loaded) assert.ok(angularSeparationDeg(ra, dec, x.ra, x.dec) <= region.radiusDeg);
});

test('no tile in the refcats bucket: no reference stars preloaded', async () => {
  const v = visit('g-none', [40, -30]);
  const summary = await preloadDetector(s, v, 0);
  assert.equal(summary.referenceStars, null);
  const preload = await loadPreload(s, v.groupId, 0);
  assert.equal(preload.refcat, null);
  // No template in the bucket: none preloaded, known before any template read (the folder is listed).
  assert.equal(preload.template, null);
});
