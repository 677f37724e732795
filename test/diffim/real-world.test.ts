import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectDiaSources, DEFAULT_DETECT_CONFIG } from '../../shared/detect/detect.js';
import { runDiff } from '../../shared/diffim/pipeline.js';
import { MaskPlane } from '../../shared/image/mask.js';
import { simulateNight } from '../../shared/sim/night.js';
import { REAL_WORLD_PRESETS } from '../../shared/sim/real-world.js';
import { scoreAgainstTruth } from '../../shared/sim/score.js';
import { pixelMapError } from '../../shared/astrom/map-error.js';

// One ap simulate pair per real-world effect through ap diff and detection, scored against the truth
// (bench/realworld.ts prints the same figures over more pixels). Small images: a single false
// positive here is ~4 per 4 Mpix, so the bound is on the count.
const SIZE = 1024;
const SEED = 5;
const EXPECTED_MODE: Record<string, string> = {
  'WCS errors': 'refit',
  'no WCS, dithered': 'pattern',
  'no WCS, aligned': 'aligned',
};

for (const [name, effect] of Object.entries(REAL_WORLD_PRESETS)) {
  test(`${name}: no more false positives than a clean pair, completeness and noise hold`, async (t) => {
    const night = simulateNight({ size: SIZE, seed: SEED, visits: 1, ...effect });
    const diff = await runDiff(night.visits[0].exposure, night.template.exposure);
    const { sources, skySources } = detectDiaSources(
      diff.difference,
      diff.differencePsf,
      DEFAULT_DETECT_CONFIG,
    );
    const score = scoreAgainstTruth(diff.difference, sources, night.truth, diff.psfFwhmPx);
    t.diagnostic(
      `${score.falsePositives} false (${score.falsePositivesPer4Mpix.toFixed(1)} per 4 Mpix), completeness ${score.found}/${score.visible}, noise ${skySources.noiseRatio.toFixed(3)}, registration ${diff.astrometry.mode} (${diff.astrometry.nStars} stars, rms ${diff.astrometry.rmsPx.toFixed(4)} px), masked for response ${diff.responseMaskedFraction.toFixed(3)}`,
    );
    if (EXPECTED_MODE[name]) assert.equal(diff.astrometry.mode, EXPECTED_MODE[name]);
    if (name === 'no SATURATE') {
      // The saturation level estimated from the pixels (shared/characterize) flags the cores SAT.
      let sat = 0;
      for (const m of diff.difference.mask.data) if (m & MaskPlane.SAT) sat++;
      assert.ok(sat > 0, 'no SAT pixels without a SATURATE card');
    }
    if (diff.astrometry.mode === 'refit' || diff.astrometry.mode === 'pattern') {
      // Issue 15's acceptance: the fitted map within 0.02 px of the simulator's truth.
      const error = pixelMapError(
        diff.astrometry.warpScienceWcs,
        diff.astrometry.warpTemplateWcs,
        night.visits[0].trueWcs,
        night.template.trueWcs,
        SIZE,
        SIZE,
      );
      assert.ok(error <= 0.02, `refitted map ${error.toFixed(4)} px from the truth`);
    }
    assert.ok(
      score.falsePositives <= 2,
      `${score.falsePositives} false positives: ${JSON.stringify(score.falseAt.slice(0, 5))}`,
    );
    assert.ok(
      score.found >= score.visible - 1 && score.visible >= 20,
      `completeness ${score.found}/${score.visible}`,
    );
    assert.ok(
      Math.abs(skySources.noiseRatio - 1) <= 0.05,
      `sky-source noise ratio ${skySources.noiseRatio}`,
    );
  });
}
