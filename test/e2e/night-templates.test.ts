/**
 * `npm start`'s template stage (functions/night/template-stage.ts) on the emulators with 512^2
 * images: one detector's template-input visits written to the raw bucket go through processImage
 * (no template: processing record `noTemplate`, a template candidate) and templateBuilder, running
 * in the trigger runner as a function instance, which builds the tile's coadd from all of them,
 * writes it where nextVisit reads it and freezes the tile; no dead letter. The night's visits'
 * truth is then computed against that coadd.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { services } from '../../functions/context.js';
import { startLocalCloud, type LocalCloud } from '../../functions/night/cloud.js';
import { INPUT_VISIT_BASE } from '../../functions/night/render-worker.js';
import { planSky, renderSky, truthOf, type SkyPlan } from '../../functions/night/sky.js';
import { runTemplateStage } from '../../functions/night/template-stage.js';
import { PROCESSING_COLLECTION } from '../../functions/processing-record.js';
import { TEMPLATE_MIN_CANDIDATES_ENV, templateTiles } from '../../functions/template-builder.js';
import { readExposureWithHeader } from '../../shared/fits/index.js';
import { gridCamera } from '../../shared/prompt/camera.js';
import { templateKey } from '../../shared/prompt/template-tiles.js';

const SIZE = 512;
/** One more than minInputs: the tile waits for all of them (AP_TEMPLATE_MIN_CANDIDATES). */
const INPUTS = 4;
const BAND = 'r';

let cloud: LocalCloud;
let scratch: string;
let plan: SkyPlan;

before(async () => {
  process.env[TEMPLATE_MIN_CANDIDATES_ENV] = String(INPUTS);
  cloud = await startLocalCloud({
    camera: { detectorSize: SIZE },
    concurrency: { nextVisit: 1, processImage: 1, alertFanout: 1, templateBuilder: 1 },
    backoffSeconds: [1, 2],
  });
  scratch = await mkdtemp(join(tmpdir(), 'night-templates-'));
  plan = planSky(gridCamera('APSIM', SIZE, 14, 0.2), [150.1, 2.2], BAND, 1, true);
});

after(async () => {
  await cloud?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('the template stage freezes the observed tile with a coadd of every input, made by templateBuilder', async () => {
  const sky = {
    size: SIZE,
    visits: 1,
    seed: 5,
    band: BAND,
    startMjd: 61000.2,
    cadenceSeconds: 30,
    dir: scratch,
    parallel: 1,
  };
  const inputs = await renderSky(plan, { ...sky, inputs: INPUTS });
  const lines: string[] = [];
  const stage = await runTemplateStage(cloud, plan, inputs, {
    instrument: 'APSIM',
    band: BAND,
    timeoutMs: 240_000,
    progress: (line) => lines.push(line),
  });
  assert.deepEqual(
    { ...stage, seconds: 0 },
    { inputs: INPUTS, images: INPUTS, seconds: 0, frozen: 1, tiles: 1, complete: true },
    lines.join('\n'),
  );
  const { tile, detector } = plan.detectors[0];
  const record = await templateTiles(services()).get(BAND, tile);
  assert.equal(record?.state, 'frozen');
  assert.equal(record?.candidates, INPUTS);
  assert.equal(record?.nUsed, INPUTS, JSON.stringify(record?.rejected));
  assert.ok(record!.buildSeconds! > 0);
  // The coadd is where nextVisit looks, with its id and inputs: the input visits of the detector.
  const [bytes] = await cloud.buckets.templates.file(templateKey(BAND, tile)).download();
  const { exposure, header } = readExposureWithHeader(bytes, 'template');
  assert.equal(exposure.info.templateVersion, record?.tmplId);
  assert.equal(header.getNumber('NINPUTS'), INPUTS);
  // Each input made no alerts and was offered as a candidate; none was dead-lettered.
  const records = await services()
    .firestore.collection(PROCESSING_COLLECTION)
    .where('state', '==', 'noTemplate')
    .get();
  assert.equal(records.size, INPUTS);
  assert.deepEqual(cloud.deadLetters, []);
  assert.ok(
    cloud.logs.entries.some(
      (e) => e.message === 'template built and frozen' && e.tile === tile && e.used === INPUTS,
    ),
    'templateBuilder ran in an instance of the trigger runner',
  );

  // The night's truth against the coadd: expected SNRs from its variance, finite where it covers.
  const path = join(scratch, 'coadd.fits');
  await cloud.buckets.templates.file(templateKey(BAND, tile)).download({ destination: path });
  const night = await renderSky(plan, { ...sky, templateFiles: new Map([[detector, path]]) });
  const rendered = night.get(detector)!;
  assert.equal(rendered.templateFile, '', 'no simulated template rendered');
  assert.ok(rendered.visits.every((v) => v.visit < INPUT_VISIT_BASE));
  const transients = truthOf(night).filter((t) => t.kind === 'transient');
  assert.ok(transients.length > 0);
  assert.ok(
    transients.filter((t) => Number.isFinite(t.expectedSnr)).length >= 0.9 * transients.length,
  );
});
