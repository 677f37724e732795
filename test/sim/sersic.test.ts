import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdMatrix } from '../../shared/wcs/index.js';
import { moffatShape } from '../../shared/sim/moffat.js';
import { addSersic, galaxyForm, gammaP, sersicB, sersicBSeries } from '../../shared/sim/sersic.js';

test("b_n puts half the light inside r_e: P(2n, b_n) = 1/2, near Ciotti & Bertin's series (2e-4) for n >= 1", () => {
  for (const n of [0.5, 1, 2, 4]) {
    assert.ok(Math.abs(gammaP(2 * n, sersicB(n)) - 0.5) < 1e-12, `n = ${n}`);
    if (n >= 1) assert.ok(Math.abs(sersicB(n) - sersicBSeries(n)) < 2e-4, `series at n = ${n}`);
  }
  assert.ok(
    Math.abs(sersicB(0.5) - Math.LN2) < 1e-12,
    'a Gaussian holds half its light inside r_e for b = ln 2',
  );
  assert.ok(Math.abs(sersicB(1) - 1.678346990016661) < 1e-9, 'exponential disc');
});

test('the pixel form follows the sky: position angle east of north through an east-left CD matrix', () => {
  const jac = cdMatrix(0.2, 0); // +x west, +y north
  const re = 2; // arcsec = 10 px
  const ns = galaxyForm(jac, re, 0.5, 0); // major axis north-south: along y
  assert.ok(ns.mb < ns.ma && Math.abs(ns.mc) < 1e-12);
  const ew = galaxyForm(jac, re, 0.5, 90); // major axis east-west: along x
  assert.ok(ew.ma < ew.mb && Math.abs(ew.mc) < 1e-12);
  // PA 45: the major axis points north-east, i.e. (-x, +y) here: r^2 smallest along (-1, 1).
  const ne = galaxyForm(jac, re, 0.5, 45);
  const r2 = (dx: number, dy: number) => ne.ma * dx * dx + 2 * ne.mc * dx * dy + ne.mb * dy * dy;
  assert.ok(r2(-1, 1) < r2(1, 1));
  // Determinant-one ellipse: r_e is the geometric-mean radius, so r = 1 encloses pi r_e^2 (in px^2).
  assert.ok(Math.abs(1 / Math.sqrt(ne.ma * ne.mb - ne.mc * ne.mc) - 100) < 1e-6);
});

test('a rendered galaxy keeps its flux and centre, and half its light lies within r_e', () => {
  const size = 256;
  const c = 127.3;
  const psf = moffatShape(1.2, 4.5, 0, 0);
  for (const [n, tolerance] of [
    [0.5, 0.02],
    [1, 0.02],
    [4, 0.1],
  ]) {
    const img = new Float32Array(size * size);
    const form = galaxyForm(cdMatrix(0.2, 0), 2, 1, 0); // round, r_e = 10 px
    addSersic(img, size, size, { x: c, y: c + 0.4, flux: 1e5, sersicN: n, ...form }, psf, 8, 1e-6);
    let total = 0;
    let sx = 0;
    let sy = 0;
    let inside = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = img[y * size + x];
        total += v;
        sx += v * x;
        sy += v * y;
        if (Math.hypot(x - c, y - c - 0.4) < 10) inside += v;
      }
    }
    assert.ok(Math.abs(total / 1e5 - 1) < 1e-6, `n ${n}: flux ${total}`);
    assert.ok(
      Math.abs(sx / total - c) < 0.01 && Math.abs(sy / total - c - 0.4) < 0.01,
      `n ${n}: centroid`,
    );
    // The PSF (FWHM 1.2 px on r_e = 10 px) and pixelisation move little light across r_e; the n = 4
    // profile is cut at 8 r_e, which drops its outermost few per cent.
    assert.ok(
      Math.abs(inside / total - 0.5) < tolerance,
      `n ${n}: ${inside / total} of the light within r_e`,
    );
  }
});
