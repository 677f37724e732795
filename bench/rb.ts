// Real/bogus benchmark: inference throughput on each TF.js backend, training time per step and
// per epoch, and the shipped model's figures on the reproduction night, the held-out simulated night
// and the independent held-out pairs (shared/rb/independent-pair.ts; regenerated or read from .cache/rb/).
// AP_BENCH_RB_MODEL=DIR measures that model folder instead (e.g. the previous release on today's chain).
// The model on night 9002 with a background residual added (rms RESIDUAL_PROBE_RMS sigma of
// offset and of each gradient), and each set's DIASources split by PSF breadth and difference
// background (shapeOf), show where the independent pairs leave the training world
// (shared/rb/README.md). Then the issue's own measure on the independent pairs (true changes found
// and kept, independent-truth.ts; the pairs are differenced again) and the bogus that score highest
// on the judged nights, which set the cut. Each scoring (score.ts Scoring: a single pass, the mean
// over the 8 symmetries of the square) is then measured with its cut re-chosen on the validation
// nights as a release chooses it (chooseThreshold), never on the judged sets, with its CPU cost per
// DIASource, and again with the science-defect veto (science-defects.ts).
import { initTf, tfBackendName, type TfBackend } from '../shared/tf/backend.js';
import { cachedNight, EVALUATION_NIGHT, VALIDATION_NIGHT } from '../shared/rb/dataset.js';
import { evaluateModel } from '../shared/rb/evaluate.js';
import { cachedIndependentPair } from '../shared/rb/independent-pair.js';
import {
  independentTruthOutcomes,
  TRUTH_OUTCOMES,
  type TruthChange,
} from '../shared/rb/independent-truth.js';
import { scienceDefects, scienceSharpness } from '../shared/rb/science-defects.js';
import { concatSets, subset, type LabelledSet } from '../shared/rb/labelled-set.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseThreshold, figuresAtCut, rocCurve } from '../shared/rb/metrics.js';
import { latestShippedDir, loadModel, type RbModel } from '../shared/rb/model.js';
import {
  RELEASE_SEEDS,
  REPRODUCTION_NIGHT,
  REPRODUCTION_SEED,
  WIDER_SEEDS,
  type TrainingSummary,
} from '../shared/rb/release.js';
import { scoreCutouts } from '../shared/rb/score.js';
import { SCORING_DESCRIPTIONS, type Scoring } from '../shared/rb/scoring.js';
import {
  addSkyResidualInPlace,
  CHANNELS,
  CUTOUT_LENGTH,
  CUTOUT_SIZE,
} from '../shared/rb/cutouts.js';
import { Rng } from '../shared/sim/random.js';
import { median } from '../shared/util/stats.js';
import { trainNetwork } from '../shared/rb/train.js';

const quiet = (): void => {};

/** Rms, in sigma of the difference, of the background residual the robustness row adds. */
const RESIDUAL_PROBE_RMS = 0.3;
/** A cutout is on a pedestal from this median S/N, and broad below this concentration (shapeOf). */
const PEDESTAL_SIGMA = 0.3;
const BROAD_CONCENTRATION = 0.2;
const CENTRE = (CUTOUT_SIZE - 1) / 2;
/** The S/N from which figures are quoted, as the releases quote them. */
const MIN_SNR = 6;

/** Scores and the CPU-ms (user + system, all threads) per cutout they took. */
function timedScores(model: RbModel, set: LabelledSet): { scores: Float32Array; cpuMs: number } {
  const before = process.cpuUsage();
  const scores = scoreCutouts(model, set.raw);
  const used = process.cpuUsage(before);
  return { scores, cpuMs: (used.user + used.system) / 1000 / set.raw.count };
}

/** "purity / completeness (AUC)" of `scores` on `set` at `cut`. */
function figures(set: LabelledSet, scores: Float32Array, cut: number): string {
  const c = figuresAtCut(scores, set.label, set.snr, cut, MIN_SNR);
  const auc = rocCurve(scores, set.label, set.snr, MIN_SNR).auc;
  return `${(100 * c.purity).toFixed(2)}% / ${(100 * c.completeness).toFixed(2)}% (${c.falsePositives} FP, ${c.falseNegatives} FN, AUC ${auc.toFixed(4)})`;
}

