// pixel <-> sky against the independent references written by scripts/make-wcs-fixtures.py.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { wcsFromHeader } from '../../shared/wcs/index.js';

interface Fixture {
  name: string;
  header: Array<[string, string | number]>;
  x: number[];
  y: number[];
  ra: number[];
  dec: number[];
}

const dir = fileURLToPath(new URL('../fixtures/wcs/', import.meta.url));
const fixtures: Fixture[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(dir + f, 'utf8')) as Fixture);

/** Great-circle separation, degrees (haversine). */
function separationDeg(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const r = Math.PI / 180;
  const h =
    Math.sin(((dec2 - dec1) * r) / 2) ** 2 +
    Math.cos(dec1 * r) * Math.cos(dec2 * r) * Math.sin(((ra2 - ra1) * r) / 2) ** 2;
  return (2 * Math.asin(Math.sqrt(h))) / r;
}

test('fixtures cover TAN, TAN-SIP and TPV', () => {
  const kinds = new Set(fixtures.map((f) => wcsFromHeader(new Map(f.header))?.kind));
  assert.deepEqual([...kinds].sort(), ['TAN', 'TAN-SIP', 'TPV']);
});

for (const fx of fixtures) {
  test(`${fx.name}: agrees with the reference to 1e-3 px and round-trips to 1e-8 deg`, (t) => {
    const wcs = wcsFromHeader(new Map(fx.header));
    assert.ok(wcs);
    const pixels = { x: Float64Array.from(fx.x), y: Float64Array.from(fx.y) };
    const sky = wcs.pixelToSky(pixels);
    let worstSkyPx = 0;
    let worstPix = 0;
    let worstRoundTrip = 0;
    const back = wcs.skyToPixel({ ra: Float64Array.from(fx.ra), dec: Float64Array.from(fx.dec) });
    const again = wcs.pixelToSky(wcs.skyToPixel(sky));
    for (let i = 0; i < fx.x.length; i++) {
      assert.ok(sky.ra[i] >= 0 && sky.ra[i] < 360, `ra ${sky.ra[i]} outside [0, 360)`);
      const scaleDeg = wcs.jacobian(fx.x[i], fx.y[i]).pixelScaleArcsec / 3600;
      worstSkyPx = Math.max(
        worstSkyPx,
        separationDeg(sky.ra[i], sky.dec[i], fx.ra[i], fx.dec[i]) / scaleDeg,
      );
      worstPix = Math.max(worstPix, Math.hypot(back.x[i] - fx.x[i], back.y[i] - fx.y[i]));
      worstRoundTrip = Math.max(
        worstRoundTrip,
        separationDeg(again.ra[i], again.dec[i], sky.ra[i], sky.dec[i]),
      );
    }
    t.diagnostic(
      `pixel->sky ${worstSkyPx.toExponential(1)} px, sky->pixel ${worstPix.toExponential(1)} px, round trip ${worstRoundTrip.toExponential(1)} deg`,
    );
    assert.ok(worstSkyPx < 1e-3, `pixel->sky off by ${worstSkyPx} px`);
    assert.ok(worstPix < 1e-3, `sky->pixel off by ${worstPix} px`);
    assert.ok(worstRoundTrip < 1e-8, `round trip off by ${worstRoundTrip} deg`);
  });

  test(`${fx.name}: toHeaderCards describes the same WCS`, () => {
    const wcs = wcsFromHeader(new Map(fx.header));
    assert.ok(wcs);
    const copy = wcsFromHeader(new Map(wcs.toHeaderCards()));
    assert.ok(copy);
    assert.equal(copy.kind, wcs.kind);
    const pixels = { x: Float64Array.from(fx.x), y: Float64Array.from(fx.y) };
    const a = wcs.pixelToSky(pixels);
    const b = copy.pixelToSky(pixels);
    for (let i = 0; i < fx.x.length; i++)
      assert.ok(separationDeg(a.ra[i], a.dec[i], b.ra[i], b.dec[i]) < 1e-12);
  });
}
