/**
 * Input the pipeline cannot process gives a typed error (PipelineInputError naming the image at
 * fault, or the warp's InsufficientCoverageError) so that callers can report it and dead-letter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import { Exposure } from '../../shared/image/exposure.js';
import {
  InsufficientCoverageError,
  PipelineInputError,
  pipelineConfig,
  prepareScience,
  processDetector,
  resolveZeroPoint,
  type InputRole,
} from '../../shared/pipeline/index.js';
import { makeTanWcs } from '../../shared/wcs/index.js';
import type { Matrix2 } from '../../shared/wcs/index.js';
import { nightFiles } from './night.js';

const here = nightFiles({ size: 256, seed: 5, visits: 1 });
const elsewhere = nightFiles({ size: 256, seed: 5, visits: 1, ra: 152, dec: 4 });
/** Large enough for PSF matching (kernel candidates); no dither or rotation, so that the two are aligned pixel for pixel. */
const full = nightFiles({ size: 512, seed: 5, visits: 1, ditherPx: 0, rotationDeg: [0, 0] });

function inputError(role: InputRole, pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof PipelineInputError, `PipelineInputError expected, got ${String(err)}`);
    assert.equal(err.role, role);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  };
}

const run = (science: Exposure, template: Exposure) =>
  processDetector({ science, template, apdb: new EmbeddedApdb() });

test('an image without a finite pixel', async () => {
  const science = here.visit(0).exposure;
  science.image.fill(Number.NaN);
  await assert.rejects(
    run(science, here.template().exposure),
    inputError('science', /no finite pixel/),
  );
  const template = here.template().exposure;
  template.image.fill(Number.POSITIVE_INFINITY);
  await assert.rejects(
    run(here.visit(0).exposure, template),
    inputError('template', /no finite pixel/),
  );
});

test('an empty image', () => {
  assert.throws(() => prepareScience(Exposure.blank(0, 0)), inputError('science', /empty/));
});

test('no WCS on one image and a different shape', async () => {
  const template = here.template().exposure;
  const small = template.view({ x: 0, y: 0, width: 200, height: 256 });
  const noWcs = new Exposure(
    small.image.clone(),
    small.mask.clone(),
    small.variance.clone(),
    null,
    null,
    small.info,
  );
  await assert.rejects(
    run(here.visit(0).exposure, noWcs),
    inputError('pair', /no celestial WCS.*same shape.*256x256.*200x256/),
  );
});

test('no WCS on either image but the same shape: taken as aligned pixel for pixel', async () => {
  const science = full.visit(0).exposure;
  const template = full.template().exposure;
  const strip = (e: Exposure) => new Exposure(e.image, e.mask, e.variance, null, null, e.info);
  const r = await run(strip(science), strip(template));
  assert.equal(r.stats.coverageFraction > 0.99, true);
  assert.ok(r.diaSources.length > 0);
  assert.ok(
    r.alerts.every((a) => Number.isNaN(a.diaSource.ra) && a.diaSource.diaObjectId === null),
    'no sky position, no association',
  );
});

test('a template that does not overlap the science image', async () => {
  await assert.rejects(
    run(here.visit(0).exposure, elsewhere.template().exposure),
    (err: unknown) => {
      assert.ok(err instanceof InsufficientCoverageError);
      assert.equal(err.coverageFraction, 0);
      return true;
    },
  );
});

test('no observation time, or no zero point on either image', async () => {
  const undated = here.visit(0).exposure;
  undated.info = { ...undated.info, mjd: Number.NaN };
  await assert.rejects(
    run(undated, here.template().exposure),
    inputError('science', /observation time/),
  );
  // The message names every way out: the option and the header cards.
  assert.throws(
    () => resolveZeroPoint({ zeroPoint: Number.NaN }, { zeroPoint: Number.NaN }, 1),
    inputError('pair', /zero point: give --zero-point MAG.*--refcat FILE.*PHOTZP\/MAGZERO\/MAGZP/),
  );
  // A deploy-time setting is the last resort, recorded as such.
  const configured = resolveZeroPoint({ zeroPoint: Number.NaN }, { zeroPoint: Number.NaN }, 1, {
    configured: 27.5,
  });
  assert.deepEqual(configured, {
    zeroPoint: 27.5,
    source: 'configuration',
    origin: 'calibration.zeroPoint',
  });
});

