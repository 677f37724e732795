/**
 * `npm run bench -- independent-noise`: why the independent held-out pairs' difference noise is not the
 * variance plane's (shared/diffim/README.md, "The independent pairs' noise"). Per pair (shared/rb/
 * independent-pair.ts, seeds 1-6) and per variant: the method, the variance scale characterization gave each
 * input (measured blank-sky noise over the CCD equation's), the difference's per-pixel std of IMAGE /
 * sqrt(VARIANCE) (normalisedNoise), the sky sources' PSF-scale noise ratio (ap detect's, before any threshold
 * rescaling), and the autocorrelation of IMAGE / sqrt(VARIANCE) on the difference's blank sky along x at lags
 * 1, 2 and 8-10 (a plateau there is structure wider than the PSF, not pixel noise). Variants:
 * - 'scatter': the input planes scaled to their blank sky's scatter (characterize/variance.ts, the default);
 * - 'neighbour-difference': scaled to the blank sky's noise without its light (pixels 2 px apart);
 * - 'noise-dominated': 'neighbour-difference', on a flat sky 10-60x brighter with no changes, cosmic rays or hot pixels,
 *   so that the static scene's subtraction residuals and the sky's structure are small beside the noise:
 *   what the warp's noise model and the decorrelation leave.
 * AP_BENCH_INDEPENDENT_SEEDS (comma separated) chooses the pairs. Deterministic; ~35 CPU-s per variant.
 */
import { DEFAULT_DETECT_CONFIG, detectDiaSources } from '../shared/detect/detect.js';
import { runDiff, type DiffConfig } from '../shared/diffim/pipeline.js';
import { normalisedNoise } from '../shared/diffim/noise.js';
import type { Exposure } from '../shared/image/exposure.js';
import { MaskPlane, UNUSABLE } from '../shared/image/mask.js';
import {
  drawIndependentPair,
  INDEPENDENT_PAIR,
  type IndependentPairConfig,
} from '../shared/rb/independent-pair.js';
import { WIDER_SEEDS } from '../shared/rb/release.js';

const SEEDS = (process.env.AP_BENCH_INDEPENDENT_SEEDS ?? '')
  .split(',')
  .filter((s) => s.trim())
  .map(Number);

interface Variant {
  name: string;
  pair: Partial<IndependentPairConfig>;
  diff: Partial<DiffConfig>;
}

const NEIGHBOURS: Partial<DiffConfig> = {
  characterizeOverrides: { variance: { noiseEstimator: 'neighbour-difference' } },
};

const VARIANTS: Variant[] = [
  { name: 'scatter', pair: {}, diff: {} },
  { name: 'neighbour-difference', pair: {}, diff: NEIGHBOURS },
  {
    name: 'noise-dominated',
    pair: {
      skyAdu: [20000, 20000],
      skyGradient: 0,
      skyCurvature: 0,
      transientsPerMegapixel: 0,
      variablesPerMegapixel: 0,
      cosmicRaysPerMegapixel: 0,
      hotPixelsPerMegapixel: 0,
    },
    diff: NEIGHBOURS,
  },
];

/** Lags of the x autocorrelation printed. */
const LAGS = [1, 2, 8, 9, 10];
/** |IMAGE / sqrt(VARIANCE)| beyond this is left out of the autocorrelation (sources' residuals). */
const CLIP = 6;

/** Autocorrelation of IMAGE / sqrt(VARIANCE) along x over pixel pairs with none of `avoid`'s bits, at `lags`. */
function autocorrelationX(e: Exposure, avoid: number, lags: number[]): number[] {
  const { width: w, height: h } = e;
  const z = new Float64Array(w * h).fill(Number.NaN);
  for (let y = 0; y < h; y++) {
    const im = e.image.row(y),
      v = e.variance.row(y),
      m = e.mask.row(y);
    for (let x = 0; x < w; x++) {
      const r = im[x] / Math.sqrt(v[x]);
      if (!(m[x] & avoid) && v[x] > 0 && Math.abs(r) < CLIP) z[y * w + x] = r;
    }
  }
  const cov = (d: number): number => {
    let s = 0,
      n = 0;
    for (let y = 0; y < h; y++)
      for (let i = y * w, end = i + w - d; i < end; i++) {
        const p = z[i] * z[i + d];
        if (!Number.isNaN(p)) [s, n] = [s + p, n + 1];
      }
    return s / n;
  };
  const c0 = cov(0);
  return lags.map((d) => cov(d) / c0);
}

export async function run(): Promise<void> {
  const seeds = SEEDS.length ? SEEDS : WIDER_SEEDS.independent;
  const avoid = UNUSABLE | MaskPlane.SUSPECT | MaskPlane.DETECTED | MaskPlane.DETECTED_NEGATIVE;
  console.log(
    `independent pairs ${seeds.join(', ')}: the difference's noise against its VARIANCE (x lags ${LAGS.join(', ')})`,
  );
  console.log(
    '| variant | pair | method | variance scale science / template | pixel std | sky-source ratio | autocorrelation x |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const variant of VARIANTS)
    for (const seed of seeds) {
      const cfg = { ...INDEPENDENT_PAIR, ...variant.pair };
      const pair = drawIndependentPair(seed, cfg);
      const r = await runDiff(pair.science, pair.template, {
        ...variant.diff,
        subtract: { method: cfg.method },
      });
      const { skySources } = detectDiaSources(r.difference, r.differencePsf, {
        ...DEFAULT_DETECT_CONFIG,
        rescaleThresholdAbove: Infinity,
      });
      const scale = [r.scienceCharacterization, r.templateCharacterization]
        .map((c) => c?.variance.scale.toFixed(3) ?? '-')
        .join(' / ');
      const acf = autocorrelationX(r.difference, avoid, LAGS).map((v) => v.toFixed(3));
      console.log(
        `| ${variant.name} | ${seed} | ${r.method} | ${scale} | ${normalisedNoise(r.difference).ratio.toFixed(3)} | ${skySources.noiseRatio.toFixed(3)} | ${acf.join(' ')} |`,
      );
    }
}
