// The real DECam frames' TPV headers: parsed, and consistent with the CCD geometry the header states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { wcsFromHeader } from '../../shared/wcs/index.js';

const DATA = '/work/shared/data/decam-mini/';

/** Minimal primary-header reader (80-char cards up to END) so this test does not depend on shared/fits. */
function primaryHeader(path: string): Map<string, string | number | boolean> {
  const text = readFileSync(path)
    .subarray(0, 2880 * 10)
    .toString('latin1');
  const cards = new Map<string, string | number | boolean>();
  for (let at = 0; at < text.length; at += 80) {
    const card = text.slice(at, at + 80);
    const key = card.slice(0, 8).trim();
    if (key === 'END') break;
    if (card.slice(8, 10) !== '= ') continue;
    const raw = card.slice(10).trim();
    if (raw.startsWith("'")) cards.set(key, raw.slice(1, raw.indexOf("'", 1)).trimEnd());
    else {
      const value = raw.split('/')[0].trim();
      cards.set(key, value === 'T' ? true : value === 'F' ? false : Number(value));
    }
  }
  return cards;
}

for (const file of ['DEC-OBS04a.mini.fits', 'DEC-OBS18a.mini.fits']) {
  test(`${file}: TPV WCS whose CCD corners form the 2048 x 4096 DECam CCD`, (t) => {
    const header = primaryHeader(DATA + file);
    const wcs = wcsFromHeader(header);
    assert.ok(wcs);
    assert.equal(wcs.kind, 'TPV');
    const corner = (k: number) => [header.get(`COR${k}RA1`), header.get(`COR${k}DEC1`)] as number[];
    const ra = Float64Array.from([1, 2, 3, 4].map((k) => corner(k)[0]));
    const dec = Float64Array.from([1, 2, 3, 4].map((k) => corner(k)[1]));
    const { x, y } = wcs.skyToPixel({ ra, dec });
    const side = (i: number, j: number) => Math.hypot(x[i] - x[j], y[i] - y[j]);
    // The corner cards are rounded to 1e-4 deg (~1.4 px in dec, 0.6 px in RA here).
    t.diagnostic(
      `corner sides ${[side(0, 1), side(1, 3), side(3, 2), side(2, 0)].map((s) => s.toFixed(2)).join(', ')} px`,
    );
    const short = [side(0, 1), side(2, 3)];
    const long = [side(0, 2), side(1, 3)];
    for (const s of short) assert.ok(Math.abs(s - 2047) < 4, `short side ${s}`);
    for (const s of long) assert.ok(Math.abs(s - 4095) < 4, `long side ${s}`);
    const centre = wcs.skyToPixel({
      ra: Float64Array.of(header.get('CENRA1') as number),
      dec: Float64Array.of(header.get('CENDEC1') as number),
    });
    const meanX = (x[0] + x[1] + x[2] + x[3]) / 4;
    const meanY = (y[0] + y[1] + y[2] + y[3]) / 4;
    assert.ok(
      Math.hypot(centre.x[0] - meanX, centre.y[0] - meanY) < 3,
      'CCD centre is the mean of the corners',
    );
    const local = wcs.jacobian(128, 128);
    assert.ok(
      Math.abs(local.pixelScaleArcsec - 0.263) < 0.005,
      `DECam scale ${local.pixelScaleArcsec}"/px`,
    );
  });
}