/** A cutout's S/N plane at pixel k (0..51*51-1). */
const snAt = (set: LabelledSet, n: number, k: number): number =>
  set.raw.data[n * CUTOUT_LENGTH + k * CHANNELS + 3];

/**
 * Each cutout's difference background (the median S/N over its present pixels) and concentration
 * (the S/N within 2 px of the centre over that within 8 px: 0.36-0.42 for night 9002's real
 * changes), both in the source's sense.
 */
function shapeOf(set: LabelledSet, n: number): { pedestal: number; concentration: number } {
  const sign = Math.sign(set.snr[n]) || 1;
  const present: number[] = [];
  let [in2, in8] = [0, 0];
  for (let k = 0; k < CUTOUT_SIZE * CUTOUT_SIZE; k++) {
    const v = sign * snAt(set, n, k);
    if (v !== 0) present.push(v);
    const r = Math.hypot((k % CUTOUT_SIZE) - CENTRE, Math.floor(k / CUTOUT_SIZE) - CENTRE);
    if (r <= 2) in2 += v;
    if (r <= 8) in8 += v;
  }
  return { pedestal: median(present), concentration: in2 / in8 };
}

/** The set with a random plane (offset and gradients of rms `rms` sigma) added to each difference. */
function withResidual(set: LabelledSet, rms: number): LabelledSet {
  const data = set.raw.data.slice();
  const rng = new Rng(1, 'bench-rb-residual');
  for (let m = 0; m < set.raw.count; m++)
    addSkyResidualInPlace(data, m, {
      offset: rms * rng.normal(),
      gradX: rms * rng.normal(),
      gradY: rms * rng.normal(),
    });
  return { ...set, raw: { count: set.raw.count, data } };
}

/** `scores` with every cutout flagged in `defects` set to 0 (the science-defect veto). */
const vetoed = (scores: Float32Array, defects: Uint8Array): Float32Array =>
  scores.map((v, n) => (defects[n] ? 0 : v));

/** The set's `count` bogus at |S/N| >= MIN_SNR that score highest: id, kind, score, science sharpness. */
function topBogus(set: LabelledSet, scores: Float32Array, count: number): string {
  return Array.from(scores.keys())
    .filter((n) => set.label[n] === 0 && Math.abs(set.snr[n]) >= MIN_SNR)
    .sort((a, b) => scores[b] - scores[a])
    .slice(0, count)
    .map(
      (n) =>
        `${set.id[n]} ${set.kind[n]} ${scores[n].toFixed(3)} (sharpness ${scienceSharpness(set.raw, n).toFixed(1)})`,
    )
    .join(', ');
}

/**
 * The measure on the independent pairs: of the true changes at |expected S/N| >= `floor`, those a
 * DIASource at |S/N| >= MIN_SNR found (the pipeline's completeness before the cut), those kept at `cut`,
 * and why the others were not found (independent-truth.ts).
 */
function truthLine(
  all: readonly TruthChange[],
  set: LabelledSet,
  scores: Float32Array,
  cut: number,
  floor: number,
): string {
  const scoreOf = new Map(set.id.map((id, n) => [id, scores[n]]));
  const changes = all.filter((c) => Math.abs(c.expectedSnr) >= floor);
  const count = (o: string): number => changes.filter((c) => c.outcome === o).length;
  const kept = changes.filter((c) => c.id !== null && (scoreOf.get(c.id) ?? 0) >= cut).length;
  const pct = (k: number): string => `${((100 * k) / changes.length).toFixed(1)}%`;
  return (
    `${changes.length} true changes at |expected S/N| >= ${floor}: found at |S/N| >= ${MIN_SNR} ${count('found')} (${pct(count('found'))}), kept at ${cut} ${kept} (${pct(kept)}); not found: ` +
    TRUTH_OUTCOMES.filter((o) => o !== 'found')
      .map((o) => `${o} ${count(o)}`)
      .join(', ')
  );
}

