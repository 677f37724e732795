// WarpedPsf: the template PSF carried into the science frame through the local linear map.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cdMatrix, makeSipWcs, makeTanWcs } from '../../shared/wcs/index.js';
import { WarpedPsf, warpExposure } from '../../shared/warp/index.js';
import { GaussianPsf, renderStars, stampMoments } from './stars.js';

const template = makeTanWcs({ crpix: [256, 256], crval: [150, 2], cd: cdMatrix(0.2, 0) });

test('second moments transform as J^-1 M J^-T across a 30 deg rotation and 10% scale', () => {
  const science = makeTanWcs({ crpix: [250, 260], crval: [150, 2], cd: cdMatrix(0.22, 30) });
  const tplPsf = new GaussianPsf(4, 2.25, 0.5, 31);
  const psf = new WarpedPsf(tplPsf, science, template);
  const { jacobian: J } = psf.localMap(200, 300);
  // Science moments M' = K M K^T with K = J^-1.
  const det = J[0][0] * J[1][1] - J[0][1] * J[1][0];
  const K = [
    [J[1][1] / det, -J[0][1] / det],
    [-J[1][0] / det, J[0][0] / det],
  ];
  const M = [
    [4, 0.5],
    [0.5, 2.25],
  ];
  const KM = K.map((row) => [0, 1].map((j) => row[0] * M[0][j] + row[1] * M[1][j]));
  const expected = KM.map((row) => [0, 1].map((j) => row[0] * K[j][0] + row[1] * K[j][1]));
  const [xx, yy, xy] = stampMoments(psf.stampAt(200, 300, true));
  for (const [got, want] of [
    [xx, expected[0][0]],
    [yy, expected[1][1]],
    [xy, expected[0][1]],
  ]) {
    assert.ok(
      Math.abs(got - want) < 0.01 * Math.sqrt(expected[0][0] * expected[1][1]),
      `moment ${got} vs ${want}`,
    );
  }
  const ratio = psf.fwhmAt(200, 300) / tplPsf.fwhmAt();
  assert.ok(
    Math.abs(ratio - Math.sqrt(Math.sqrt(xx * yy - xy * xy) / Math.sqrt(4 * 2.25 - 0.25))) < 0.02,
    `fwhm ratio ${ratio}`,
  );
});

test('the warped exposure carries a PSF that matches its warped stars, sub-pixel phase included', async () => {
  const sigma = 1.8;
  const science = makeTanWcs({ crpix: [259.3, 251.7], crval: [150, 2], cd: cdMatrix(0.2, 0.05) });
  const distorted = makeSipWcs({ ...template.tanParams, a: { '2_0': 4e-6 }, b: { '1_1': 3e-6 } });
  const star = distorted.pixelToSky({ x: Float64Array.of(200.37), y: Float64Array.of(180.81) });
  const tpl = renderStars(distorted, 512, [{ ra: star.ra[0], dec: star.dec[0], flux: 1 }], sigma);
  tpl.psf = new GaussianPsf(sigma * sigma, sigma * sigma, 0, 25);
  const { exposure } = await warpExposure(tpl, { width: 512, height: 512, wcs: science });
  assert.ok(exposure.psf instanceof WarpedPsf);
  const at = science.skyToPixel(star);
  const stamp = exposure.psf.stampAt(at.x[0], at.y[0]);
  const half = (stamp.size - 1) / 2;
  let worst = 0;
  let peak = 0;
  for (let row = 0; row < stamp.size; row++) {
    for (let col = 0; col < stamp.size; col++) {
      const v = exposure.image.get(
        Math.round(at.x[0]) - half + col,
        Math.round(at.y[0]) - half + row,
      );
      worst = Math.max(worst, Math.abs(v - stamp.data[row * stamp.size + col]));
      peak = Math.max(peak, v);
    }
  }
  // Both are Lanczos interpolations of the same Gaussian at different sub-pixel phases (the star's
  // in the template, 0 for the centred template stamp): they agree to the interpolation error,
  // ~0.7% of the peak for sigma 1.8 px; a wrong phase or map would be off by tens of percent.
  assert.ok(
    worst < 1e-2 * peak,
    `stamp differs from the warped star by ${worst / peak} of the peak`,
  );
});

test('the stamp grows when science pixels are smaller than the template pixels', () => {
  const science = makeTanWcs({ crpix: [250, 260], crval: [150, 2], cd: cdMatrix(0.1, 0) });
  const psf = new WarpedPsf(new GaussianPsf(2, 2, 0, 21), science, template);
  assert.equal(psf.stampSize, 43);
  const stamp = psf.stampAt(100, 100, true);
  assert.equal(stamp.size, 43);
  // Twice as many pixels per arcsec: sigma doubles.
  assert.ok(Math.abs(psf.sigmaAt(100, 100) - 2 * Math.SQRT2) < 0.01);
});
