import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ang2pix_nest } from '@hscmap/healpix';
import { coneRanges, healpixNest, separationDeg } from '../../shared/healpix/index.js';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import type { DiaObject } from '../../shared/apdb/types.js';
import { rng } from '../association/sky.js';

test('order-16 nested indices agree with @hscmap/healpix at order 15 and nest inside them', () => {
  const random = rng(3);
  for (let k = 0; k < 2000; k++) {
    const ra = 360 * random();
    const dec = (Math.asin(2 * random() - 1) * 180) / Math.PI;
    const p15 = ang2pix_nest(2 ** 15, ((90 - dec) * Math.PI) / 180, (ra * Math.PI) / 180);
    assert.equal(healpixNest(ra, dec, 15), p15);
    assert.equal(Math.floor(healpixNest(ra, dec, 16) / 4), p15);
  }
});

test('cone ranges are few and contain every point of the cone', () => {
  const random = rng(4);
  for (const [ra0, dec0, r] of [
    [10, 20, 1 / 3600],
    [359.99, -5, 0.2],
    [45, 89.9, 0.3],
    [200, -60, 0.05],
  ]) {
    const ranges = coneRanges(ra0, dec0, r);
    assert.ok(ranges.length <= 16, `${ranges.length} ranges`);
    for (let k = 0; k < 500; k++) {
      const dec = dec0 + (2 * random() - 1) * r;
      const ra =
        ra0 + ((2 * random() - 1) * r) / Math.cos((Math.min(89.99, Math.abs(dec)) * Math.PI) / 180);
      if (Math.abs(dec) > 90 || separationDeg(ra0, dec0, ra, dec) > r) continue;
      const p = healpixNest(ra, dec);
      assert.ok(
        ranges.some(([lo, hi]) => p >= lo && p < hi),
        `(${ra}, ${dec}) outside the ranges of cone (${ra0}, ${dec0}, ${r})`,
      );
    }
  }
});

test('embedded APDB cone reads equal a brute-force search, also after objects move', async () => {
  const random = rng(5);
  const apdb = new EmbeddedApdb();
  const objects = Array.from(
    { length: 20000 },
    (_, k) =>
      ({
        diaObjectId: k + 1,
        ra: 30 + 4 * random(),
        dec: -2 + 4 * random(),
      }) as unknown as DiaObject,
  );
  apdb.load({ diaObjects: objects, diaSources: [], forcedSources: [] });
  const moved = objects.slice(0, 500).map((o) => ({ ...o, ra: o.ra + 0.3 }));
  apdb.load({ diaObjects: moved, diaSources: [], forcedSources: [] });
  const current = [...moved, ...objects.slice(500)];
  for (const cone of [
    { ra: 32, dec: 0, radiusDeg: 0.2 },
    { ra: 31, dec: 1, radiusDeg: 1.5 },
    { ra: 30.1, dec: -1.9, radiusDeg: 10 / 3600 },
  ]) {
    const got = (await apdb.getDiaObjectsInRegion(cone))
      .map((o) => o.diaObjectId)
      .sort((a, b) => a - b);
    const want = current
      .filter((o) => separationDeg(cone.ra, cone.dec, o.ra, o.dec) <= cone.radiusDeg)
      .map((o) => o.diaObjectId)
      .sort((a, b) => a - b);
    assert.deepEqual(got, want);
  }
});
