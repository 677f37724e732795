/**
 * `ap detect --diff D.fits --out SOURCES.csv [--threshold 5]`: DIASources on a difference image
 * written by `ap diff` (see shared/detect/csv.ts for the table's columns).
 */
import { writeFile } from 'node:fs/promises';
import {
  defineCommand,
  fileError,
  InputError,
  numberOption,
  parseInput,
  progress,
  progressDone,
  required,
} from '../command.js';
import { formatDiaSourceCsv } from '../../shared/detect/csv.js';
import { detectDiaSourcesParallel, DEFAULT_DETECT_CONFIG } from '../../shared/detect/detect.js';
import { readDifference } from '../../shared/detect/read-difference.js';

export const command = defineCommand({
  name: 'detect',
  summary: 'detect and measure DIASources on a difference image',
  help: `usage: ap detect --diff D.fits --out SOURCES.csv [--threshold 5]

  --diff D.fits       a difference image written by 'ap diff' (IMAGE, MASK, VARIANCE, PSF)
  --out SOURCES.csv   the DIASource table to write
  --threshold SIGMA   detection threshold on the PSF matched-filter significance (default ${DEFAULT_DETECT_CONFIG.threshold})

Detects positive and negative sources on the PSF-convolved (likelihood) image with its own
variance, merges dipoles, and measures PSF and aperture fluxes, centroids, shapes and flags.
Columns: diaSourceId (visit * 2^28 + detector * 2^20 + index, from the VISIT and DETECTOR cards), x, y (0-based science pixels), xErr, yErr, ra, dec, raErr, decErr (deg),
psfFlux, psfFluxErr, snr, isDipole, isNegative, apFlux, apFluxErr (12 px radius),
scienceFlux, scienceFluxErr, templateFlux, templateFluxErr, ixx, iyy, ixy (px^2),
footprintArea, bboxSize, psfNdata, dipoleMeanFlux, dipoleFluxDiff, dipoleSep (px),
dipoleAngle (deg, from +x towards +y, negative to positive lobe), reliability, flags.
Fluxes are science-image ADU; empty cells are unmeasured (reliability until scored);
flags are '|'-joined names: edge, saturated, saturatedCenter, interpolated,
interpolatedCenter, cr, crCenter, bad, suspectCenter, measurementFailed.
Sky sources' noise ratio (measured / predicted PSF-flux scatter) is logged on stderr.`,
  options: { diff: { type: 'string' }, out: { type: 'string' }, threshold: { type: 'string' } },
  async run(values) {
    const diffPath = required(values, 'diff');
    const out = required(values, 'out');
    const threshold = numberOption(values, 'threshold', DEFAULT_DETECT_CONFIG.threshold);
    if (!(threshold > 0)) throw new InputError(`--threshold must be positive, got ${threshold}`);
    progress(`reading ${diffPath}`);
    const diff = await parseInput(diffPath, (bytes) => readDifference(bytes, diffPath));
    progress('detecting');
    const start = performance.now();
    const { sources, skySources, thresholdScale } = await detectDiaSourcesParallel(
      diff.exposure,
      diff.psf,
      {
        ...DEFAULT_DETECT_CONFIG,
        threshold,
      },
    );
    const elapsedMs = performance.now() - start;
    const { visit, detector } = diff.exposure.info;
    let table: string;
    try {
      table = formatDiaSourceCsv(sources, visit, detector);
    } catch (e) {
      throw fileError(
        diffPath,
        new Error(
          `VISIT ${visit} / DETECTOR ${detector} do not fit the DIASource id (${(e as Error).message})`,
        ),
      );
    }
    await writeFile(out, table);
    progressDone();
    const log = {
      severity: 'INFO',
      message: 'DIASources written',
      file: out,
      count: sources.length,
      dipoles: sources.filter((s) => s.isDipole).length,
      negative: sources.filter((s) => s.isNegative).length,
      threshold,
      psf: diff.psfSource,
      skySourceNoiseRatio: Number(skySources.noiseRatio.toFixed(4)),
      thresholdScale: Number(thresholdScale.toFixed(4)),
      elapsedMs: Math.round(elapsedMs),
    };
    process.stderr.write(`${JSON.stringify(log)}\n`);
  },
});
