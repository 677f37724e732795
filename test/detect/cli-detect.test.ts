import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GaussianPsf } from '../../shared/detect/analytic-psf.js';
import { DIASOURCE_CSV_COLUMNS, diaSourceId, parseDiaSourceCsv } from '../../shared/detect/csv.js';
import { diffPsfToHdu, GridPsf } from '../../shared/diffim/psf-grid.js';
import { FitsHeader } from '../../shared/fits/index.js';
import { writeExposure } from '../../shared/fits/exposure.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { makeTanWcs } from '../../shared/wcs/index.js';
import { addPointSource, noiseExposure, predictedFluxErr } from './synthetic.js';

const AP = join(import.meta.dirname, '../../bin/ap.js');

function ap(...args: string[]) {
  return spawnSync(process.execPath, [AP, ...args], { encoding: 'utf8' });
}

/** A difference file as `ap diff` writes it: IMAGE/MASK/VARIANCE, science WCS, PSF grid extension, cards. */
function writeDifference(dir: string): {
  path: string;
  truth: Array<{ x: number; y: number; flux: number }>;
} {
  const psf = GaussianPsf.fromFwhm(4.2);
  const exposure = noiseExposure(400, 300, () => 80, 71, psf);
  exposure.wcs = makeTanWcs({
    crpix: [199.5, 149.5],
    crval: [10, -30],
    cd: [
      [-5.6e-5, 0],
      [0, 5.6e-5],
    ],
  });
  exposure.info = { ...exposure.info, visit: 4021, detector: 7 };
  const err = predictedFluxErr(psf, 0, 0, 80);
  const truth = [
    { x: 100.4, y: 80.6, flux: 25 * err },
    { x: 300.2, y: 200.9, flux: -15 * err },
    { x: 250.7, y: 60.1, flux: 9 * err },
  ];
  for (const t of truth) addPointSource(exposure, psf, t.x, t.y, t.flux);
  exposure.mask.data[Math.round(80.6) * 400 + 101] |= MaskPlane.SAT;
  const grid = new GridPsf(
    [0, 399],
    [0, 299],
    [0, 1, 2, 3].map(() => psf.stampAt(0, 0, true).data),
    psf.stampSize,
  );
  const hdu = diffPsfToHdu(grid);
  const header = new FitsHeader();
  for (const [k, v] of hdu.cards) header.set(k, v);
  const path = join(dir, 'diff.fits');
  writeFileSync(
    path,
    writeExposure(exposure, {
      extraHeader: [
        ['DIFFMETH', 'AL'],
        ['KERNSUM', 1.02],
        ['PSFFWHM', 4.2],
      ],
      extraHdus: [{ name: 'PSF', data: hdu.data, width: hdu.width, height: hdu.height, header }],
    }),
  );
  return { path, truth };
}

test('ap detect writes the DIASource CSV of a difference file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-detect-'));
  const { path, truth } = writeDifference(dir);
  const out = join(dir, 'sources.csv');
  const result = ap('detect', '--diff', path, '--out', out);
  assert.equal(result.status, 0, result.stderr);
  const log = JSON.parse(result.stderr.trim().split('\n').pop() ?? '{}');
  assert.equal(log.count, 3);
  assert.equal(log.psf, 'PSF extension');
  const text = readFileSync(out, 'utf8');
  assert.equal(text.split('\n')[0], DIASOURCE_CSV_COLUMNS.join(','));
  for (const c of [
    'diaSourceId',
    'x',
    'y',
    'ra',
    'dec',
    'psfFlux',
    'psfFluxErr',
    'snr',
    'apFlux',
    'apFluxErr',
    'isDipole',
    'isNegative',
    'reliability',
    'flags',
  ]) {
    assert.ok(DIASOURCE_CSV_COLUMNS.includes(c as (typeof DIASOURCE_CSV_COLUMNS)[number]), c);
  }
  const rows = parseDiaSourceCsv(text);
  for (const t of truth) {
    const s = rows.find((r) => Math.hypot(r.x - t.x, r.y - t.y) < 1);
    assert.ok(s, `source at ${t.x},${t.y}`);
    assert.equal(s.isNegative, t.flux < 0);
    assert.ok(Math.abs(s.psfFlux / t.flux - 1) < 0.25);
    assert.ok(Number.isNaN(s.reliability), 'reliability is empty until scored');
    assert.ok(Math.abs(s.dec + 30) < 0.02 && Math.abs(s.ra - 10) < 0.02);
  }
  const saturated = rows.find((r) => Math.hypot(r.x - 100.4, r.y - 80.6) < 1);
  assert.ok(saturated?.flags.saturatedCenter);
  assert.match(text, /saturated\|saturatedCenter/);
  assert.equal(rows[0].diaSourceId, diaSourceId(4021, 7, 0));

  const strict = ap('detect', '--diff', path, '--out', out, '--threshold', '30');
  assert.equal(strict.status, 0);
  assert.equal(parseDiaSourceCsv(readFileSync(out, 'utf8')).length, 0);
});

test('ap detect rejects bad input with one line naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-detect-'));
  const missing = ap('detect', '--diff', join(dir, 'nope.fits'), '--out', join(dir, 'x.csv'));
  assert.equal(missing.status, 2);
  const junk = join(dir, 'junk.fits');
  writeFileSync(junk, 'not a FITS file');
  const bad = ap('detect', '--diff', junk, '--out', join(dir, 'x.csv'));
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /junk\.fits/);
  const threshold = ap(
    'detect',
    '--diff',
    junk,
    '--out',
    join(dir, 'x.csv'),
    '--threshold',
    'five',
  );
  assert.equal(threshold.status, 2);
  assert.match(threshold.stderr, /--threshold/);
});
