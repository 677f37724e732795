// The real DECam frames' TPV headers: parsed, and consistent with the CCD geometry the header states.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFits } from '../../shared/fits/index.js';
import { wcsFromHeader } from '../../shared/wcs/index.js';
import { runPython, skipWithout } from '../helpers/python.js';
import { DECAM_DIR } from '../helpers/data.js';

const DATA = DECAM_DIR;

function primaryHeader(path: string) {
  return readFits(new Uint8Array(readFileSync(path)))[0].header;
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

test(
  'DEC-OBS18a.mini.fits: pixel -> sky agrees with astropy/wcslib to 1e-3 px',
  { skip: skipWithout('astropy') },
  () => {
    const path = DATA + 'DEC-OBS18a.mini.fits';
    const wcs = wcsFromHeader(primaryHeader(path))!;
    const xs = [0, 255, 0, 255, 127.5, 31.25];
    const ys = [0, 0, 255, 255, 127.5, 200.75];
    const script = `
import sys, json
from astropy.io import fits
from astropy.wcs import WCS
ra, dec = WCS(fits.getheader(sys.argv[1])).all_pix2world(json.loads(sys.argv[2]), json.loads(sys.argv[3]), 0)
print(json.dumps([ra.tolist(), dec.tolist()]))`;
    const [ra, dec] = JSON.parse(
      runPython('astropy', script, [path, JSON.stringify(xs), JSON.stringify(ys)]),
    ) as number[][];
    const back = wcs.skyToPixel({ ra: Float64Array.from(ra), dec: Float64Array.from(dec) });
    xs.forEach((x, i) =>
      assert.ok(Math.hypot(back.x[i] - x, back.y[i] - ys[i]) < 1e-3, `pixel ${x},${ys[i]}`),
    );
  },
);
