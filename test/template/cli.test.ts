/**
 * `ap template` end to end on `ap simulate --template-inputs`: good inputs coadded, each kind of bad
 * input rejected with its reason in INPUTS, an input without a zero point scaled by matched stars,
 * the output read by `ap diff --template`; too few inputs is "not enough inputs" (exit 2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFits, writeFits, readExposureWithHeader } from '../../shared/fits/index.js';
import { readInputsTable } from '../../shared/template/index.js';

const AP = join(import.meta.dirname, '../../bin/ap.js');
const root = mkdtempSync(join(tmpdir(), 'ap-template-'));
const ap = (...args: string[]) =>
  spawnSync(process.execPath, [AP, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
test.after(() => rmSync(root, { recursive: true, force: true }));

/** A copy of a simulated input with its header changed. */
function variant(
  from: string,
  to: string,
  edit: (h: ReturnType<typeof readFits>[0]['header']) => void,
): string {
  const [hdu] = readFits(readFileSync(from));
  edit(hdu.header);
  writeFileSync(
    to,
    writeFits([
      { data: hdu.data as Float32Array, width: hdu.width, height: hdu.height, header: hdu.header },
    ]),
  );
  return to;
}

test('ap template: coadds, rejects bad inputs with a reason each, scales a zero-point-less input by stars; ap diff reads the result', () => {
  const sim = ap(
    'simulate',
    '--out',
    root,
    '--size',
    '512',
    '--seed',
    '11',
    '--visits',
    '1',
    '--template-inputs',
    '5',
  );
  assert.equal(sim.status, 0, sim.stderr);
  const input = (k: number) => join(root, `input-${k}.fits`);
  const noZp = variant(input(2), join(root, 'nozp.fits'), (h) => h.delete('PHOTZP'));
  const trueZp = readExposureWithHeader(readFileSync(input(2))).exposure.info.zeroPoint;
  const bad = {
    'nowcs.fits': variant(input(3), join(root, 'nowcs.fits'), (h) => {
      for (const c of [...h])
        if (/^(CTYPE|CRVAL|CRPIX|CD\d|A_|B_|AP_|BP_)/.test(c.keyword)) h.delete(c.keyword);
    }),
    'gband.fits': variant(input(3), join(root, 'gband.fits'), (h) => h.set('FILTER', 'g')),
    'far.fits': variant(input(3), join(root, 'far.fits'), (h) =>
      h.set('CRVAL2', Number(h.get('CRVAL2')) + 2),
    ),
    'nozp-shifted.fits': variant(input(4), join(root, 'nozp-shifted.fits'), (h) => {
      h.delete('PHOTZP');
      h.set('CRVAL1', Number(h.get('CRVAL1')) + 20 / 3600);
    }),
  };
  const corrupt = join(root, 'corrupt.fits');
  writeFileSync(corrupt, readFileSync(input(5)).subarray(0, 20000));
  const out = join(root, 'T.fits');
  // This set's seeing spans 0.53-1.25": the PSF-homogeneity cut is relaxed so that all good inputs are used.
  const knobs = join(root, 'knobs.json');
  writeFileSync(knobs, JSON.stringify({ maxFwhmRatio: 3 }));
  const run = ap(
    'template',
    '--out',
    out,
    '--config',
    knobs,
    input(1),
    noZp,
    input(3),
    input(4),
    input(5),
    ...Object.values(bad),
    corrupt,
    join(root, 'missing.fits'),
  );
  assert.equal(run.status, 0, run.stderr);
  const usedCount = Number(
    /T\.fits: r-hpx8-\d+-v1-[0-9a-f]{10}, (\d+) of 11 inputs used/.exec(run.stdout)?.[1],
  );
  assert.equal(usedCount, 5, run.stdout);
  const rows = readInputsTable(readFileSync(out));
  const reason = (name: string) => rows.find((r) => r.file.endsWith(name))?.reason ?? 'absent';
  assert.match(reason('nowcs.fits'), /no celestial WCS/);
  assert.match(reason('gband.fits'), /band 'g', not 'r'/);
  assert.match(reason('far.fits'), /no overlap/);
  assert.match(reason('nozp-shifted.fits'), /no zero point .* 0 stars matched/);
  assert.match(reason('corrupt.fits'), /unreadable: .*truncated/);
  assert.match(reason('missing.fits'), /cannot read \(ENOENT\)/);
  const scaled = rows.find((r) => r.file.endsWith('nozp.fits'))!;
  assert.equal(scaled.used, true, scaled.reason);
  assert.equal(scaled.zeroPointSource, 'stars');
  assert.ok(
    Math.abs(scaled.zeroPoint - trueZp) < 0.02,
    `star-scaled zero point ${scaled.zeroPoint} vs ${trueZp}`,
  );
  assert.ok(
    rows
      .filter((r) => r.used)
      .every((r) => r.weight > 0 && r.fwhmArcsec > 0 && Number.isFinite(r.depthMag)),
  );

  const { header, exposure } = readExposureWithHeader(readFileSync(out));
  assert.equal(header.getNumber('NINPUTS'), usedCount);
  assert.match(header.getString('TMPLID') ?? '', /^r-hpx8-/);
  assert.ok(Math.abs((header.getNumber('MAGZERO') ?? 0) - exposure.info.zeroPoint) < 1e-9);
  const names = readFits(readFileSync(out)).map((h) => h.name);
  assert.deepEqual(names.slice(1), ['IMAGE', 'MASK', 'VARIANCE', 'PSF', 'NOISECOR']);

  const page = readFileSync(join(root, 'T-vetting.html'), 'utf8');
  assert.match(page, /<h1>Template r-hpx8-/);
  assert.match(page, /data:image\/png;base64,/);
  assert.match(page, /no celestial WCS/);
  const halfSplit = Number(/"halfSplitSigma":([0-9.]+)/.exec(run.stderr)?.[1]);
  assert.ok(Math.abs(halfSplit - 1) < 0.1, `half-split noise ${halfSplit}`);

  const diff = ap(
    'diff',
    '--science',
    join(root, 'science-6.fits'),
    '--template',
    out,
    '--out',
    join(root, 'D.fits'),
  );
  assert.equal(diff.status, 0, diff.stderr);
});

