/**
 * `npm run bench -- realworld`: ap diff + detection on ap simulate pairs with each real-world effect
 * (shared/sim/real-world.ts REAL_WORLD_PRESETS), scored against the truth: raw false positives per
 * 4 Mpix (2048^2), completeness at |SNR| >= 6, the sky sources' noise ratio, how the pair was
 * registered and the refit's error against the simulator's true WCS. 1024^2 pairs, one row per
 * effect and seed, then the effect over all its seeds (deterministic: the figures reproduce
 * exactly). AP_BENCH_REALWORLD_SEEDS (default 5,6) and AP_BENCH_REALWORLD_EFFECTS (names, comma
 * separated; default all) choose the pairs; AP_BENCH_REALWORLD_LIST=1 lists every false positive:
 * position, radius from the optical centre, the simulator's response there in the science and
 * the template, SNR (its sign) and the brightest warped-template pixel within 3 px in sigmas
 * (a star underneath).
 */
import { detectDiaSources, DEFAULT_DETECT_CONFIG } from '../shared/detect/detect.js';
import { runDiff } from '../shared/diffim/pipeline.js';
import { simulateNight } from '../shared/sim/night.js';
import { REAL_WORLD_PRESETS, responseMap } from '../shared/sim/real-world.js';
import { scoreAgainstTruth } from '../shared/sim/score.js';
import { pixelMapError } from '../shared/astrom/map-error.js';
import type { Exposure } from '../shared/image/exposure.js';
import type { Wcs } from '../shared/wcs/index.js';

const SIZE = 1024;
const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const SEEDS = list(process.env.AP_BENCH_REALWORLD_SEEDS).map(Number);
if (SEEDS.length === 0) SEEDS.push(5, 6);
const EFFECTS = list(process.env.AP_BENCH_REALWORLD_EFFECTS);
const LIST = process.env.AP_BENCH_REALWORLD_LIST === '1';
/** Reach of the star-underneath look-up, px. */
const STAR_REACH = 3;

/** The brightest warped-template pixel within STAR_REACH of (x, y), in its own noise sigmas. */
function templatePeakSigmas(template: Exposure, x: number, y: number): number {
  let best = -Infinity;
  for (let py = Math.round(y) - STAR_REACH; py <= Math.round(y) + STAR_REACH; py++)
    for (let px = Math.round(x) - STAR_REACH; px <= Math.round(x) + STAR_REACH; px++) {
      if (px < 0 || py < 0 || px >= template.width || py >= template.height) continue;
      const v = template.variance.get(px, py);
      if (v > 0) best = Math.max(best, template.image.get(px, py) / Math.sqrt(v));
    }
  return best;
}

/** The simulator's response at science pixel (x, y) seen through the template's true WCS. */
function templateResponseAt(
  response: Float32Array,
  x: number,
  y: number,
  science: Wcs,
  template: Wcs,
): number {
  const p = template.skyToPixel(
    science.pixelToSky({ x: Float64Array.of(x), y: Float64Array.of(y) }),
  );
  const tx = Math.round(p.x[0]);
  const ty = Math.round(p.y[0]);
  return tx >= 0 && ty >= 0 && tx < SIZE && ty < SIZE ? response[ty * SIZE + tx] : Number.NaN;
}

export async function run(): Promise<void> {
  console.log(`real-world effects, ${SIZE}^2 pairs, seeds ${SEEDS.join(', ')}`);
  console.log(
    '| effect | seed | false +/4 Mpix | completeness |SNR|>=6 | noise ratio | registration | refit rms vs truth, px | masked for response |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  const falseLines: string[] = [];
  const presets = { none: {}, ...REAL_WORLD_PRESETS };
  for (const [name, effect] of Object.entries(presets)) {
    if (EFFECTS.length > 0 && !EFFECTS.includes(name)) continue;
    let falsePositives = 0;
    let found = 0;
    let visible = 0;
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
      const rms = pixelMapError(
        diff.astrometry.warpScienceWcs,
        diff.astrometry.warpTemplateWcs,
        science.trueWcs,
        night.template.trueWcs,
        SIZE,
        SIZE,
      );
      console.log(
        `| ${name} | ${seed} | ${score.falsePositivesPer4Mpix.toFixed(1)} (${score.falsePositives}) | ${score.found}/${score.visible} | ${skySources.noiseRatio.toFixed(3)} | ${diff.astrometry.mode} | ${Number.isFinite(rms) ? rms.toFixed(4) : 'n/a'} | ${diff.responseMaskedFraction.toFixed(3)} |`,
      );
      const response = responseMap(night.config) ?? new Float32Array(SIZE * SIZE).fill(1);
      const centre = (SIZE - 1) / 2;
      for (const f of score.falseAt) {
        const at = Math.min(SIZE - 1, Math.round(f.y)) * SIZE + Math.min(SIZE - 1, Math.round(f.x));
        falseLines.push(
          `| ${name} | ${seed} | ${f.x.toFixed(1)}, ${f.y.toFixed(1)} | ${Math.hypot(f.x - centre, f.y - centre).toFixed(0)} | ${response[at].toFixed(3)} | ${templateResponseAt(response, f.x, f.y, science.trueWcs, night.template.trueWcs).toFixed(3)} | ${f.snr.toFixed(1)} | ${templatePeakSigmas(diff.warpedTemplate, f.x, f.y).toFixed(0)} |`,
        );
      }
    }
    const per4Mpix = (falsePositives * 2048 * 2048) / (SEEDS.length * SIZE * SIZE);
    console.log(
      `| **${name}** | all | **${per4Mpix.toFixed(1)}** | ${found}/${visible} = ${((100 * found) / visible).toFixed(1)} % | | | | |`,
    );
  }
  if (!LIST) return;
  console.log('\nfalse positives');
  console.log(
    '| effect | seed | x, y | r from centre, px | response science | response template | SNR | template peak within 3 px, sigma |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const line of falseLines) console.log(line);
}
