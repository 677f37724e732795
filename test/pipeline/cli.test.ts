/**
 * `ap process` end to end on the files of `ap simulate --size 512`, read back by `ap alerts`;
 * a second run changes nothing; bad input exits 2 with one line naming the file. The run takes a
 * --config override, whose hash and the code version reach the summary, the difference header
 * (APCONFIG, APVERSION) and every alert.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDiaSourceCsv } from '../../shared/detect/csv.js';
import { FitsHeader, readFits, writeFits } from '../../shared/fits/index.js';
import { readDifference } from '../../shared/detect/read-difference.js';
import { runPython, skipWithout } from '../helpers/python.js';
import { configHash, pipelineConfig } from '../../shared/pipeline/index.js';
import { codeVersion } from '../../shared/util/version.js';

const AP = join(import.meta.dirname, '../../bin/ap.js');
const root = mkdtempSync(join(tmpdir(), 'ap-process-'));
const sim = join(root, 'sim');
const out = join(root, 'out');

function ap(...args: string[]) {
  return spawnSync(process.execPath, [AP, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
}

const science = join(sim, 'science-1.fits');
const template = join(sim, 'template.fits');
const configFile = join(root, 'config.json');
const OVERRIDE = { association: { historyDays: 300 } };
const process1 = [
  'process',
  '--science',
  science,
  '--template',
  template,
  '--out',
  out,
  '--config',
  configFile,
];

test.after(() => rmSync(root, { recursive: true, force: true }));

test('ap simulate then ap process writes alerts, DIASources, the difference, a summary and the APDB', () => {
  const simulated = ap('simulate', '--out', sim, '--size', '512', '--visits', '1', '--seed', '4');
  assert.equal(simulated.status, 0, simulated.stderr);
  writeFileSync(configFile, JSON.stringify(OVERRIDE));
  const run = ap(...process1);
  assert.equal(run.status, 0, run.stderr);
  for (const line of run.stderr.trim().split('\n'))
    assert.doesNotThrow(() => JSON.parse(line), `JSON log line: ${line}`);
  for (const f of [
    'alerts.avro',
    'diaSources.csv',
    'difference.fits',
    'summary.json',
    'apdb/visits.jsonl',
  ])
    assert.ok(existsSync(join(out, f)), f);

  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.ok(summary.alerts > 0);
  // One FWHM definition: summary.json gives the FWHM pairs the stage logs give.
  const stageLog = (stage: string) =>
    run.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.stage === stage);
  assert.equal(Number(summary.scienceFwhmPx.toFixed(3)), stageLog('characterizeScience').fwhmPx);
  assert.equal(Number(summary.templateFwhmPx.toFixed(3)), stageLog('characterizeTemplate').fwhmPx);
  assert.equal(summary.storedInApdb, true);
  assert.ok(['AL', 'AL-CONVSCI', 'ZOGY'].includes(summary.method));
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(summary.tfBackend));
  for (const stage of [
    'characterizeScience',
    'characterizeTemplate',
    'warp',
    'subtract',
    'detect',
    'score',
    'associate',
    'alerts',
    'total',
  ]) {
    assert.equal(typeof summary.timingsMs[stage], 'number', stage);
  }

  const printed = ap('alerts', '--in', join(out, 'alerts.avro'));
  assert.equal(printed.status, 0, printed.stderr);
  const alerts = printed.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(alerts.length, summary.alerts);
  assert.match(alerts[0].cutoutDifference, /^<\d+ bytes FITS elided>$/);

  const hash = configHash(pipelineConfig(OVERRIDE));
  assert.notEqual(hash, configHash(pipelineConfig()), 'the override changes the hash');
  assert.equal(summary.configHash, hash);
  assert.equal(summary.codeVersion, codeVersion());
  for (const a of alerts) {
    assert.equal(a.diaSource.configHash, hash);
    assert.equal(a.diaSource.codeVersion, summary.codeVersion);
    assert.equal(a.diaSource.reliabilityModel, summary.reliabilityModel);
    if (summary.reliabilityModel !== null)
      assert.ok(a.diaSource.reliability >= 0 && a.diaSource.reliability <= 1);
  }

  const rows = parseDiaSourceCsv(readFileSync(join(out, 'diaSources.csv'), 'utf8'));
  assert.equal(rows.length, summary.diaSources);
  assert.deepEqual(
    rows.map((r) => Number(r.diaSourceId)).sort(),
    alerts.map((a) => a.diaSourceId).sort(),
    'the table and the alerts share ids',
  );

  const diff = readDifference(readFileSync(join(out, 'difference.fits')), 'difference.fits');
  assert.equal(diff.method, summary.method);
  assert.equal(diff.exposure.width, 512);
  assert.equal(diff.psfSource, 'PSF extension');
  const header = readFits(readFileSync(join(out, 'difference.fits')))[0].header;
  assert.equal(header.get('APCONFIG'), hash);
  assert.equal(header.get('APVERSION'), summary.codeVersion);
});

test(
  'alerts.avro is an Avro container any Avro library reads',
  { skip: skipWithout('avro') },
  () => {
    const count = runPython(
      'avro',
      'import sys, avro.datafile, avro.io\nr = avro.datafile.DataFileReader(open(sys.argv[1], "rb"), avro.io.DatumReader())\nprint(sum(1 for _ in r))',
      [join(out, 'alerts.avro')],
    );
    assert.equal(Number(count), JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).alerts);
  },
);

test('a second run on the same inputs leaves the APDB unchanged and prints the same alerts', () => {
  const apdb = join(out, 'apdb');
  const before = readdirSync(apdb).map((f) => readFileSync(join(apdb, f), 'utf8'));
  const first = ap('alerts', '--in', join(out, 'alerts.avro')).stdout;
  const run = ap(...process1);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(
    readdirSync(apdb).map((f) => readFileSync(join(apdb, f), 'utf8')),
    before,
  );
  assert.equal(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).storedInApdb, false);
  assert.equal(ap('alerts', '--in', join(out, 'alerts.avro')).stdout, first);
});

test('ap process takes a prepared template (ap diff --prepared-template-out) without characterizing it again', () => {
  const prepared = join(root, 'template.prepared.fits');
  const diff = ap(
    'diff',
    '--science',
    science,
    '--template',
    template,
    '--out',
    join(root, 'd.fits'),
    '--prepared-template-out',
    prepared,
  );
  assert.equal(diff.status, 0, diff.stderr);
  const preparedOut = join(root, 'out-prepared');
  const run = ap('process', '--science', science, '--template', prepared, '--out', preparedOut);
  assert.equal(run.status, 0, run.stderr);
  const stage = run.stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { stage?: string; preloaded?: boolean; fwhmPx?: number })
    .find((l) => l.stage === 'characterizeTemplate');
  assert.equal(stage?.preloaded, true);
  const [a, b] = [out, preparedOut].map(
    (d) => JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')) as Record<string, number>,
  );
  // The template model written is the one characterized: the same FWHM and photometric scale,
  // the same transients found (its stars are found afresh for the refit: not bit for bit).
  assert.equal(b.templateFwhmPx, a.templateFwhmPx);
  assert.ok(Math.abs(b.kernelSum / a.kernelSum - 1) < 0.01, `${b.kernelSum} vs ${a.kernelSum}`);
  assert.ok(Math.abs(b.diaSources - a.diaSources) <= Math.max(2, 0.05 * a.diaSources));
  const withVariance = ap(
    'process',
    '--science',
    science,
    '--template',
    prepared,
    '--template-variance',
    template,
    '--out',
    preparedOut,
  );
  assert.equal(withVariance.status, 2);
  assert.match(withVariance.stderr, /carries its own variance/);
});

function assertInputError(args: string[], file: string, pattern: RegExp): void {
  const r = ap(...args);
  assert.equal(r.status, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.ok(lines[0].includes(file), `names ${file}: ${lines[0]}`);
  assert.match(lines[0], pattern);
}

test('bad input: corrupt FITS, missing file, image without WCS of another shape: exit 2, one line', () => {
  const corrupt = join(root, 'corrupt.fits');
  writeFileSync(corrupt, readFileSync(science).subarray(0, 5000));
  assertInputError(
    ['process', '--science', corrupt, '--template', template, '--out', join(root, 'o1')],
    corrupt,
    /corrupt\.fits: /,
  );

  const missing = join(root, 'missing.fits');
  assertInputError(
    ['process', '--science', science, '--template', missing, '--out', join(root, 'o2')],
    missing,
    /no such file/,
  );

  const flat = join(root, 'nowcs.fits');
  const header = new FitsHeader().set('PHOTZP', 30).set('MJD-OBS', 61000);
  writeFileSync(
    flat,
    writeFits([{ data: new Float32Array(300 * 200).fill(100), width: 300, height: 200, header }]),
  );
  assertInputError(
    ['process', '--science', science, '--template', flat, '--out', join(root, 'o3')],
    flat,
    /no celestial WCS.*same shape/,
  );

  assertInputError(
    ['process', '--science', science, '--template', template],
    '--out',
    /missing required option --out/,
  );

  const bad = join(root, 'bad-config.json');
  writeFileSync(bad, '{"subtract": {"kernelSizeMin": 41, "kernelSizeMax": 35}}');
  assertInputError(
    [
      'process',
      '--science',
      science,
      '--template',
      template,
      '--out',
      join(root, 'o4'),
      '--config',
      bad,
    ],
    bad,
    /subtract\.kernelSizeMax must be >= subtract\.kernelSizeMin \(41\), got 35$/,
  );
  assertInputError(
    [
      'diff',
      '--science',
      science,
      '--template',
      template,
      '--out',
      join(root, 'd.fits'),
      '--config',
      bad,
    ],
    bad,
    /subtract\.kernelSizeMax must be >= /,
  );
  assertInputError(
    [
      'diff',
      '--science',
      science,
      '--template',
      template,
      '--out',
      join(root, 'd.fits'),
      '--config',
      join(root, 'none.json'),
    ],
    'none.json',
    /no such file/,
  );
});

test('a different image under a stored (visit, detector) into the same --out: exit 2, one line, nothing stored or reused', () => {
  const apdb = join(out, 'apdb');
  const before = readdirSync(apdb).map((f) => readFileSync(join(apdb, f), 'utf8'));
  const alertsBefore = readFileSync(join(out, 'alerts.avro'));
  const changed = join(root, 'changed.fits');
  const bytes = Buffer.from(readFileSync(science));
  bytes.writeFloatBE(123456, bytes.length - 4 * 600); // one pixel of the last rows: same header, other content
  writeFileSync(changed, bytes);
  assertInputError(
    ['process', '--science', changed, '--template', template, '--out', out],
    changed,
    /visit \d+ detector \d+ is already stored from a different image/,
  );
  assert.deepEqual(
    readdirSync(apdb).map((f) => readFileSync(join(apdb, f), 'utf8')),
    before,
  );
  assert.deepEqual(readFileSync(join(out, 'alerts.avro')), alertsBefore);
});

test('the quality gate: an image beyond the config quality limits is quarantined, its alerts withheld, exit 2, one line', () => {
  const gated = join(root, 'gated');
  const strict = join(root, 'strict.json');
  // The same clean image judged by a limit below its density: the gate's knob, not a flood, decides.
  writeFileSync(strict, JSON.stringify({ quality: { maxDiaSourcesPerMpix: 1 } }));
  const args = ['process', '--science', science, '--template', template, '--out', gated];
  assertInputError(
    [...args, '--config', strict],
    science,
    /quarantined: \d+ DIASources on 0\.26 Mpix \(\d+\/Mpix\) is above the normal maximum 1\/Mpix; \d+ alerts withheld/,
  );
  assert.ok(!existsSync(join(gated, 'alerts.avro')), 'no alerts');
  assert.ok(!existsSync(join(gated, 'apdb/visits.jsonl')), 'nothing in the APDB');
  const summary = JSON.parse(readFileSync(join(gated, 'summary.json'), 'utf8'));
  assert.match(summary.quarantined, /above the normal maximum 1\/Mpix/);
  assert.equal(summary.storedInApdb, false);
  assert.ok(existsSync(join(gated, 'diaSources.csv')), 'DIASources kept for inspection');
});