test('ap template release: the next version of a frozen template on its grid, with a new TMPLID', () => {
  const old = readExposureWithHeader(readFileSync(join(root, 'T.fits')));
  const out = join(root, 'T-v2.fits');
  const inputs = [1, 3, 4, 5].map((k) => join(root, `input-${k}.fits`));
  const knobs = join(root, 'knobs.json');
  const run = ap(
    'template',
    'release',
    '--from',
    join(root, 'T.fits'),
    '--out',
    out,
    '--config',
    knobs,
    ...inputs,
  );
  assert.equal(run.status, 0, run.stderr);
  const next = readExposureWithHeader(readFileSync(out));
  assert.equal(next.header.getNumber('TMPLVER'), 2);
  assert.equal(next.header.getString('TMPLGRID'), old.header.getString('TMPLGRID'));
  assert.match(next.exposure.info.templateVersion ?? '', /^r-hpx8-\d+-v2-[0-9a-f]{10}$/);
  assert.notEqual(next.exposure.info.templateVersion, old.exposure.info.templateVersion);
  const probe = { x: Float64Array.of(0), y: Float64Array.of(0) };
  assert.deepEqual(next.exposure.wcs?.pixelToSky(probe), old.exposure.wcs?.pixelToSky(probe));
  for (const args of [
    ['release', '--out', out, ...inputs],
    ['release', '--from', inputs[0], '--out', out, ...inputs],
    ['release', '--from', join(root, 'T.fits'), '--tile', '3', '--out', out, ...inputs],
  ]) {
    const bad = ap('template', ...args);
    assert.equal(bad.status, 2, args.join(' '));
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
  }
  assert.match(
    ap('template', 'release', '--from', inputs[0], '--out', out, ...inputs).stderr,
    /not a template/,
  );
});

test('ap template: too few usable inputs is "not enough inputs", exit 2, one line', () => {
  const run = ap(
    'template',
    '--out',
    join(root, 'T2.fits'),
    '--min-inputs',
    '9',
    join(root, 'input-1.fits'),
    join(root, 'input-2.fits'),
    join(root, 'input-3.fits'),
  );
  assert.equal(run.status, 2);
  assert.match(
    run.stderr,
    /^ap template: not enough inputs: [0-3] usable of 3, at least 9 needed( \([^\n]*\))?\n$/,
  );
});

test('ap template: --help, and bad options in one line', () => {
  writeFileSync(join(root, 'bad-knobs.json'), JSON.stringify({ minInputs: 0 }));
  const help = ap('template', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: ap template --out T\.fits/);
  for (const args of [
    ['--out', 'x.fits'],
    ['--out', 'x.fits', '--rejection', 'mean', 'a.fits'],
    ['--out', 'x.fits', '--tile=-3', 'a.fits'],
    ['--out', 'x.fits', '--tile', '1.5', 'a.fits'],
    ['--out', 'x.fits', '--grid', 'g.fits', '--tile', '3', 'a.fits'],
    ['--out', 'x.fits', '--config', join(root, 'bad-knobs.json'), 'a.fits'],
  ]) {
    const run = ap('template', ...args);
    assert.equal(run.status, 2, args.join(' '));
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  }
});
