/** The model card (Mitchell et al. 2019, "Model Cards for Model Reporting") of a release, as MODEL_CARD.md. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Evaluation } from './evaluate.js';
import type { NightSetConfig } from './dataset.js';
import type { EpochReport, TrainConfig } from './train.js';

/** The seeds of a release's nights (RELEASE_SEEDS). */
export interface ReleaseSeeds {
  train: number[];
  validation: number[];
  evaluation: number;
}

/** What a release's training did, as the model card and training.json report it. */
export interface TrainingSummary {
  version: string;
  backend: string;
  parameters: number;
  trainConfig: TrainConfig;
  trainCutouts: { total: number; real: number; bogus: number; byKind: Record<string, number> };
  validationCutouts: number;
  generateMs: number;
  trainMs: number;
  history: EpochReport[];
  threshold: number;
  /** The model whose weights training started from (a fine-tuning); absent when trained from scratch. */
  base?: string;
  seeds: ReleaseSeeds;
  /** Seeds among the training seeds drawn as broad nights (dataset.ts broadNight); absent: none. */
  broadSeeds?: number[];
  nights: {
    training: NightSetConfig;
    validation: NightSetConfig;
    evaluation: NightSetConfig;
    reproduction: NightSetConfig & { seed: number };
  };
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;

function figuresTable(e: Evaluation): string {
  const c = e.atCut;
  const a = e.atCutAllSnr;
  return [
    '| sources | real | bogus | purity | completeness | FPR | FNR | ROC AUC |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    `| \\|S/N\\| >= ${e.minSnr} | ${c.real} | ${c.bogus} | ${pct(c.purity)} | ${pct(c.completeness)} | ${pct(c.falsePositiveRate)} | ${pct(c.falseNegativeRate)} | ${e.aucAtMinSnr.toFixed(4)} |`,
    `| all | ${a.real} | ${a.bogus} | ${pct(a.purity)} | ${pct(a.completeness)} | ${pct(a.falsePositiveRate)} | ${pct(a.falseNegativeRate)} | ${e.aucAll.toFixed(4)} |`,
  ].join('\n');
}

function kindsTable(e: Evaluation): string {
  const rows = [...e.byKind].sort((x, y) => y.label - x.label || y.count - x.count);
  return [
    `| label | kind | count (\\|S/N\\| >= ${e.minSnr}) | accepted at the cut |`,
    '| --- | --- | --- | --- |',
    ...rows.map(
      (k) =>
        `| ${k.label === 1 ? 'real' : 'bogus'} | ${k.kind} | ${k.count} | ${pct(k.accepted)} |`,
    ),
  ].join('\n');
}

/** A wider-world release's base model and its figures on the independent held-out pairs. */
export interface WiderFigures {
  base: string;
  /** Seeds of the wider-world nights among the training nights (the others are default nights). */
  widerSeeds: number[];
  independent: Evaluation;
  independentBase: Evaluation;
}

function widerSection(s: TrainingSummary, w: WiderFigures): string {
  return `## Wider world (fine-tuning of ${w.base})
${w.base}'s weights fine-tuned on default training nights and wider-world nights together (seeds
${w.widerSeeds.join(', ')} of the training seeds above; \`widerNight\` in \`shared/rb/dataset.ts\`: FWHM 1.8-8 px,
Moffat beta 1.8-5, ellipticity up to 0.25, 0.15-0.45"/px, sky gradients, \`ap simulate\`'s real-world
effects, AL / AL-CONVSCI / ZOGY / auto, all through runDiff), so that the default night's purity holds.
The cut was chosen on the default validation nights and a wider one together.

## Independent held-out pairs
Never seen in training or in choosing the cut, drawn by \`shared/rb/independent-pair.ts\` (not \`ap
simulate\`: Moffat beta 1.8-2.8 with a 4-15 % halo, 0.3-0.45"/px, curved sky
gradients, faint transients near S/N 6, dimming and brightening variables) through \`ap diff\`'s runDiff
and \`ap detect\`'s detection. ${w.independent.cutouts} DIASources.

${s.version}:

${figuresTable(w.independent)}

${kindsTable(w.independent)}

${w.base} (cut ${w.independentBase.atCut.threshold}) on the same cutouts:

${figuresTable(w.independentBase)}

`;
}

/** The time-reversal augmentation in words, when the training used it. */
function timeReversal(c: TrainConfig): string {
  return c.timeReversal > 0
    ? `, ${c.timeReversal * 100}% of cutouts time-reversed (science and template swapped, difference negated)`
    : '';
}

/** The broad nights among the training nights in words, when there are any. */
function broadNights(s: TrainingSummary): string {
  return s.broadSeeds?.length
    ? `Seeds ${s.broadSeeds.join(', ')} are broad nights (\`broadNight\` in \`shared/rb/dataset.ts\`: science FWHM in [f, f + 2] px for f
in 3.5-5.5, Moffat beta in [b, b + 0.4] for b in 1.8-2.8, sky gradients of 5-30 %), as the independent pairs' PSFs are.
`
    : '';
}

export function writeModelCard(
  dir: string,
  s: TrainingSummary,
  heldOut: Evaluation,
  reproduction: Evaluation,
  wider?: WiderFigures,
): void {
  const kinds = Object.entries(s.trainCutouts.byKind)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  const text = `# Real/bogus model ${s.version}

**What it does.** Scores a DIASource's 51 x 51 cutouts (science, warped template, difference,
difference S/N) with \`reliability\` in [0, 1]; sources with reliability >= **${s.threshold}** are
called real. Architecture: a VGG-like CNN at braai's scale (Duev et al. 2019), ${s.parameters}
parameters (${((4 * s.parameters) / 1024).toFixed(0)} kB of float32), see \`shared/rb/network.ts\`. Input
normalisation: see \`manifest.json\` \`input\`. Files: \`manifest.json\` + \`weights.bin\` (format in
\`docs/rb/README.md\`), \`training.json\` (everything below, machine-readable), \`heldout.json\` /
\`heldout-roc.png\` and \`reproduction.json\` / \`reproduction-roc.png\`.

**Intended use.** Alert purity cut in this project's Alert Production on images like the simulator's
(\`shared/sim\`, 0.2"/px, FWHM 2.5-5 px). For another camera, fine-tune on its labelled cutouts
(\`npm run train-rb -- retrain\`, docs/rb/README.md) and label the least certain ones first
(\`npm run train-rb -- uncertain\`).

## Training data
Simulated nights (seeds ${s.seeds.train.join(', ')}; ${s.nights.training.sim.size} px, ${s.nights.training.sim.visits} visits each,
raised rates of transients, variables, asteroids, cosmic rays and hot pixels) run through the real
chain (characterize, warp, AL/ZOGY subtraction, detection), plus the artifacts of
\`shared/rb/artifacts.ts\` (unmasked cosmic rays and hot pixels, misregistration dipoles, PSF-matching
residuals of bright stars, edge glow). Each DIASource is labelled against the simulator's truth
(real within 1.5 px of a transient / variable / asteroid with |expected S/N| >= 2.5).
${broadNights(s)}${s.trainCutouts.total} cutouts: ${s.trainCutouts.real} real, ${s.trainCutouts.bogus} bogus (${kinds}).
${s.base && !wider ? `Training started from ${s.base}'s weights (a retraining on the chain's new DIASources). ` : ''}Balanced batches of ${s.trainConfig.batchSize}, random rotations by 90 degrees and flips${timeReversal(s.trainConfig)}, Adam at
${s.trainConfig.learningRate} (then / 10 for the last ${s.trainConfig.fineTuneFraction * 100}% of steps),
L2 ${s.trainConfig.weightDecay}, ${s.trainConfig.epochs} epochs, ${(s.trainMs / 1000).toFixed(0)} s on the ${s.backend} backend.
The cut was chosen on ${s.validationCutouts} validation cutouts (seeds ${s.seeds.validation.join(', ')}, nights like the held-out one,
${s.nights.validation.sim.size} px, ${s.nights.validation.sim.visits} visits) to
maximise min(purity - 98%, completeness - 97%) at |S/N| >= ${heldOut.minSnr}.

## Metrics on the held-out night
Seed ${s.seeds.evaluation}, never used in training or in choosing the cut: ${s.nights.evaluation.sim.size} px,
${s.nights.evaluation.sim.visits} visits at the simulator's default rates, plus the injected artifacts. ${heldOut.cutouts} DIASources.

${figuresTable(heldOut)}

${kindsTable(heldOut)}

Targets (issue 6): purity >= 98% and completeness >= 97% at S/N >= 6 (Rubin requires 95% / 90%).

## Reproduction night
Seed ${s.nights.reproduction.seed}, ${s.nights.reproduction.sim.size} px, ${s.nights.reproduction.sim.visits} visits (training rates): the test
\`test/rb/shipped-model.test.ts\` regenerates it and checks these figures.

${figuresTable(reproduction)}

${wider ? widerSection(s, wider) : ''}## Limitations
Trained on simulated images only: real cameras have artifacts the simulator lacks (ghosts,
crosstalk, fringing, diffraction spikes). Scores are not calibrated probabilities.
`;
  writeFileSync(join(dir, 'MODEL_CARD.md'), text);
}
