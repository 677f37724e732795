/**
 * The real DECam pair (shared/data/decam-mini): `ap diff` end to end, through the FITS file
 * it writes, for every method: unit normalised noise, the difference PSF readable back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readExposure } from '../../shared/fits/exposure.js';
import { readFits } from '../../shared/fits/read.js';
import { diffToFits, readDiffPsfFromFits, runDiff } from '../../shared/diffim/pipeline.js';
import { normalisedNoise } from '../../shared/diffim/subtract.js';

const DIR = new URL('../../../shared/data/decam-mini/', import.meta.url);
const present = existsSync(new URL('DEC-OBS04a.mini.fits', DIR));

for (const method of ['auto', 'al-convsci', 'zogy'] as const) {
  test(`DECam pair, method ${method}: clean difference with unit normalised noise`, { skip: present ? false : 'shared/data/decam-mini not found' }, async () => {
    const science = readExposure(readFileSync(new URL('DEC-OBS04a.mini.fits', DIR)));
    const template = readExposure(readFileSync(new URL('DEC-OBS18a.mini.fits', DIR)));
    const r = await runDiff(science, template, { subtract: { method } });
    assert.equal(r.method, method === 'auto' ? 'AL' : method === 'zogy' ? 'ZOGY' : 'AL-CONVSCI');
    assert.ok(Math.abs(r.stats.noiseRatio - 1) < 0.05, `IMAGE/sqrt(VARIANCE) std ${r.stats.noiseRatio}`);
    assert.ok(r.kernelSum > 0.9 && r.kernelSum < 1.1, `kernel sum ${r.kernelSum}`);
    const bytes = diffToFits(r);
    const hdus = readFits(bytes);
    assert.deepEqual(hdus.slice(1, 5).map((h) => h.name), ['IMAGE', 'MASK', 'VARIANCE', 'PSF']);
    assert.equal(hdus[0].header.get('DIFFMETH'), r.method);
    const back = readExposure(bytes);
    assert.ok(Math.abs(normalisedNoise(back).ratio - r.stats.noiseRatio) < 1e-3);
    const psf = readDiffPsfFromFits(bytes);
    assert.ok(Math.abs(psf.fwhmAt(127.5, 127.5) - Number(hdus[0].header.get('PSFFWHM'))) < 0.05);
  });
}
