// The independent held-out generator (shared/rb/independent-pair.ts): its pairs go through runDiff
// and detection like `ap diff` + `ap detect`, and its truth predicts what the pipeline measures
// (the S/N of the changes it finds), so its labels can be trusted to judge the real/bogus model.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_DETECT_CONFIG, detectDiaSources } from '../../shared/detect/detect.js';
import { runDiff } from '../../shared/diffim/pipeline.js';
import { UNUSABLE } from '../../shared/image/mask.js';
import { drawIndependentPair, INDEPENDENT_PAIR } from '../../shared/rb/independent-pair.js';
import { independentTruthOutcomes, TRUTH_OUTCOMES } from '../../shared/rb/independent-truth.js';
import { WIDER_SEEDS } from '../../shared/rb/release.js';

/** A seed of no release's pairs; a small, dense pair so the test takes seconds. */
const SEED = 77;
const SMALL = {
  ...INDEPENDENT_PAIR,
  size: 448,
  transientsPerMegapixel: 500,
  variablesPerMegapixel: 200,
};

test('an independent pair through runDiff and detection: the truth predicts the measured S/N of the changes', async () => {
  assert.ok(!WIDER_SEEDS.independent.includes(SEED));
  const pair = drawIndependentPair(SEED, SMALL);
  assert.ok(pair.science.wcs && pair.template.wcs, 'both images read back with their WCS');
  const r = await runDiff(pair.science, pair.template, {});
  const { sources } = detectDiaSources(r.difference, r.differencePsf, {
    ...DEFAULT_DETECT_CONFIG,
    skySources: 0,
  });
  // Bright transients clear of other changes, on pixels the difference covers (the template is offset by up to 25 px).
  const bright = pair.truth.filter(
    (t) =>
      t.kind === 'transient' &&
      t.expectedSnr >= 10 &&
      pair.truth.every((o) => o === t || Math.hypot(o.x - t.x, o.y - t.y) > 5) &&
      !(r.difference.mask.get(Math.round(t.x), Math.round(t.y)) & UNUSABLE),
  );
  const ratios: number[] = [];
  for (const t of bright) {
    const hit = sources.find((s) => Math.hypot(s.x - t.x, s.y - t.y) <= 1.5);
    if (hit) ratios.push(hit.snr / t.expectedSnr);
  }
  assert.ok(bright.length >= 10, `${bright.length} transients at expected S/N >= 10`);
  assert.ok(ratios.length >= 0.9 * bright.length, `${ratios.length} of ${bright.length} found`);
  ratios.sort((a, b) => a - b);
  const median = ratios[ratios.length >> 1];
  assert.ok(median > 0.75 && median < 1.25, `median measured / expected S/N ${median.toFixed(3)}`);
});

test("the issue's measure: each true change at |expected S/N| >= 6 is found or has a cause, found ones name their DIASource", async () => {
  const changes = await independentTruthOutcomes(SEED, 6, 6, SMALL);
  assert.ok(changes.length >= 20, `${changes.length} changes`);
  assert.ok(
    changes.every((c) => Math.abs(c.expectedSnr) >= 6 && TRUTH_OUTCOMES.includes(c.outcome)),
  );
  const found = changes.filter((c) => c.outcome === 'found');
  // The pair is dense (500 transients per Mpix), so blends are common; the release's pairs find 63 %.
  assert.ok(found.length >= changes.length / 3, `${found.length} of ${changes.length} found`);
  assert.ok(found.every((c) => c.id?.startsWith(`independent-${SEED}-`)));
  assert.equal(new Set(found.map((c) => c.id)).size, found.length, 'one DIASource per change');
  assert.ok(changes.every((c) => (c.outcome === 'found') === (c.id !== null)));
});
