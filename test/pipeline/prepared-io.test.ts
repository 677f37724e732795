/**
 * A prepared template stored as a file (writePreparedImage) and read back (readPreparedImage)
 * is the same template to the pipeline: same pixels, masks, origin and PSF model, and
 * processDetector gives the same difference image from either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import { findSources } from '../../shared/astrom/sources.js';
import { FitsError, writeExposure } from '../../shared/fits/index.js';
import { GaussianPsf } from '../../shared/psf/gaussian-psf.js';
import { OffsetPsf } from '../../shared/psf/offset-psf.js';
import { PixelPsf } from '../../shared/psf/pixel-psf.js';
import { psfFromHdu, psfToHdu } from '../../shared/psf/persist.js';
import { pipelineConfig, prepareTemplate, processDetector } from '../../shared/pipeline/index.js';
import type { PreparedImage } from '../../shared/pipeline/preprocess.js';
import { readPreparedImage, writePreparedImage } from '../../shared/pipeline/prepared-io.js';
import { nightFiles } from './night.js';

const files = nightFiles({ size: 512, seed: 11, visits: 1 });
/** A cut-out, as the preload stores: a view whose origin is not the parent's. */
const cut = { x: 37, y: 21, width: 440, height: 470 };
const prepared = prepareTemplate(files.template().exposure.view(cut));
const readBack = readPreparedImage(writePreparedImage(prepared), 'template.fits');

test('the stored template has the same pixels, origin, masks and PSF model', () => {
  const a = prepared.exposure;
  const b = readBack.exposure;
  assert.deepEqual(
    [b.image.x0, b.image.y0, b.width, b.height],
    [cut.x, cut.y, cut.width, cut.height],
  );
  assert.deepEqual(b.image.clone().data, a.image.clone().data);
  assert.deepEqual(b.mask.clone().data, a.mask.clone().data);
  assert.deepEqual(b.variance.clone().data, a.variance.clone().data);
  assert.equal(readBack.psfFwhmPx, prepared.psfFwhmPx);
  assert.ok(
    a.psf instanceof OffsetPsf && b.psf instanceof OffsetPsf,
    'a view keeps its PSF in the parent frame',
  );
  for (const [x, y] of [
    [60.2, 40.7],
    [250, 260.5],
    [470.9, 480.1],
  ]) {
    assert.deepEqual(b.psf.stampAt(x, y).data, a.psf.stampAt(x, y).data, `PSF at (${x}, ${y})`);
    assert.equal(b.psf.fwhmAt(x, y), a.psf.fwhmAt(x, y));
  }
});

test('the pipeline gives the same difference from the stored template as from the one in memory', async () => {
  const root = mkdtempSync(join(tmpdir(), 'prepared-io-'));
  try {
    const config = pipelineConfig();
    const run = async (template: PreparedImage) => {
      const apdb = await EmbeddedApdb.open(join(root, String(Math.random())));
      const { exposure, header } = files.visit(0);
      return processDetector({ science: exposure, scienceHeader: header, template, apdb }, config, {
        now: () => Date.UTC(2026, 10, 25),
      });
    };
    const fromMemory = await run(prepared);
    const fromFile = await run(readBack);
    assert.deepEqual(
      fromFile.difference.image.clone().data,
      fromMemory.difference.image.clone().data,
    );
    assert.equal(fromFile.diaSources.length, fromMemory.diaSources.length);
    assert.ok(fromFile.diaSources.length > 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the stored template keeps its stars for the registration, as found on the file read back', () => {
  const stars = findSources(readBack.exposure);
  assert.ok(stars.length > 10, `${stars.length} stars`);
  assert.deepEqual(readBack.stars, stars);
  assert.equal(
    readPreparedImage(writePreparedImage({ ...prepared, stars: [] }), 'starless.fits').stars,
    undefined,
    'no star, no extension: the registration looks for them',
  );
});

test('a noise correlation model round-trips; white templates carry none', () => {
  assert.equal(prepared.exposure.noiseCorrelation, null, 'the simulator renders white noise');
  const withNoise = {
    ...prepared,
    exposure: prepared.exposure.view({ x: 0, y: 0, width: cut.width, height: cut.height }),
  };
  const model = {
    x0: cut.x,
    y0: cut.y,
    cellSize: 128,
    nx: 2,
    ny: 1,
    cells: [
      { x: [1, 0.21, -0.03], y: [1, 0.18] },
      { x: [1, 0.12], y: [1, 0.3, 0.05, -0.01] },
    ],
  };
  withNoise.exposure.noiseCorrelation = model;
  const back = readPreparedImage(writePreparedImage(withNoise), 'noisy.fits').exposure
    .noiseCorrelation;
  const padded = (a: number[]) => [...a, 0, 0, 0, 0].slice(0, 4);
  assert.deepEqual(back, {
    ...model,
    cells: model.cells.map((c) => ({ x: padded(c.x), y: padded(c.y) })),
  });
});

test('analytic and offset PSFs round-trip; unknown models and malformed extensions are refused', () => {
  const cards = (c: Array<[string, string | number]>) => (k: string) => new Map(c).get(k);
  const gauss = new OffsetPsf(new GaussianPsf(4, 5, 0.5, 21), 10, -3);
  const g = psfToHdu(gauss);
  const back = psfFromHdu(cards(g.cards), g.data, g.width, g.height);
  assert.deepEqual(back.stampAt(3.3, 8.6).data, gauss.stampAt(3.3, 8.6).data);

  const pixel = new PixelPsf(
    5,
    1,
    Float64Array.from({ length: 75 }, (_v, i) => (i % 25 === 12 ? 1 : 0.01 * (i % 7))),
    { width: 100, height: 80 },
  );
  const p = psfToHdu(pixel);
  assert.deepEqual(
    psfFromHdu(cards(p.cards), p.data, p.width, p.height).stampAt(40.5, 70.2).data,
    pixel.stampAt(40.5, 70.2).data,
  );
  assert.throws(
    () => psfFromHdu(cards(p.cards), p.data!.subarray(0, 50), 5, 10),
    /PSF extension: 5x10 pixels for 3 basis images/,
  );
  assert.throws(
    () =>
      psfFromHdu(
        cards([
          ['PSFMODEL', 'SHAPELET'],
          ['PSFSIZE', 5],
        ]),
        null,
        0,
        0,
      ),
    /unknown PSFMODEL SHAPELET/,
  );
  assert.throws(
    () =>
      psfToHdu({
        stampSize: 3,
        stampAt: () => ({ size: 3, data: new Float32Array(9) }),
        fwhmAt: () => 1,
        sigmaAt: () => 1,
      }),
    /no stored form/,
  );
});

test('a plain exposure file is not taken for a prepared image', () => {
  assert.throws(
    () => readPreparedImage(writeExposure(files.template().exposure), 'raw-template.fits'),
    (e: unknown) =>
      e instanceof FitsError && /raw-template.fits: not a prepared image/.test(e.message),
  );
  assert.throws(
    () => readPreparedImage(new Uint8Array(100), 'junk.fits'),
    (e: unknown) => e instanceof FitsError && /^junk.fits: /.test(e.message),
  );
});
