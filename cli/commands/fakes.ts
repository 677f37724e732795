/**
 * `ap fakes --science S --template T [--n 500] [--out DIR]`: injects PSF-model fakes into the
 * science image (on host galaxies and in empty sky, difference-image SNR 3-50), differences and
 * detects, and reports completeness against SNR, flux bias and purity
 * (DIR/fakes.json, DIR/fakes-completeness.png).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  defineCommand,
  InputError,
  numberOption,
  pairError,
  parseInput,
  progress,
  progressDone,
  required,
} from '../command.js';
import { characterizeImage } from '../../shared/characterize/characterize.js';
import { DEFAULT_DETECT_CONFIG } from '../../shared/detect/detect.js';
import { completenessBins, type CompletenessBin } from '../../shared/detect/completeness.js';
import {
  COMPLETENESS_EDGES,
  DEFAULT_FAKES_CONFIG,
  runFakes,
  type FakeSource,
  type FakesReport,
} from '../../shared/detect/fakes.js';
import { runDiff } from '../../shared/diffim/pipeline.js';
import { readExposure } from '../../shared/fits/exposure.js';
import type { Exposure } from '../../shared/image/exposure.js';
import { renderPlot } from '../../shared/plot/png-plot.js';
import { loadShippedModel } from '../../shared/rb/model.js';
import { scoreSources } from '../../shared/rb/score.js';
import { truthFromCsv } from '../../shared/sim/truth.js';
import { initTf } from '../../shared/tf/backend.js';
import { warpExposure } from '../../shared/warp/index.js';
import type { DiaSourceRecord } from '../../shared/detect/types.js';

function readImage(path: string): Promise<Exposure> {
  return parseInput(path, (bytes) => readExposure(bytes, path));
}

/** Genuine changes of the science visit from a simulation's truth.csv (artifacts excluded). */
async function realChanges(path: string, visit: number): Promise<Array<{ x: number; y: number }>> {
  const rows = await parseInput(path, (bytes) => truthFromCsv(bytes.toString('utf8')));
  return rows.filter(
    (r) =>
      r.visit === visit && (r.kind === 'transient' || r.kind === 'variable' || r.kind === 'moving'),
  );
}

/**
 * The shipped real/bogus model as a scorer for runFakes (cutouts of the injected science, the
 * warped template and the difference), with its recommended cut; null when none is shipped.
 */
async function realBogus(
  science: Exposure,
  template: Exposure,
): Promise<{
  threshold: number;
  score: (s: DiaSourceRecord[], sci: Exposure, diff: Exposure) => Promise<void>;
} | null> {
  let model;
  try {
    model = await loadShippedModel();
  } catch (err) {
    process.stderr.write(
      `${JSON.stringify({ severity: 'INFO', message: 'no real/bogus model: purity after the cut is not measured', reason: (err as Error).message })}\n`,
    );
    return null;
  }
  await initTf();
  const warped = (await warpExposure(template, science)).exposure;
  const loaded = model;
  return {
    threshold: loaded.threshold,
    score: async (sources, injected, difference) => {
      scoreSources(loaded, sources, injected, warped, difference);
    },
  };
}

function completenessPlot(report: FakesReport, fakes: FakeSource[], threshold: number): Buffer {
  const centre = (b: CompletenessBin) => Math.sqrt(b.lo * Math.min(b.hi, 50));
  const err = (b: CompletenessBin) =>
    Math.sqrt((b.completeness * (1 - b.completeness)) / Math.max(1, b.injected));
  const series = (
    label: string,
    pick: (f: FakeSource) => boolean,
    color: readonly [number, number, number],
  ) => {
    const idx = fakes.map((_, i) => i).filter((i) => pick(fakes[i]));
    const bins = completenessBins(
      idx.map((i) => fakes[i].snr),
      idx.map((i) => report.outcomes[i].detected),
      COMPLETENESS_EDGES,
    ).filter((b) => b.injected > 0);
    return {
      x: bins.map(centre),
      y: bins.map((b) => b.completeness),
      yErr: bins.map(err),
      style: 'both' as const,
      label: `${label} (${idx.length})`,
      color,
    };
  };
  return renderPlot(
    [
      series('ALL', () => true, [31, 119, 180]),
      series('EMPTY SKY', (f) => !f.onHost, [44, 160, 44]),
      series('ON HOSTS', (f) => f.onHost, [214, 39, 40]),
    ],
    {
      title: 'COMPLETENESS VS SNR',
      xLabel: 'INJECTED DIFFERENCE-IMAGE SNR',
      yLabel: 'COMPLETENESS',
      xLog: true,
      xRange: [3, 50],
      yRange: [0, 1.05],
      hLines: [0.5],
      vLines: [threshold, report.snrCut],
    },
  );
}

