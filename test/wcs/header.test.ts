// wcsFromHeader edge cases, the parameter constructors and the local Jacobian.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cdMatrix,
  makeSipWcs,
  makeTanWcs,
  makeTpvWcs,
  wcsFromHeader,
} from '../../shared/wcs/index.js';

const base: Array<[string, string | number]> = [
  ['CTYPE1', 'RA---TAN'],
  ['CTYPE2', 'DEC--TAN'],
  ['CRPIX1', 100.5],
  ['CRPIX2', 200.5],
  ['CRVAL1', 10],
  ['CRVAL2', -20],
];
const header = (...extra: Array<[string, string | number]>) => new Map([...base, ...extra]);

test('no celestial WCS gives null', () => {
  assert.equal(wcsFromHeader(new Map()), null);
  assert.equal(
    wcsFromHeader(
      new Map([
        ['CTYPE1', 'LINEAR'],
        ['CTYPE2', 'LINEAR'],
      ]),
    ),
    null,
  );
});

test('malformed celestial WCS throws a clear error', () => {
  assert.throws(
    () =>
      wcsFromHeader(
        new Map([
          ...header(['CDELT1', 1e-4], ['CDELT2', 1e-4]),
          ['CTYPE1', 'RA---ZPN'],
          ['CTYPE2', 'DEC--ZPN'],
        ]),
      ),
    /unsupported projection 'ZPN'/,
  );
  assert.throws(
    () =>
      wcsFromHeader(
        new Map([
          ['CTYPE1', 'GLON-TAN'],
          ['CTYPE2', 'GLAT-TAN'],
        ]),
      ),
    /unsupported celestial axes/,
  );
  assert.throws(
    () => wcsFromHeader(header(['CD1_1', 1e-4], ['CD1_2', 2e-4], ['CD2_1', 1e-4], ['CD2_2', 2e-4])),
    /singular CD matrix/,
  );
  assert.throws(() => wcsFromHeader(new Map(base.filter(([k]) => k !== 'CRVAL2'))), /lacks CRVAL2/);
  assert.throws(
    () => wcsFromHeader(header(['CD1_1', 'abc'], ['CD2_2', 1e-4])),
    /CD1_1 .* not a finite number/,
  );
  assert.throws(
    () =>
      wcsFromHeader(
        new Map([
          ...header(['CDELT1', 1e-4], ['CDELT2', 1e-4]),
          ['CTYPE1', 'RA---TAN-SIP'],
          ['CTYPE2', 'DEC--TAN-SIP'],
        ]),
      ),
    /A_ORDER/,
  );
});

test('CD, PC + CDELT and CROTA2 forms of the same rotation agree; CRPIX becomes 0-based', () => {
  const s = 0.25 / 3600;
  const rho = 20;
  const c = Math.cos((rho * Math.PI) / 180);
  const n = Math.sin((rho * Math.PI) / 180);
  const forms = [
    header(['CD1_1', -s * c], ['CD1_2', -s * n], ['CD2_1', -s * n], ['CD2_2', s * c]),
    header(['CDELT1', -s], ['CDELT2', s], ['PC1_1', c], ['PC1_2', n], ['PC2_1', -n], ['PC2_2', c]),
    header(['CDELT1', -s], ['CDELT2', s], ['CROTA2', rho]),
  ].map((h) => wcsFromHeader(h));
  const pix = { x: Float64Array.of(0, 99.5, 1000), y: Float64Array.of(0, 199.5, -300) };
  const ref = forms[0]!.pixelToSky(pix);
  assert.ok(
    Math.abs(ref.ra[1] - 10) < 1e-12 && Math.abs(ref.dec[1] + 20) < 1e-12,
    'CRPIX - 1 maps to CRVAL',
  );
  for (const wcs of forms.slice(1)) {
    const sky = wcs!.pixelToSky(pix);
    for (let i = 0; i < 3; i++) {
      assert.ok(
        Math.abs(sky.ra[i] - ref.ra[i]) < 1e-12 && Math.abs(sky.dec[i] - ref.dec[i]) < 1e-12,
      );
    }
  }
});

test('jacobian: scale, rotation and the CD matrix at the tangent point', () => {
  const wcs = makeTanWcs({ crpix: [50, 60], crval: [120, 40], cd: cdMatrix(0.2, 30) });
  const jac = wcs.jacobian(50, 60);
  assert.ok(Math.abs(jac.pixelScaleArcsec - 0.2) < 1e-9);
  assert.ok(Math.abs(jac.rotationDeg - 30) < 1e-7);
  for (let i = 0; i < 2; i++)
    for (let j = 0; j < 2; j++)
      assert.ok(Math.abs(jac.matrix[i][j] - wcs.cd[i][j]) < (1e-9 * 0.2) / 3600);
  // +y points 30 deg east of north: one pixel up moves dec by cos(30) * 0.2".
  const sky = wcs.pixelToSky({ x: Float64Array.of(50), y: Float64Array.of(61) });
  assert.ok(Math.abs((sky.dec[0] - 40) * 3600 - 0.2 * Math.cos(Math.PI / 6)) < 1e-7);
  assert.ok(sky.ra[0] - 120 > 0, 'and RA increases (east)');
});

test('SIP: constructor from a coefficient matrix equals the header form; inverse exact without AP/BP', () => {
  const tan = {
    crpix: [1023.5, 511.5] as [number, number],
    crval: [200, 10] as [number, number],
    cd: cdMatrix(0.2, 5),
  };
  const a = [[0, 0, 1e-7], [0, -2e-7], [3e-7]];
  const sip = makeSipWcs({ ...tan, a, b: { '0_2': -1.5e-7, '3_0': 2e-11 } });
  assert.equal(sip.kind, 'TAN-SIP');
  const fromCards = wcsFromHeader(new Map(sip.toHeaderCards()))!;
  const pix = { x: Float64Array.of(0, 2047, 1000.25), y: Float64Array.of(0, 1023, 3.5) };
  const s1 = sip.pixelToSky(pix);
  const s2 = fromCards.pixelToSky(pix);
  const back = sip.skyToPixel(s1);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(s1.ra[i] - s2.ra[i]) < 1e-13 && Math.abs(s1.dec[i] - s2.dec[i]) < 1e-13);
    assert.ok(Math.abs(back.x[i] - pix.x[i]) < 1e-8 && Math.abs(back.y[i] - pix.y[i]) < 1e-8);
  }
  // A_2_0 = 3e-7 at u = -1023.5 displaces by 0.31 px: the distortion is applied.
  const plain = makeTanWcs(tan).skyToPixel(s1);
  assert.ok(
    Math.abs(plain.x[0] - 0 - 3e-7 * 1023.5 ** 2 - 1e-7 * 511.5 ** 2 + 2e-7 * 1023.5 * 511.5) <
      1e-3,
  );
});

test('TPV: identity PV reduces to TAN, missing PVi_1 defaults to 1', () => {
  const tan = {
    crpix: [10, 20] as [number, number],
    crval: [359.99, 0.5] as [number, number],
    cd: cdMatrix(0.26, -3),
  };
  const tpv = makeTpvWcs({ ...tan, pv1: [], pv2: [] });
  const pix = { x: Float64Array.of(-500, 3000), y: Float64Array.of(4000, -100) };
  const a = tpv.pixelToSky(pix);
  const b = makeTanWcs(tan).pixelToSky(pix);
  for (let i = 0; i < 2; i++)
    assert.ok(Math.abs(a.ra[i] - b.ra[i]) < 1e-13 && Math.abs(a.dec[i] - b.dec[i]) < 1e-13);
});
