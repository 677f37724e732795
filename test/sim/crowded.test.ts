/**
 * `ap simulate --crowded` gives what its help says: >= 10,000 stars above the visits' 5-sigma
 * limit per 4096^2 detector (counted at a smaller size, where the density is the same), ~400
 * transients, a template 8x deeper at 3.0 px FWHM against visits at 4.2 px, and no distortion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readExposureWithHeader } from '../../shared/fits/index.js';
import { CROWDED_SIM_CONFIG } from '../../shared/sim/config.js';
import { limitingMag, planNight } from '../../shared/sim/night.js';

const AP = join(import.meta.dirname, '../../bin/ap.js');
const MPIX_4K = (4096 * 4096) / 1e6;

test('a crowded field: >= 10,000 stars above the visits limit and ~400 transients per 4k detector, a deeper template', () => {
  const size = 1024;
  const scale = MPIX_4K / ((size * size) / 1e6);
  for (const seed of [1, 3]) {
    const crowded = planNight({ ...CROWDED_SIM_CONFIG, size, seed, visits: 1 });
    const plain = planNight({ size, seed, visits: 1 });
    const above = (plan: typeof crowded) =>
      plan.field.stars.mag.filter((m) => m < plan.limitMag).length * scale;
    assert.ok(above(crowded) >= 10_000, `stars above the limit per 4k: ${above(crowded)}`);
    assert.ok(above(crowded) > 1.3 * above(plain), `default ${above(plain)}`);
    const transients = crowded.field.transients.length * scale;
    assert.ok(transients > 300 && transients < 500, `transients per 4k: ${transients}`);
    // 8 exposures at 3.0 px against one at 4.2 px: 1.13 mag from depth, ~0.3 from seeing.
    const deeper = limitingMag(crowded.template, crowded.config) - crowded.limitMag;
    assert.ok(deeper > 1.3, `template deeper by ${deeper.toFixed(2)} mag`);
  }
});

test('ap simulate --crowded writes the template at 3.0 px, 8x the exposure, visits at 4.2 px, no distortion', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ap-crowded-'));
  try {
    const run = spawnSync(
      process.execPath,
      [AP, 'simulate', '--crowded', '--out', dir, '--size', '128', '--visits', '1'],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr);
    const read = (name: string) =>
      readExposureWithHeader(readFileSync(join(dir, `${name}.fits`)), name).header;
    const template = read('template');
    const science = read('science-1');
    assert.equal(template.get('SIMFWHM'), 3);
    assert.equal(science.get('SIMFWHM'), 4.2);
    assert.equal(Number(template.get('EXPTIME')), 8 * Number(science.get('EXPTIME')));
    for (const key of ['A_3_0', 'A_2_0', 'B_0_3']) assert.ok(!template.get(key), key);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