/** The report as a plain-text table for stdout: counts, completeness by SNR bin, headline figures. */
export function summaryTable(report: FakesReport): string {
  const f = (v: number, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : '-');
  const purity = (p: FakesReport['purityRaw']) => `${f(p.purity)} (${p.real} of ${p.detections})`;
  const rows = report.bins.map(
    (b) =>
      `  ${`${f(b.lo, 1)}-${f(Math.min(b.hi, 50), 1)}`.padEnd(10)} ${String(b.injected).padStart(8)} ${String(b.detected).padStart(8)} ${f(b.completeness).padStart(12)}`,
  );
  return [
    `fakes injected: ${report.injected} (${report.onHost} on host galaxies, ${report.injected - report.onHost} in empty sky)`,
    '',
    '  SNR bin    injected detected completeness',
    ...rows,
    '',
    `completeness at SNR >= ${report.snrCut}: ${f(report.completenessAboveCut)} (hosts ${f(report.completenessAboveCutHost)}, empty sky ${f(report.completenessAboveCutEmpty)})`,
    `SNR of 50% completeness: ${f(report.snr50, 2)} (hosts ${f(report.snr50Host, 2)}, empty sky ${f(report.snr50Empty, 2)})`,
    `flux bias at SNR >= ${report.snrCut} (median psfFlux / injected - 1): ${f(report.fluxBias, 4)}; less the pre-injection flux: ${f(report.fluxBiasCorrected, 4)}`,
    `purity of |SNR| >= ${report.snrCut} detections: ${purity(report.purityRaw)} before the real/bogus cut` +
      (report.purityAfterRb
        ? `, ${purity(report.purityAfterRb)} after it`
        : ', no real/bogus cut (no model)') +
      (report.truthUsed ? '' : ' (lower bounds: no --truth)'),
    '',
  ].join('\n');
}

