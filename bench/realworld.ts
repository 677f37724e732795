/**
 * `npm run bench -- realworld`: ap diff + detection on ap simulate pairs with each real-world effect
 * (shared/sim/real-world.ts REAL_WORLD_PRESETS), scored against the truth: raw false positives per
 * 4 Mpix (2048^2), completeness at |SNR| >= 6, the sky sources' noise ratio, how the pair was
 * registered and the refit's error against the simulator's true WCS. 1024^2 pairs, two seeds each
 * (deterministic: the figures reproduce exactly).
 */
import { detectDiaSources, DEFAULT_DETECT_CONFIG } from '../shared/detect/detect.js';
import { runDiff } from '../shared/diffim/pipeline.js';
import { simulateNight } from '../shared/sim/night.js';
import { REAL_WORLD_PRESETS } from '../shared/sim/real-world.js';
import { scoreAgainstTruth } from '../shared/sim/score.js';
import { pixelMapError } from '../shared/astrom/map-error.js';

const SIZE = 1024;
const SEEDS = [5, 6];

export async function run(): Promise<void> {
  console.log(
    `real-world effects, ${SIZE}^2 pairs, seeds ${SEEDS.join(', ')} (figures summed over seeds)`,
  );
  console.log(
    '| effect | false +/4 Mpix | completeness |SNR|>=6 | noise ratio | registration | refit rms vs truth, px | masked for response |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const [name, effect] of Object.entries({ none: {}, ...REAL_WORLD_PRESETS })) {
    let falsePositives = 0;
    let found = 0;
    let visible = 0;
    const noise: string[] = [];
    const modes: string[] = [];
    const rms: string[] = [];
    const masked: string[] = [];
    for (const seed of SEEDS) {
      const night = simulateNight({ size: SIZE, seed, visits: 1, ...effect });
      const science = night.visits[0];
      const diff = await runDiff(science.exposure, night.template.exposure);
      const { sources, skySources } = detectDiaSources(
        diff.difference,
        diff.differencePsf,
        DEFAULT_DETECT_CONFIG,
      );
      const score = scoreAgainstTruth(diff.difference, sources, night.truth, diff.psfFwhmPx);
      falsePositives += score.falsePositives;
      found += score.found;
      visible += score.visible;
      noise.push(skySources.noiseRatio.toFixed(3));
      modes.push(diff.astrometry.mode);
      rms.push(
        pixelMapError(
          diff.astrometry.warpScienceWcs,
          diff.astrometry.warpTemplateWcs,
          science.trueWcs,
          night.template.trueWcs,
          SIZE,
          SIZE,
        ).toFixed(4),
      );
      masked.push(diff.responseMaskedFraction.toFixed(3));
    }
    const per4Mpix = (falsePositives * 2048 * 2048) / (SEEDS.length * SIZE * SIZE);
    console.log(
      `| ${name} | ${per4Mpix.toFixed(1)} | ${found}/${visible} = ${((100 * found) / visible).toFixed(1)} % | ${noise.join(', ')} | ${modes.join(', ')} | ${rms.join(', ')} | ${masked.join(', ')} |`,
    );
  }
}
