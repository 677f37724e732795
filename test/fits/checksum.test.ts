/**
 * CHECKSUM/DATASUM verification against files astropy wrote with checksum=True (an independent
 * implementation of the FITS checksum convention): intact files read, a flipped data byte fails
 * on DATASUM, a changed header byte on CHECKSUM; unverified reads still accept them.
 */
import { test } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { FitsError, readFits } from '../../shared/fits/index.js';
import { onesComplementSum } from '../../shared/fits/checksum.js';
import { runPython, skipWithout } from '../helpers/python.js';

const WRITE = `
import sys, numpy as np
from astropy.io import fits
img = (np.arange(37 * 23, dtype='>f4').reshape(23, 37) * 1.7 - 300)
hdus = fits.HDUList([fits.PrimaryHDU(header=fits.Header([('VISIT', 5)])), fits.ImageHDU(img, name='IMAGE'), fits.ImageHDU((img > 0).astype('>i4'), name='MASK')])
hdus.writeto(sys.argv[1], checksum=True)
`;

test('the ones\u2019 complement sum folds carries end-around', () => {
  assert.equal(onesComplementSum(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1), 0, 8), 1);
  assert.equal(onesComplementSum(Uint8Array.of(0x80, 0, 0, 0, 0x80, 0, 0, 0), 0, 8), 1);
});

test(
  'CHECKSUM and DATASUM written by astropy verify, and a flipped byte is caught',
  { skip: skipWithout('astropy') },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'checksum-'));
    const path = join(dir, 'astropy.fits');
    runPython('astropy', WRITE, [path]);
    const bytes = readFileSync(path);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(readFits(bytes, { verifyChecksums: true }).length, 3);
    const dataFlip = Buffer.from(bytes);
    dataFlip[2880 * 2 + 100] ^= 0x10; // in the IMAGE extension's data (primary header, image header, data)
    assert.throws(
      () => readFits(dataFlip, { verifyChecksums: true }),
      (e: Error) => e instanceof FitsError && /HDU 1: DATASUM .* does not match/.test(e.message),
    );
    const headerFlip = Buffer.from(bytes);
    const at = headerFlip.indexOf('VISIT');
    headerFlip[at + 29] = headerFlip[at + 29] === 0x36 ? 0x37 : 0x36; // VISIT = 5 -> 6
    assert.throws(
      () => readFits(headerFlip, { verifyChecksums: true }),
      (e: Error) => e instanceof FitsError && /HDU 0: CHECKSUM does not match/.test(e.message),
    );
    assert.equal(readFits(dataFlip).length, 3, 'not verified unless asked');
  },
);
