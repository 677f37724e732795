import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alardLuptonBasis, basisImage, basisSigmas } from '../../shared/diffim/basis.js';
import { GridPsf, diffPsfToHdu, readDiffPsf, stampFwhm } from '../../shared/diffim/psf-grid.js';
import { TestGaussianPsf } from './render.js';

test('Alard-Lupton basis: 15 + 6 + 6 functions, basis 0 sums to 1, the others to 0', () => {
  const b = alardLuptonBasis({ size: 21, sigmas: [0.8, 1.6, 3.2], degrees: [4, 2, 2] });
  assert.equal(b.terms.length, 27);
  for (let j = 0; j < b.terms.length; j++) {
    const s = basisImage(b, j).reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(s - (j === 0 ? 1 : 0)) < 1e-9, `basis ${j} sums to ${s}`);
  }
});

test('basis sigmas follow the seeing difference (sigma_match = sqrt(wide^2 - narrow^2))', () => {
  const [a, b, c] = basisSigmas(1.2, 2.0, 2, 0.7);
  assert.ok(Math.abs(b - 1.6) < 1e-12 && Math.abs(a - 0.8) < 1e-12 && Math.abs(c - 3.2) < 1e-12);
  assert.equal(basisSigmas(2, 2, 2, 0.7)[1], 1.4);
});

test('GridPsf survives the PSF extension format and interpolates between grid points', () => {
  const narrow = new TestGaussianPsf(1.5, 15).stampAt(0, 0, true).data;
  const wide = new TestGaussianPsf(2.5, 15).stampAt(0, 0, true).data;
  const psf = new GridPsf([10, 90], [20], [narrow, wide], 15);
  const hdu = diffPsfToHdu(psf);
  const cards = new Map(hdu.cards);
  const back = readDiffPsf((k) => cards.get(k), hdu.data, hdu.width, hdu.height);
  assert.deepEqual(back.xs, [10, 90]);
  assert.deepEqual(Array.from(back.stampAt(10, 20, true).data), Array.from(narrow));
  const mid = back.fwhmAt(50, 20);
  assert.ok(mid > stampFwhm(narrow, 15) && mid < stampFwhm(wide, 15));
  assert.ok(Math.abs(back.fwhmAt(10, 20) - 2.3548 * 1.5) < 0.01);
  // Sub-pixel phase: the shifted stamp's centroid moves by the phase.
  const s = back.stampAt(10.3, 20, false);
  let m = 0;
  s.data.forEach((v, i) => (m += v * ((i % 15) - 7)));
  assert.ok(Math.abs(m - 0.3) < 0.02, `centroid ${m}`);
});
