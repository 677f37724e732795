/**
 * Real DECam frames (256 x 256, sky-subtracted, 5.23 and 3.85 px FWHM by their headers, which
 * quote a Gaussian-core FWHM): the PSF width, the variance rescaling of a sky-subtracted image.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { runPython, skipWithout } from '../helpers/python.js';
import { DECAM_DIR } from '../helpers/data.js';
import { DECAM_FWHM, readDecam } from './decam.js';

describe('characterizeImage on real DECam frames', () => {
  for (const [name, fwhm] of Object.entries(DECAM_FWHM)) {
    test(`${name}: Gaussian-core FWHM within 5% of ${fwhm} px`, () => {
      const exposure = readDecam(name);
      const result = characterizeImage(exposure);
      const psf = result.psf;
      assert.equal(psf.kind, 'pixel');
      assert.ok(psf.nStars >= 3, `${psf.nStars} stars`);
      assert.ok(
        Math.abs(psf.fwhmGaussPx / fwhm - 1) < 0.05,
        `Gaussian FWHM ${psf.fwhmGaussPx.toFixed(3)} vs ${fwhm}`,
      );
      // The pixel-free Moffat FWHM of a Moffat-winged PSF is narrower than its Gaussian-core FWHM.
      assert.ok(psf.fwhmPx < psf.fwhmGaussPx && psf.fwhmPx > 0.85 * psf.fwhmGaussPx);
      assert.ok(psf.chi2PerDof > 0.7 && psf.chi2PerDof < 1.3, `chi2/dof ${psf.chi2PerDof}`);
      // These frames hold no sharp pixel (each pixel above 8 sigma has a neighbour above 85% of it,
      // checked with numpy): real stars of 3.9-5.2 px FWHM must not be taken for cosmic rays.
      assert.equal(result.crCount, 0);
    });
  }

  test('a sky-subtracted frame: the sky term is rescaled to the measured scatter', () => {
    const exposure = readDecam('DEC-OBS04a');
    const result = characterizeImage(exposure);
    // Sky ~4100 ADU was subtracted upstream, so read noise alone predicts far too little variance.
    assert.ok(Math.abs(result.background.level) < 20, `sky level ${result.background.level}`);
    assert.ok(result.variance.measuredToPredicted > 20);
    const measured = result.background.sigma ** 2;
    assert.ok(
      Math.abs(result.variance.skyVariance / measured - 1) < 0.05,
      `sky variance ${result.variance.skyVariance} vs measured ${measured}`,
    );
  });
});

describe('DECam PSF width against an independent fit', { skip: skipWithout('scipy') }, () => {
  test('Gaussian-core FWHM agrees with scipy Gaussian fits to the PSF stars, within 3%', () => {
    for (const name of Object.keys(DECAM_FWHM)) {
      const result = characterizeImage(readDecam(name));
      const used = result.psf.stars.filter((s) => s.used);
      const stars = used.map((s) => [Math.round(s.x), Math.round(s.y)]);
      // Circular Gaussian plus constant, least squares on 21 x 21 pixels about each star (FITS rows = y).
      const script = `
import json, sys, numpy as np
from astropy.io import fits
from scipy.optimize import least_squares
d = fits.getdata(sys.argv[1]).astype(float)
out = []
for x, y in json.loads(sys.argv[2]):
    sub = d[y-10:y+11, x-10:x+11]
    yy, xx = np.mgrid[y-10:y+11, x-10:x+11]
    f = lambda p: (p[3]*np.exp(-((xx-p[1])**2+(yy-p[2])**2)/(2*p[0]**2)) + p[4] - sub).ravel()
    out.append(2.3548*abs(least_squares(f, [2, x, y, sub.max(), 0]).x[0]))
print(json.dumps(out))`;
      const fits = JSON.parse(
        runPython('scipy', script, [`${DECAM_DIR}${name}.mini.fits`, JSON.stringify(stars)]),
      ) as number[];
      const reference = fits.sort((a, b) => a - b)[fits.length >> 1];
      assert.ok(
        Math.abs(result.psf.fwhmGaussPx / reference - 1) < 0.03,
        `${name}: ${result.psf.fwhmGaussPx.toFixed(3)} vs scipy median ${reference.toFixed(3)}`,
      );
    }
  });
});
