/**
 * `ap process --science S.fits --template T.fits --out DIR`: the whole per-detector pipeline
 * offline (shared/pipeline processDetector) with a local APDB in DIR/apdb, writing
 * DIR/alerts.avro, DIR/diaSources.csv, DIR/difference.fits and DIR/summary.json.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
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
import { writeAlertContainer } from '../../shared/alerts/container.js';
import { sourceId } from '../../shared/apdb/ids.js';
import { EmbeddedApdb } from '../../shared/apdb/embedded.js';
import { formatDiaSourceCsv } from '../../shared/detect/csv.js';
import type { DiaSourceRecord } from '../../shared/detect/types.js';
import type { SubtractMethodChoice } from '../../shared/diffim/config.js';
import { diffToFits } from '../../shared/diffim/pipeline.js';
import { configOption } from '../config.js';
import {
  imageDigest,
  processDetector,
  qualityProblem,
  stderrJsonLogger,
  type LogEntry,
  type PipelineLogger,
} from '../../shared/pipeline/index.js';
import { loadRealBogus } from '../../shared/pipeline/load-realbogus.js';
import { warmPipelinePool } from '../../shared/pipeline/warm-pool.js';
import { OrbitCatalog } from '../../shared/solar/catalog.js';
import { parseOrbitsCsv } from '../../shared/solar/orbit.js';
import {
  applyScienceOverrides,
  IMAGE_OPTIONS,
  IMAGE_OPTIONS_HELP,
  loadImage,
  loadTemplate,
} from '../image-inputs.js';
import { readRefcat, type ReferenceStar } from '../../shared/pipeline/refcat.js';

const METHODS: SubtractMethodChoice[] = ['al', 'al-convsci', 'zogy', 'auto'];

/** The reference stars of a --refcat file (CSV or FITS table) in the science band; InputError names the file. */
function loadRefcat(path: string, band: string): Promise<ReferenceStar[]> {
  return parseInput(path, (bytes) => readRefcat(bytes, band));
}

/** The orbit catalogue of --orbits; a bad file is one line naming it. */
function loadOrbits(path: string): Promise<OrbitCatalog> {
  return parseInput(
    path,
    (bytes) => new OrbitCatalog(parseOrbitsCsv(bytes.toString('utf8'), path)),
  );
}

/** The DIASource table of `ap detect`, with the ids the APDB and the alerts use. */
function diaSourceCsv(
  records: readonly DiaSourceRecord[],
  visit: number,
  detector: number,
): string {
  const [head, ...rows] = formatDiaSourceCsv(records, visit, detector).trimEnd().split('\n');
  const body = rows.map(
    (row, i) => `${sourceId(visit, detector, records[i].index)}${row.slice(row.indexOf(','))}`,
  );
  return `${[head, ...body].join('\n')}\n`;
}

