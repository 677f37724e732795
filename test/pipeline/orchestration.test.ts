/**
 * `ap process` (processDetector) and `ap diff` (runDiff) share one orchestration of characterize ->
 * register/warp -> subtract: on the same pair, with the pipeline's configuration, they give the
 * same difference pixel for pixel, the same registration and response masking, and the per-stage
 * laps of processDetector add up to no more than its wall time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import { runDiff } from '../../shared/diffim/pipeline.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { pipelineConfig, processDetector, type LogEntry } from '../../shared/pipeline/index.js';
import { nightFiles } from './night.js';

const files = nightFiles({ size: 512, seed: 5, visits: 1 });
const root = mkdtempSync(join(tmpdir(), 'orchestration-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

test('processDetector and runDiff give the same difference on the same pair', async () => {
  const config = pipelineConfig();
  const apdb = await EmbeddedApdb.open(join(root, 'apdb'));
  const logs: LogEntry[] = [];
  const { exposure, header } = files.visit(0);
  const processed = await processDetector(
    { science: exposure, scienceHeader: header, template: files.template().exposure, apdb },
    config,
    { log: (e) => logs.push(e) },
  );
  const diffed = await runDiff(files.visit(0).exposure, files.template().exposure, {
    characterizeOverrides: config.characterize,
    scienceNoiseCorrelation: false,
    astrometry: config.astrometry,
    warp: config.warp,
    subtract: config.subtract,
  });
  const [a, b] = [processed.difference, diffed.difference];
  assert.deepEqual(a.image.clone().data, b.image.clone().data);
  // processDetector's detection then marks its footprints in the difference's mask.
  const detected = MaskPlane.DETECTED | MaskPlane.DETECTED_NEGATIVE;
  const undetected = (m: Int32Array) => m.map((v) => v & ~detected);
  assert.deepEqual(undetected(a.mask.clone().data), undetected(b.mask.clone().data));
  assert.deepEqual(a.variance.clone().data, b.variance.clone().data);
  assert.equal(processed.subtraction.kernelSum, diffed.kernelSum);
  const warp = logs.find((e) => e.message === 'stage warp done');
  assert.equal(warp?.astrometry, diffed.astrometry.mode);
  assert.equal(warp?.responseMaskedFraction, diffed.responseMaskedFraction);
  const laps = ['characterizeTemplate', 'characterizeScience', 'warp', 'subtract'] as const;
  const sum = laps.reduce((s, k) => s + processed.timingsMs[k], 0);
  for (const k of laps) assert.ok(processed.timingsMs[k] >= 0, k);
  assert.ok(sum <= processed.timingsMs.total + 1, `${sum} > ${processed.timingsMs.total}`);
});