export const command = defineCommand({
  name: 'fakes',
  summary: 'inject fake sources and measure completeness and purity',
  help: `usage: ap fakes --science S.fits --template T.fits [--n 500] [--out DIR] [--truth truth.csv]
                [--threshold 5] [--seed 1]

  --science S.fits   science image (as for 'ap diff')
  --template T.fits  template image
  --n N              fakes to inject (default ${DEFAULT_FAKES_CONFIG.count}), difference-image SNR log-uniform in [3, 50];
                     up to half on host galaxies (resolved sources above 10 sigma), the rest in
                     empty sky. A host takes at most one fake: fakes sit within ${DEFAULT_FAKES_CONFIG.hostOffsetFwhm} FWHM of their host's
                     centre and ${DEFAULT_FAKES_CONFIG.minSeparationFwhm} FWHM from each other, so an image with fewer hosts than N/2
                     gets one fake per usable host (the table says how many landed on hosts)
  --out DIR          where to write fakes.json and fakes-completeness.png (default .)
  --truth FILE       truth.csv of 'ap simulate': its transients, variables and asteroids count as
                     real detections for purity (without it purity is a lower bound)
  --threshold SIGMA  detection threshold (default ${DEFAULT_DETECT_CONFIG.threshold})
  --seed S           seed of the fake positions and fluxes (default 1)

Both images are characterized (background, variance, PSF) once; the pair is differenced as
'ap diff' does (warp, PSF-match, subtract) before and after injection. The report gives completeness in SNR bins, the
maximum-likelihood 50% point (all, empty sky, hosts), completeness and flux bias at SNR >= 6
(also less the pre-injection difference's flux at each position, which removes host-subtraction
residuals), and the purity of |SNR| >= 6 detections (raw, and after the real/bogus cut when
sources carry a reliability). fakes.json lists every fake with its outcome; the summary is
printed as a table on stdout, the JSON log line on stderr.`,
  options: {
    science: { type: 'string' },
    template: { type: 'string' },
    n: { type: 'string' },
    out: { type: 'string' },
    truth: { type: 'string' },
    threshold: { type: 'string' },
    seed: { type: 'string' },
  },
  async run(values) {
    const sciencePath = required(values, 'science');
    const templatePath = required(values, 'template');
    const count = numberOption(values, 'n', DEFAULT_FAKES_CONFIG.count);
    if (!Number.isInteger(count) || count < 1 || count > 100000)
      throw new InputError(`--n must be an integer in [1, 100000], got '${String(values.n)}'`);
    const threshold = numberOption(values, 'threshold', DEFAULT_DETECT_CONFIG.threshold);
    if (!(threshold > 0)) throw new InputError(`--threshold must be positive, got ${threshold}`);
    const seed = numberOption(values, 'seed', DEFAULT_FAKES_CONFIG.seed);
    const outDir = typeof values.out === 'string' && values.out !== '' ? values.out : '.';
    const start = performance.now();

    progress('reading images');
    const science = await readImage(sciencePath);
    const template = await readImage(templatePath);
    const real =
      typeof values.truth === 'string'
        ? await realChanges(values.truth, science.info.visit)
        : undefined;
    progress('characterizing');
    characterizeImage(science);
    characterizeImage(template);
    const sciencePsf = science.psf;
    if (!sciencePsf) throw new InputError(`${sciencePath}: no PSF could be measured`);
    // The images are characterized once; each difference warps and subtracts as 'ap diff' does.
    const differencer = async (s: Exposure) => {
      progress('differencing');
      const result = await runDiff(s, template, { characterize: false }).catch((err: unknown) => {
        throw pairError(err, sciencePath, templatePath) ?? err;
      });
      progress('detecting');
      return result;
    };
    const rb = await realBogus(science, template);
    const { report, fakes } = await runFakes(science, sciencePsf, differencer, {
      config: {
        ...DEFAULT_FAKES_CONFIG,
        count,
        seed,
        reliabilityCut: rb?.threshold ?? DEFAULT_FAKES_CONFIG.reliabilityCut,
      },
      score: rb?.score,
      detectConfig: { ...DEFAULT_DETECT_CONFIG, threshold },
      real,
    });
    progressDone();

    await mkdir(outDir, { recursive: true }).catch((err: Error) => {
      throw new InputError(`${outDir}: cannot create directory (${err.message})`);
    });
    const { outcomes, ...summary } = report;
    const json = {
      science: sciencePath,
      template: templatePath,
      threshold,
      ...summary,
      fakes: fakes.map((f, i) => ({ ...f, ...outcomes[i] })),
    };
    const replacer = (_key: string, v: unknown) =>
      typeof v === 'number' && !Number.isFinite(v) ? null : v;
    await writeFile(join(outDir, 'fakes.json'), `${JSON.stringify(json, replacer, 1)}\n`);
    await writeFile(
      join(outDir, 'fakes-completeness.png'),
      completenessPlot(report, fakes, threshold),
    );
    const log = {
      severity: 'INFO',
      message: 'fake injection done',
      injected: report.injected,
      completenessAboveCut: report.completenessAboveCut,
      snr50: report.snr50,
      snr50Empty: report.snr50Empty,
      fluxBias: report.fluxBias,
      fluxBiasCorrected: report.fluxBiasCorrected,
      purityRaw: report.purityRaw.purity,
      purityAfterRb: report.purityAfterRb?.purity ?? null,
      truthUsed: report.truthUsed,
      elapsedMs: Math.round(performance.now() - start),
    };
    process.stdout.write(summaryTable(report));
    process.stderr.write(`${JSON.stringify(log, replacer)}\n`);
  },
});
