/**
 * The real DECam pair (test/data/decam-mini): `ap diff` end to end, through the FITS file
 * it writes, for every method: unit normalised noise, white on blank sky (flat noise power, no
 * significant lag: the template's own correlated noise, measured by characterizeNoiseCorrelation,
 * is whitened too), the difference PSF readable back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readExposure } from '../../shared/fits/exposure.js';
import { readFits } from '../../shared/fits/read.js';
import { diffToFits, readDiffPsfFromFits, runDiff } from '../../shared/diffim/pipeline.js';
import { normalisedNoise } from '../../shared/diffim/noise.js';
import {
  blankSkyExclusion,
  estimateNoiseCorrelation,
} from '../../shared/characterize/noise-correlation-estimate.js';
import { MaskPlane } from '../../shared/image/mask.js';
import type { Exposure } from '../../shared/image/exposure.js';
import { radialPowerBins } from './radial-power.js';
import { Fft2 } from '../../shared/util/fft.js';

const DIR = new URL('../data/decam-mini/', import.meta.url);

for (const method of ['auto', 'al-convsci', 'zogy'] as const) {
  test(`DECam pair, method ${method}: clean difference with unit normalised noise`, async () => {
    const science = readExposure(readFileSync(new URL('DEC-OBS04a.mini.fits', DIR)));
    const template = readExposure(readFileSync(new URL('DEC-OBS18a.mini.fits', DIR)));
    const r = await runDiff(science, template, { subtract: { method } });
    assert.equal(r.method, method === 'auto' ? 'AL' : method === 'zogy' ? 'ZOGY' : 'AL-CONVSCI');
    assert.ok(
      Math.abs(r.stats.noiseRatio - 1) < 0.05,
      `IMAGE/sqrt(VARIANCE) std ${r.stats.noiseRatio}`,
    );
    assert.ok(r.kernelSum > 0.9 && r.kernelSum < 1.1, `kernel sum ${r.kernelSum}`);
    // Blank sky: no source in either (characterized) input.
    const blank = blankSkyExclusion(science, science.psf!.fwhmAt(128, 128));
    blankSkyExclusion(template, template.psf!.fwhmAt(128, 128)).forEach((v, i) => (blank[i] |= v));
    const p = noisePower(r.difference, blank);
    const mean = p.reduce((s, v) => s + v, 0) / p.length;
    assert.ok(
      p.every((v) => Math.abs(v / mean - 1) < 0.1),
      `${r.method} noise power ${p.map((v) => (v / mean).toFixed(3))}`,
    );
    const lags = estimateNoiseCorrelation(r.difference, blank, r.psfFwhmPx);
    for (const [axis, cov, err] of [
      ['x', lags.covX, lags.errX],
      ['y', lags.covY, lags.errY],
    ] as const) {
      for (const d of [1, 2])
        assert.ok(
          Math.abs(cov[d] / cov[0]) < 3 * err[d],
          `${r.method} lag ${d} along ${axis}: ${(cov[d] / cov[0]).toFixed(4)} +- ${err[d].toFixed(4)}`,
        );
    }
    const bytes = diffToFits(r);
    const hdus = readFits(bytes);
    assert.deepEqual(
      hdus.slice(1, 5).map((h) => h.name),
      ['IMAGE', 'MASK', 'VARIANCE', 'PSF'],
    );
    assert.equal(hdus[0].header.get('DIFFMETH'), r.method);
    const back = readExposure(bytes);
    assert.ok(Math.abs(normalisedNoise(back).ratio - r.stats.noiseRatio) < 1e-3);
    const psf = readDiffPsfFromFits(bytes);
    assert.ok(Math.abs(psf.fwhmAt(127.5, 127.5) - Number(hdus[0].header.get('PSFFWHM'))) < 0.05);
  });
}

/** Power of IMAGE/sqrt(VARIANCE) (mean removed) on unmasked blank-sky pixels in 8 radial bins up to Nyquist (white noise: flat). */
function noisePower(d: Exposure, excluded: Uint8Array): number[] {
  const n = d.width,
    fft = new Fft2(n),
    a = fft.alloc();
  const bad = MaskPlane.BAD | MaskPlane.SAT | MaskPlane.CR | MaskPlane.NO_DATA | MaskPlane.EDGE;
  const use = (i: number) => !(d.mask.data[i] & bad) && !excluded[i];
  let sum = 0,
    used = 0;
  for (let i = 0; i < n * n; i++) {
    if (!use(i)) continue;
    sum += d.image.data[i] / Math.sqrt(d.variance.data[i]);
    used++;
  }
  for (let i = 0; i < n * n; i++)
    a[2 * i] = use(i) ? d.image.data[i] / Math.sqrt(d.variance.data[i]) - sum / used : 0;
  fft.forward(a);
  return radialPowerBins(a, n);
}