export const command = defineCommand({
  name: 'process',
  summary: 'the whole per-detector pipeline offline, to alerts.avro',
  help: `usage: ap process --science S.fits --template T.fits --out DIR [--method al|al-convsci|zogy|auto]
                  [--visit V] [--detector D] [--threshold 5] [--config FILE]
                  [--science-variance N.fits] [--template-variance N.fits] [--mjd MJD] [--band B] [--zero-point MAG]
                  [--refcat STARS.csv|STARS.fits] [--orbits FILE]

  --science S.fits   science image (FITS with a celestial WCS; MASK/VARIANCE extensions used when present)
  --template T.fits  template image (warped onto the science grid); a prepared template (APPREP = T,
                     written by 'ap diff --prepared-template-out') is not characterized again
  --out DIR          output folder (created if needed):
                       DIR/apdb/           the local APDB (DIAObjects, DIASources, DIAForcedSources as JSON lines),
                                           updated with this visit; a stored (visit, detector) is never stored twice
                       DIR/alerts.avro     the alerts, an Avro object container file ('ap alerts --in' prints them)
                       DIR/diaSources.csv  the DIASources, columns as 'ap detect' writes them (ids as in the alerts)
                       DIR/difference.fits the difference image, as 'ap diff' writes it
                       DIR/summary.json    counts, stage timings, subtraction method, zero point, TF.js backend
  --method M         subtraction method (default auto; see 'ap diff --help')
  --visit V          visit id (default: the science header's VISIT, EXPNUM or EXPID, else the exposure
                     start in minutes since MJD 51544, with a logged warning)
  --detector D       detector id (default: the science header's DETECTOR, CCDNUM or CCDNAME's number,
                     else 0 with a logged warning)
  --threshold SIGMA  detection threshold (default 5)
  --config FILE      pipeline configuration override, JSON (docs/contracts.md), validated; --method
                     and --threshold apply on top of it. Its hash and the code version are written
                     to the difference (APCONFIG, APVERSION), summary.json and every alert
${IMAGE_OPTIONS_HELP}
  --refcat STARS.csv reference catalog of the footprint (CSV, or a FITS binary table: ra, dec in degrees and
                     an AB magnitude column <band>_mag, mag_<band>, <band> or mag): calibrates the science image by PSF photometry
                     at its stars when the header has no zero point (before the template's calibration)
  --orbits FILE      known solar-system objects: a CSV with Rubin's mpc_orbits columns designation,
                     epoch_mjd (TT), a, q (au), e, i, node, argperi (deg, J2000 ecliptic), mean_anomaly,
                     peri_time (MJD TT), h, g (as 'ap simulate' writes orbits.csv). DIASources at an
                     object's predicted place get ssObjectId, ssSource and mpc_orbits and no DIAObject.
                     The observatory is the science header's OBSGEO-B/L/H or OBSGEO-X/Y/Z, else Rubin's.

Stages: characterize, warp, subtract, detect and measure, real/bogus score (skipped with a logged
reason when no model is available), associate (with forced photometry of known DIAObjects not
detected), alerts with cutouts. Fluxes are calibrated with --zero-point, else the science header's
PHOTZP/MAGZERO/MAGZP (or BUNIT MJy/sr with PIXAR_SR), else --refcat's stars, else the template's zero point plus
2.5 log10 of the matching kernel's sum, else the configuration's calibration.zeroPoint (--config);
summary.json's zeroPointSource and the difference's PHOTZSRC card say which. One JSON log line
per stage on stderr. Running again on the same inputs leaves the APDB unchanged and writes the
same alerts; a different image under a (visit, detector) already in DIR/apdb is refused (exit 2).

Quality gate (the cloud's quarantine): an image whose DIASources are far beyond normal (more than
the config's quality.maxDiaSourcesPerMpix, default 500 per Mpix, or a negative fraction above
quality.maxNegativeFraction, default 0.8) is quarantined: its alerts are withheld (no alerts.avro,
nothing stored in DIR/apdb), diaSources.csv, difference.fits and summary.json (with the reason)
are written for inspection, and one line says why (exit 2). Raise the limits with --config.`,
  options: {
    science: { type: 'string' },
    template: { type: 'string' },
    out: { type: 'string' },
    method: { type: 'string' },
    visit: { type: 'string' },
    detector: { type: 'string' },
    threshold: { type: 'string' },
    config: { type: 'string' },
    orbits: { type: 'string' },
    ...IMAGE_OPTIONS,
    refcat: { type: 'string' },
  },
  async run(values, verbose) {
    const sciencePath = required(values, 'science');
    const templatePath = required(values, 'template');
    const out = required(values, 'out');
    const method = values.method as SubtractMethodChoice | undefined;
    if (method !== undefined && !METHODS.includes(method))
      throw new InputError(`--method must be one of ${METHODS.join(', ')}, got '${method}'`);
    const threshold =
      values.threshold === undefined ? undefined : numberOption(values, 'threshold', 5);
    if (threshold !== undefined && !(threshold > 0))
      throw new InputError(`--threshold must be positive, got ${threshold}`);
    const config = await configOption(values.config, {
      subtract: { method },
      detect: { threshold },
    });
    const id = (name: 'visit' | 'detector'): number | undefined =>
      values[name] === undefined ? undefined : numberOption(values, name, 0);

    const knownObjects = values.orbits === undefined ? null : await loadOrbits(values.orbits);
    warmPipelinePool(); // the pool's worker starts and loads its task modules while the images are read
    progress('reading images');
    const [science, template] = await Promise.all([
      loadImage(sciencePath, values['science-variance']),
      loadTemplate(templatePath, values['template-variance']),
    ]);
    applyScienceOverrides(science, values);
    const refcat =
      values.refcat === undefined
        ? null
        : await loadRefcat(values.refcat, science.exposure.info.band);
    await mkdir(out, { recursive: true }).catch((err: Error) => {
      throw new InputError(`${out}: cannot create the output folder (${err.message})`);
    });
    const apdb = await EmbeddedApdb.open(join(out, 'apdb'));
    // Log lines are held until the outcome is known: bad input prints one line only (all with --verbose).
    const held: LogEntry[] = [];
    const log: PipelineLogger = (entry) => {
      held.push(entry);
      if (typeof entry.stage === 'string') progress(`${entry.stage} done`);
    };
    const flush = (): void => {
      progressDone();
      held.splice(0).forEach(stderrJsonLogger);
    };

    let result;
    try {
      const realBogus = await loadRealBogus(log);
      result = await processDetector(
        {
          science: science.exposure,
          scienceHeader: science.header,
          template: template.prepared ?? template.read.exposure,
          visit: id('visit'),
          detector: id('detector'),
          apdb,
          realBogus,
          knownObjects,
          refcat,
          imageDigest: imageDigest(await readFile(sciencePath)),
        },
        config,
        { log },
      );
    } catch (err) {
      const input = pairError(err, sciencePath, templatePath);
      if (verbose || !input) flush();
      throw input ?? err;
    }
    const quarantined = qualityProblem(result.stats, config.quality);
    // A quarantine is told like bad input: one line (and the stage logs with --verbose).
    if (quarantined && !verbose) {
      progressDone();
      held.length = 0;
    } else flush();

    progress('writing');
    // A quarantined image's alerts are withheld: neither published (alerts.avro) nor in the APDB.
    const stored = quarantined ? false : await apdb.storeVisit(result.association.batch);
    await apdb.close();
    const { visit, detector } = result.stats;
    if (quarantined) await rm(join(out, 'alerts.avro'), { force: true });
    else await writeAlertContainer(join(out, 'alerts.avro'), result.alerts);
    await writeFile(join(out, 'diaSources.csv'), diaSourceCsv(result.diaSources, visit, detector));
    await writeFile(join(out, 'difference.fits'), diffToFits(result.subtraction, result.stats));
    const summary = {
      science: sciencePath,
      template: templatePath,
      method: result.method,
      tfBackend: result.tfBackend,
      warpResampler: result.warpResampler,
      fftEngine: result.fftEngine,
      kernelArithmetic: result.kernelArithmetic,
      storedInApdb: stored,
      quarantined,
      ...result.stats,
      timingsMs: Object.fromEntries(
        Object.entries(result.timingsMs).map(([k, v]) => [k, Math.round(v)]),
      ),
    };
    await writeFile(join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    progressDone();
    if (quarantined)
      throw new InputError(
        `${sciencePath}: quarantined: ${quarantined}; ${result.alerts.length} alerts withheld (limits: the config's quality section)`,
      );
    stderrJsonLogger({
      severity: 'INFO',
      message: 'ap process done',
      out,
      visit,
      detector,
      diaSources: result.stats.diaSources,
      alerts: result.alerts.length,
      storedInApdb: stored,
      totalMs: Math.round(result.timingsMs.total),
    });
  },
});
