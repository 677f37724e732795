/**
 * The PSFEx-like pixel PSF on a simulated 2048 x 2048 visit whose Moffat PSF varies across the
 * detector: FWHM everywhere within 2% of the truth, star-minus-model chi2/dof below 1.2.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage, type PsfModelResult } from '../../shared/characterize/characterize.js';
import type { Psf } from '../../shared/psf/types.js';
import { simulatedVisit } from '../characterize/sim-fixture.js';

const SIZE = 2048;
let truth: Psf;
let model: PsfModelResult;

describe('pixel PSF on a 2048 x 2048 simulated visit', () => {
  before(() => {
    const sim = simulatedVisit({ size: SIZE, seed: 22 });
    truth = sim.exposure.psf as Psf;
    model = characterizeImage(sim.exposure).psf;
  });

  test('the truth varies by more than the tolerance, so a constant model would fail', () => {
    const f = [0, SIZE - 1].flatMap((x) => [0, SIZE - 1].map((y) => truth.fwhmAt(x, y)));
    f.push(truth.fwhmAt(SIZE / 2, SIZE / 2));
    assert.ok(
      Math.max(...f) / Math.min(...f) > 1.04,
      `truth FWHM range ${Math.min(...f)}..${Math.max(...f)}`,
    );
  });

  test('FWHM within 2% of the truth on a 9 x 9 grid over the detector', () => {
    assert.equal(model.degree, 2);
    for (let j = 0; j <= 8; j++) {
      for (let i = 0; i <= 8; i++) {
        const x = ((SIZE - 1) * i) / 8;
        const y = ((SIZE - 1) * j) / 8;
        const err = model.psf.fwhmAt(x, y) / truth.fwhmAt(x, y) - 1;
        assert.ok(Math.abs(err) < 0.02, `FWHM error ${(100 * err).toFixed(2)}% at (${x}, ${y})`);
      }
    }
  });

  test('residual chi2/dof below 1.2 for stars with SNR < 200', () => {
    const faint = model.stars.filter((s) => s.used && s.flux / s.fluxErr < 200);
    assert.ok(faint.length >= 50, `${faint.length} stars below SNR 200`);
    assert.ok(model.chi2PerDof < 1.2, `chi2/dof ${model.chi2PerDof}`);
  });

  test('stamps are normalised, odd, and carry the sub-pixel phase', () => {
    const centred = model.psf.stampAt(700, 900, true);
    const shifted = model.psf.stampAt(700.3, 899.8);
    for (const stamp of [centred, shifted]) {
      assert.equal(stamp.size % 2, 1);
      assert.ok(Math.abs(stamp.data.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    }
    const centroid = (d: Float32Array, n: number): [number, number] => {
      let sx = 0;
      let sy = 0;
      let s = 0;
      const c = (n - 1) / 2;
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          if ((i - c) ** 2 + (j - c) ** 2 > 36) continue;
          s += d[j * n + i];
          sx += d[j * n + i] * (i - c);
          sy += d[j * n + i] * (j - c);
        }
      }
      return [sx / s, sy / s];
    };
    // The model's shift matches the true PSF's, measured the same way (a windowed centroid).
    const shift = (psf: Psf): [number, number] => {
      const a = centroid(psf.stampAt(700, 900, true).data, psf.stampAt(700, 900, true).size);
      const b = centroid(psf.stampAt(700.3, 899.8).data, psf.stampAt(700.3, 899.8).size);
      return [b[0] - a[0], b[1] - a[1]];
    };
    const [mx, my] = shift(model.psf);
    const [tx, ty] = shift(truth);
    assert.ok(mx > 0.15 && my < -0.1, `model shift (${mx}, ${my})`);
    assert.ok(
      Math.abs(mx - tx) < 0.02 && Math.abs(my - ty) < 0.02,
      `model shift (${mx}, ${my}), true (${tx}, ${ty})`,
    );
  });
});
