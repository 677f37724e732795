/**
 * The preload cache's rules without the cloud (shared/prompt/preload.ts): the template cut-out
 * covers the predicted footprint and nothing off the image; the APDB snapshot holds the region's
 * DIAObjects with their last year of history, and reads through it see rows stored after it;
 * the footprint's reference stars are those of its tiles within it, and survive the preload file.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import type { DiaObject, DiaSource } from '../../shared/apdb/types.js';
import { Exposure } from '../../shared/image/exposure.js';
import { angularSeparationDeg } from '../../shared/prompt/camera.js';
import {
  cutOut,
  footprintRefcat,
  HISTORY_DAYS,
  PreloadedApdb,
  readPreloadedRefcat,
  snapshotApdb,
  writePreloadedRefcat,
} from '../../shared/prompt/preload.js';
import { writeRefcatFits } from '../../shared/pipeline/refcat.js';
import { cdMatrix } from '../../shared/wcs/matrix.js';
import { TanWcs } from '../../shared/wcs/tangent-wcs.js';

/** A 1000 x 800 image at 0.2"/px centred on (150, 2). */
function template(): Exposure {
  const e = Exposure.blank(1000, 800);
  e.wcs = new TanWcs({ crpix: [499.5, 399.5], crval: [150, 2], cd: cdMatrix(0.2, 0) });
  return e;
}

test('the cut-out holds the whole footprint circle, clipped to the image; off the image: null', () => {
  const t = template();
  const region = { center: [150.01, 2.005] as [number, number], radiusDeg: 20 / 3600 };
  const cut = cutOut(t, region);
  assert.ok(cut);
  // The circle's rim, 100 px in radius around pixel (~319.5, ~489.5), lies inside the cut.
  const { x, y } = t.wcs!.skyToPixel({
    ra: new Float64Array([150.01]),
    dec: new Float64Array([2.005]),
  });
  assert.ok(cut.image.x0 <= x[0] - 99 && cut.image.x0 + cut.width >= x[0] + 99);
  assert.ok(cut.image.y0 <= y[0] - 99 && cut.image.y0 + cut.height >= y[0] + 99);
  assert.ok(
    cut.width <= 203 && cut.height <= 203,
    `${cut.width} x ${cut.height}: no more than the circle`,
  );
  const edge = cutOut(t, { center: [150, 2.0222], radiusDeg: 20 / 3600 });
  assert.ok(edge && edge.image.y0 + edge.height === 800, 'clipped at the top edge');
  assert.equal(cutOut(t, { center: [151, 2], radiusDeg: 20 / 3600 }), null);
});

test('the snapshot holds the region and a year of history; reads through it see later rows', async () => {
  const now = 61000;
  const apdb = new EmbeddedApdb();
  const object = (id: number, ra: number) =>
    ({ diaObjectId: id, ra, dec: 2 }) as unknown as DiaObject;
  const source = (id: number, obj: number, mjd: number) =>
    ({ diaSourceId: id, diaObjectId: obj, midpointMjdTai: mjd }) as unknown as DiaSource;
  apdb.load({
    diaObjects: [object(1, 150), object(2, 150.001), object(3, 151)],
    diaSources: [
      source(10, 1, now - 10),
      source(11, 1, now - HISTORY_DAYS - 1),
      source(12, 3, now - 1),
    ],
    forcedSources: [],
  });
  const region = { center: [150, 2] as [number, number], radiusDeg: 0.01 };
  const snapshot = await snapshotApdb(apdb, region, now);
  assert.equal(snapshot.snapshotMjd, now);
  assert.deepEqual(snapshot.diaObjects.map((o) => o.diaObjectId).sort(), [1, 2]);
  assert.deepEqual(
    snapshot.diaSources.map((s) => s.diaSourceId),
    [10],
    'a year of history',
  );
  // A visit stored after the snapshot: reads through it see its row as well as the snapshot's.
  apdb.load({ diaObjects: [], diaSources: [source(13, 2, now + 0.5)], forcedSources: [] });
  const through = new PreloadedApdb(apdb, snapshot);
  const rows = await through.getDiaSourcesForObjects([1, 2], now - HISTORY_DAYS);
  assert.deepEqual(rows.map((r) => r.diaSourceId).sort(), [10, 13]);
});

test("the footprint's reference stars: its tiles' stars within it, in the band, through the preload file", () => {
  const region = { center: [150, 2] as [number, number], radiusDeg: 0.1 };
  const tile = (stars: Array<[number, number, number]>) =>
    writeRefcatFits(
      stars.map(([ra, dec, mag]) => ({ ra, dec, mag })),
      'r',
    );
  const tiles = [
    {
      key: 'hpx8-1.fits',
      bytes: tile([
        [150.05, 2, 18],
        [150.3, 2, 17],
      ]),
    },
    { key: 'hpx8-2.fits', bytes: Buffer.from('ra,dec,r_mag,g_mag\n149.95,2.02,19,19.5\n') },
  ];
  const refcat = footprintRefcat(tiles, 'r', region);
  assert.deepEqual(refcat, {
    band: 'r',
    stars: [
      { ra: 150.05, dec: 2, mag: 18 },
      { ra: 149.95, dec: 2.02, mag: 19 },
    ],
  });
  for (const s of refcat.stars) assert.ok(angularSeparationDeg(150, 2, s.ra, s.dec) <= 0.1);
  assert.deepEqual(readPreloadedRefcat(writePreloadedRefcat(refcat), 'preload'), refcat);
  assert.throws(
    () => footprintRefcat([{ key: 'hpx8-3.fits', bytes: Buffer.from('x,y\n1,2\n') }], 'r', region),
    /reference catalog tile hpx8-3.fits: reference catalog needs ra and dec columns/,
  );
});