export async function run(): Promise<void> {
  await initTf(undefined, quiet);
  const dir = process.env.AP_BENCH_RB_MODEL ?? latestShippedDir();
  const model = await loadModel(dir);
  const night = await cachedNight(RELEASE_SEEDS.evaluation, EVALUATION_NIGHT);
  console.log(`real/bogus ${model.version}, held-out night: ${night.raw.count} cutouts`);
  for (const backend of ['wasm', 'cpu'] as TfBackend[]) {
    await initTf(backend, quiet);
    const n = backend === 'cpu' ? Math.min(256, night.raw.count) : night.raw.count;
    const probe = subset(
      night,
      Array.from({ length: n }, (_, i) => i),
    );
    scoreCutouts(model, subset(probe, [0]).raw);
    const t0 = performance.now();
    const { cpuMs } = timedScores(model, probe);
    const s = (performance.now() - t0) / 1000;
    console.log(
      `  inference on ${tfBackendName()}: ${(n / s).toFixed(0)} cutouts/s, ${cpuMs.toFixed(2)} CPU-ms per DIASource (${n} cutouts, normalisation included)`,
    );
  }
  await initTf('wasm', quiet);
  const trainProbe = subset(
    night,
    Array.from({ length: 640 }, (_, i) => i % night.raw.count),
  );
  const trained = trainNetwork(trainProbe, { epochs: 1, batchSize: 64 });
  const msPerStep = trained.trainMs / trained.steps;
  console.log(
    `  training on wasm: ${msPerStep.toFixed(0)} ms per batch of 64 (${(((msPerStep / 64) * 10000) / 1000).toFixed(0)} s per epoch of 10k cutouts)`,
  );
  const shipped = JSON.parse(readFileSync(join(dir, 'training.json'), 'utf8')) as TrainingSummary;
  console.log(
    `  shipped model's training (npm run train-rb): ${(shipped.trainMs / 1000).toFixed(0)} s for ${shipped.trainConfig.epochs} epochs of ${shipped.trainCutouts.total} cutouts on ${shipped.backend}; simulated nights generated or read from .cache/rb in ${(shipped.generateMs / 1000).toFixed(0)} s`,
  );
  const pairs: (typeof night)[] = [];
  for (const seed of WIDER_SEEDS.independent) pairs.push(await cachedIndependentPair(seed));
  const independent = concatSets(pairs);
  const reproduction = await cachedNight(REPRODUCTION_SEED, REPRODUCTION_NIGHT);
  for (const [name, set] of [
    [`reproduction night ${REPRODUCTION_SEED}`, reproduction],
    [`held-out night ${RELEASE_SEEDS.evaluation}`, night],
    [`independent held-out pairs ${WIDER_SEEDS.independent.join(',')}`, independent],
    [
      `held-out night ${RELEASE_SEEDS.evaluation} + background residual of rms ${RESIDUAL_PROBE_RMS} sigma`,
      withResidual(night, RESIDUAL_PROBE_RMS),
    ],
  ] as const) {
    const e = evaluateModel(model, set, MIN_SNR).evaluation;
    const c = e.atCut;
    console.log(
      `  ${name}, |S/N| >= ${MIN_SNR}, cut ${model.threshold}: purity ${(100 * c.purity).toFixed(2)}% completeness ${(100 * c.completeness).toFixed(2)}% ` +
        `(FPR ${(100 * c.falsePositiveRate).toFixed(2)}%, FNR ${(100 * c.falseNegativeRate).toFixed(2)}%, ${c.real} real, ${c.bogus} bogus), ROC AUC ${e.aucAtMinSnr.toFixed(4)}`,
    );
  }
  for (const [name, set] of [
    [`night ${RELEASE_SEEDS.evaluation}`, night],
    ['independent pairs', independent],
  ] as const) {
    const { scores } = evaluateModel(model, set, MIN_SNR);
    const rows = new Map<
      string,
      { real: number; realKept: number; bogus: number; bogusKept: number }
    >();
    for (let n = 0; n < set.raw.count; n++) {
      if (Math.abs(set.snr[n]) < MIN_SNR || set.label[n] < 0) continue;
      const { pedestal, concentration } = shapeOf(set, n);
      const key = `${concentration < BROAD_CONCENTRATION ? 'broad' : 'compact'} ${pedestal >= PEDESTAL_SIGMA ? 'on a pedestal' : 'on flat sky'}`;
      const row = rows.get(key) ?? { real: 0, realKept: 0, bogus: 0, bogusKept: 0 };
      const kept = scores[n] >= model.threshold ? 1 : 0;
      if (set.label[n] === 1) [row.real, row.realKept] = [row.real + 1, row.realKept + kept];
      else [row.bogus, row.bogusKept] = [row.bogus + 1, row.bogusKept + kept];
      rows.set(key, row);
    }
    console.log(
      `  ${name}, |S/N| >= ${MIN_SNR}, kept at the cut / count (broad: S/N within 2 px / within 8 px < ${BROAD_CONCENTRATION}; pedestal: the cutout's median S/N >= ${PEDESTAL_SIGMA} sigma): ` +
        [...rows]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, r]) => `${k}: real ${r.realKept}/${r.real}, bogus ${r.bogusKept}/${r.bogus}`)
          .join('; '),
    );
  }
  const validation = concatSets(
    await Promise.all(RELEASE_SEEDS.validation.map((seed) => cachedNight(seed, VALIDATION_NIGHT))),
  );
  const independentScores = scoreCutouts(model, independent.raw);
  const changes = (
    await Promise.all(
      WIDER_SEEDS.independent.map((seed) => independentTruthOutcomes(seed, MIN_SNR)),
    )
  ).flat();
  for (const floor of [MIN_SNR, 2 * MIN_SNR])
    console.log(
      `  independent pairs, the issue's measure: ${truthLine(changes, independent, independentScores, model.threshold, floor)}`,
    );
  for (const [name, set] of [
    [`night ${RELEASE_SEEDS.evaluation}`, night],
    [`validation nights ${RELEASE_SEEDS.validation.join(',')}`, validation],
  ] as const)
    console.log(
      `  ${name}, the bogus at |S/N| >= ${MIN_SNR} that score highest: ${topBogus(set, scoreCutouts(model, set.raw), 6)}`,
    );
  const defects = new Map(
    [validation, night, reproduction, independent].map((set) => [set, scienceDefects(set.raw)]),
  );
  for (const scoring of Object.keys(SCORING_DESCRIPTIONS) as Scoring[]) {
    const scored: RbModel = { ...model, scoring };
    const ind = timedScores(scored, independent);
    const scores = new Map([
      [validation, scoreCutouts(scored, validation.raw)],
      [night, scoreCutouts(scored, night.raw)],
      [reproduction, scoreCutouts(scored, reproduction.raw)],
      [independent, ind.scores],
    ]);
    for (const veto of [false, true]) {
      const final = (set: LabelledSet): Float32Array =>
        veto ? vetoed(scores.get(set)!, defects.get(set)!) : scores.get(set)!;
      const cut = chooseThreshold(final(validation), validation.label, validation.snr, MIN_SNR);
      console.log(
        `  scoring '${scoring}'${scoring === (model.scoring ?? 'single') ? ' (the model declares it)' : ''}${veto ? ' + science-defect veto' : ''}: ${ind.cpuMs.toFixed(2)} CPU-ms per DIASource (the independent pairs' ${independent.raw.count}); ` +
          `cut ${cut} re-chosen on validation nights ${RELEASE_SEEDS.validation.join(',')}, |S/N| >= ${MIN_SNR}, purity / completeness: ` +
          `night ${RELEASE_SEEDS.evaluation} ${figures(night, final(night), cut)}; ` +
          `reproduction ${figures(reproduction, final(reproduction), cut)}; ` +
          `independent pairs ${figures(independent, final(independent), cut)}, at 0.5 ${figures(independent, final(independent), 0.5)}` +
          (veto
            ? `; at the model's cut ${model.threshold}: night ${figures(night, final(night), model.threshold)}, reproduction ${figures(reproduction, final(reproduction), model.threshold)}`
            : ''),
      );
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