test('visit ids that do not fit the APDB ids', async () => {
  const science = here.visit(0).exposure;
  const run2 = processDetector({
    science,
    template: here.template().exposure,
    apdb: new EmbeddedApdb(),
    visit: 2 ** 25,
  });
  await assert.rejects(run2, inputError('science', /visit id 33554432/));
});

test('a science image without zero point is calibrated from the template', async () => {
  const science = full.visit(0).exposure;
  const headerZp = science.info.zeroPoint;
  science.info = { ...science.info, zeroPoint: Number.NaN };
  const r = await run(science, full.template().exposure);
  assert.equal(r.stats.zeroPointSource, 'template calibration');
  assert.ok(Math.abs(r.stats.zeroPoint - headerZp) < 0.05, `${r.stats.zeroPoint} vs ${headerZp}`);
  assert.equal(r.difference.info.zeroPoint, r.stats.zeroPoint);
});

test('a science image without any star to match the PSFs on', async () => {
  const science = here.visit(0).exposure;
  const { background } = here.night.visits[0];
  let seed = 1;
  const normal = (): number => {
    // Box-Muller over a small LCG: a deterministic blank, noisy sky.
    const u = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 1) / (2 ** 31 + 1);
    return Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  };
  for (let i = 0; i < science.image.data.length; i++)
    science.image.data[i] = background.data[i] + Math.sqrt(background.data[i] / 1.5) * normal();
  await assert.rejects(
    run(science, here.template().exposure),
    inputError('science', /no star to measure its PSF on/),
  );
});

/** The science image with its WCS's CD matrix changed by `cd` (same reference point). */
function withCd(cd: (m: Matrix2) => Matrix2): Exposure {
  const science = here.visit(0).exposure;
  const wcs = science.wcs!;
  const centre = wcs.pixelToSky({ x: Float64Array.of(127.5), y: Float64Array.of(127.5) });
  science.wcs = makeTanWcs({
    crpix: [128.5, 128.5],
    crval: [centre.ra[0], centre.dec[0]],
    cd: cd(wcs.jacobian(127.5, 127.5).matrix),
  });
  return science;
}

test('degenerate or absurd WCS (CD1_1 = CD2_2 = 0, CD x 1e-9, 200"/px): an input error at once, no hang or RangeError', async () => {
  const template = () => here.template().exposure;
  await assert.rejects(
    run(
      withCd(([[, b], [c]]) => [
        [0, b],
        [c, 0],
      ]),
      template(),
    ),
    inputError('science', /pixel scale .* below 0.005"\/px/),
  );
  await assert.rejects(
    run(
      withCd((m) => [
        [m[0][0] * 1e-9, m[0][1] * 1e-9],
        [m[1][0] * 1e-9, m[1][1] * 1e-9],
      ]),
      template(),
    ),
    inputError('science', /below/),
  );
  await assert.rejects(
    run(
      withCd(([[a, b], [c, d]]) => [
        [a * 1000, b * 1000],
        [c * 1000, d * 1000],
      ]),
      template(),
    ),
    inputError('science', /above 30"\/px/),
  );
  // With the header limits switched off, the warped PSF's own bound still stops the unbounded stamp.
  const off = pipelineConfig({
    limits: { minPixelScaleArcsec: 0, maxAxisRatio: 1e12, maxFootprintRadiusDeg: 1e3 },
  });
  const unbounded = processDetector(
    {
      science: withCd(([[, b], [c]]) => [
        [0, b],
        [c, 0],
      ]),
      template: template(),
      apdb: new EmbeddedApdb(),
    },
    off,
  );
  await assert.rejects(unbounded, inputError('pair', /stamp would exceed 255 px/));
});
