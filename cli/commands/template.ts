/**
 * `ap template --out T.fits [--grid G.fits | --tile N] [--band B] INPUT.fits...`: coadds calibrated
 * single visits into a template (shared/template) that `ap diff --template` and nextVisit read.
 */
import { readFile, writeFile } from 'node:fs/promises';
import {
  defineCommand,
  InputError,
  numberOption,
  progress,
  progressDone,
  required,
} from '../command.js';
import { bandOf, readExposureWithHeader } from '../../shared/fits/exposure.js';
import {
  buildTemplate,
  NotEnoughInputsError,
  templateToFits,
  type BuildOptions,
  type OutputGrid,
  type RejectionMethod,
  type TemplateInput,
} from '../../shared/template/index.js';
import {
  DEFAULT_TEMPLATE_CONFIG,
  resolveTemplateConfig,
  type TemplateConfig,
} from '../../shared/template/config.js';
import { templateInputFromBytes } from '../../shared/template/read-input.js';
import { vettingHtml } from '../../shared/template/vetting.js';
import { WorkerPool } from '../../shared/util/worker-pool.js';

const REJECTIONS: RejectionMethod[] = ['compareWarp', 'clip', 'none'];

async function readInput(path: string): Promise<TemplateInput | { name: string; reason: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    return {
      name: path,
      reason: `cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    };
  }
  return templateInputFromBytes(bytes, path);
}

/** The grid of an image, and its header (a template's TMPLVER, FILTER). */
async function readGridAndHeader(
  path: string,
): Promise<{ grid: OutputGrid; header: ReturnType<typeof readExposureWithHeader>['header'] }> {
  const bytes = await readFile(path).catch((err: Error) => {
    throw new InputError(`${path}: cannot read (${err.message})`);
  });
  let grid;
  let header;
  try {
    ({ exposure: grid, header } = readExposureWithHeader(bytes, path));
  } catch (err) {
    throw new InputError(
      (err as Error).message.startsWith(path)
        ? (err as Error).message
        : `${path}: ${(err as Error).message}`,
    );
  }
  if (!grid.wcs) throw new InputError(`${path}: --grid needs an image with a celestial WCS`);
  return {
    grid: {
      name: path.split('/').pop() ?? path,
      width: grid.width,
      height: grid.height,
      wcs: grid.wcs,
    },
    header,
  };
}

async function readGrid(path: string): Promise<OutputGrid> {
  return (await readGridAndHeader(path)).grid;
}

/**
 * `ap template release --from OLD.fits`: the next version of a frozen template: OLD's grid (named
 * as OLD was, so TMPLID keeps its grid), band, and TMPLVER + 1.
 */
async function readRelease(
  path: string,
): Promise<{ grid: OutputGrid; band: string; version: number }> {
  const { grid, header } = await readGridAndHeader(path);
  const version = header.getNumber('TMPLVER');
  const name = header.getString('TMPLGRID');
  if (version === undefined || !name)
    throw new InputError(`${path}: not a template of ap template (no TMPLVER/TMPLGRID card)`);
  return {
    grid: { ...grid, name },
    band: bandOf(header.getString('FILTER') ?? ''),
    version: version + 1,
  };
}

async function readKnobs(path: string): Promise<Partial<TemplateConfig>> {
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new InputError(`${path}: cannot read (${err.message})`);
  });
  let knobs: unknown;
  try {
    knobs = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: not JSON (${(err as Error).message})`);
  }
  if (typeof knobs !== 'object' || knobs === null || Array.isArray(knobs))
    throw new InputError(`${path}: must hold a JSON object of template knobs`);
  const unknown = Object.keys(knobs).filter((k) => !(k in DEFAULT_TEMPLATE_CONFIG));
  if (unknown.length)
    throw new InputError(`${path}: unknown template knob(s) ${unknown.join(', ')}`);
  return knobs as Partial<TemplateConfig>;
}

export const command = defineCommand({
  name: 'template',
  summary: 'coadd calibrated single visits into a template',
  positionals: true,
  help: `usage: ap template --out T.fits [--grid G.fits | --tile N] [--band B] [--rejection M] [--min-inputs K] [--tmpl-version V] [--config FILE] [--vet PAGE] INPUT.fits...
       ap template release --from OLD.fits --out NEW.fits [options] INPUT.fits...

  release            the next version of the frozen template OLD.fits (its grid and band, TMPLVER + 1,
                     hence a new TMPLID) from INPUT.fits...; templateApi's POST .../release does the
                     same for a tile of the templates bucket (docs/contracts.md)

  INPUT.fits...      calibrated single visits, as ap diff reads them (WCS, PHOTZP/MAGZERO, FILTER;
                     MASK/VARIANCE extensions used when present; WCSRMS/ASTRRMS astrometric rms, arcsec)
  --out T.fits       the template: IMAGE, MASK (NO_DATA where nothing covers), VARIANCE, PSF (the
                     coadd PSF: Rubin's CoaddPsf fitted by a pixel basis varying with position),
                     NOISECOR (the resampling's noise correlation), INPUTS (one row per input: used or
                     rejected and why, weight, seeing, depth, zero point, astrometric rms); cards
                     MAGZERO, PHOTZP, NINPUTS, TMPLID, TMPLVER, DEPTH
  --grid G.fits      output pixel grid: G's WCS and shape
  --tile N           output grid: HEALPix tile N (order 8, nested) of the templates bucket, cropped to
                     the inputs (same pixel lattice); default: the tile holding the inputs' centre
  --band B           use inputs of band B only (default: the most common band)
  --rejection M      compareWarp (default; Rubin DMTN-080), clip (per-pixel clipped mean) or none
  --min-inputs K     fewest usable inputs (default ${DEFAULT_TEMPLATE_CONFIG.minInputs}); fewer: "not enough inputs", exit 2
  --tmpl-version V   version number in TMPLID (default 1)
  --config FILE      JSON object of template knobs (shared/template/README.md), e.g. {"maxFwhmRatio": 3}
  --vet PAGE.html    the vetting page (default: T-vetting.html next to T.fits): previews of the coadd
                     and its coverage, inputs used and rejected with reasons, seeing and depth
                     histograms, the half-split noise check, depth against the ideal

Selection: quality cuts (PSF FWHM <= ${DEFAULT_TEMPLATE_CONFIG.maxFwhmArcsec}", ellipticity <= ${DEFAULT_TEMPLATE_CONFIG.maxEllipticity}, PSF chi2/dof <= ${DEFAULT_TEMPLATE_CONFIG.maxPsfChi2},
depth within ${DEFAULT_TEMPLATE_CONFIG.maxDepthDeficitMag} mag of the deepest, sky <= ${DEFAULT_TEMPLATE_CONFIG.maxSkyRatio}x the median, astrometric rms <= ${DEFAULT_TEMPLATE_CONFIG.maxWcsRmsArcsec}"), then
Rubin's DP1 rule: the best-seeing third, or the best ${DEFAULT_TEMPLATE_CONFIG.minBest} when fewer than ${Math.round(DEFAULT_TEMPLATE_CONFIG.minBest / DEFAULT_TEMPLATE_CONFIG.bestFraction)} inputs.
Prints one summary line; stage timings go to stderr as a JSON line.`,
  options: {
    out: { type: 'string' },
    grid: { type: 'string' },
    tile: { type: 'string' },
    band: { type: 'string' },
    rejection: { type: 'string' },
    'min-inputs': { type: 'string' },
    'tmpl-version': { type: 'string' },
    vet: { type: 'string' },
    config: { type: 'string' },
    from: { type: 'string' },
  },
  async run(values, _verbose, args) {
    const out = required(values, 'out');
    const releasing = args[0] === 'release';
    const positionals = releasing ? args.slice(1) : args;
    if (releasing && !values.from)
      throw new InputError('ap template release needs --from OLD.fits');
    if (!releasing && values.from) throw new InputError('--from is for ap template release');
    if (releasing && (values.grid || values.tile !== undefined || values['tmpl-version']))
      throw new InputError(
        'a release takes its grid and version from --from, not --grid/--tile/--tmpl-version',
      );
    if (positionals.length === 0) throw new InputError('no INPUT.fits given');
    if (values.grid && values.tile !== undefined)
      throw new InputError('give --grid or --tile, not both');
    const tile = values.tile === undefined ? undefined : numberOption(values, 'tile', 0);
    if (tile !== undefined && !(Number.isInteger(tile) && tile >= 0))
      throw new InputError(`--tile must be a non-negative integer, got '${values.tile}'`);
    const rejection = (values.rejection ?? DEFAULT_TEMPLATE_CONFIG.rejection) as RejectionMethod;
    if (!REJECTIONS.includes(rejection))
      throw new InputError(
        `--rejection must be one of ${REJECTIONS.join(', ')}, got '${rejection}'`,
      );
    const minInputs = numberOption(values, 'min-inputs', DEFAULT_TEMPLATE_CONFIG.minInputs);
    if (!(Number.isInteger(minInputs) && minInputs >= 1))
      throw new InputError(`--min-inputs must be an integer >= 1, got '${values['min-inputs']}'`);
    const version = numberOption(values, 'tmpl-version', 1);
    if (!(Number.isInteger(version) && version >= 1))
      throw new InputError(
        `--tmpl-version must be an integer >= 1, got '${values['tmpl-version']}'`,
      );
    const knobs = values.config ? await readKnobs(values.config) : {};
    // Options given on the command line override the file's knobs; defaults do not.
    const given: Partial<TemplateConfig> = {
      ...(values.rejection ? { rejection } : {}),
      ...(values['min-inputs'] ? { minInputs } : {}),
    };
    try {
      resolveTemplateConfig({ ...knobs, ...given });
    } catch (err) {
      throw new InputError(`${values.config ?? 'options'}: ${(err as Error).message}`);
    }
    const release = values.from ? await readRelease(values.from) : null;
    const grid = release?.grid ?? (values.grid ? await readGrid(values.grid) : undefined);
    progress('reading inputs');
    const read = await Promise.all(positionals.map(readInput));
    const inputs = read.filter((r): r is TemplateInput => 'exposure' in r);
    const unreadable = read.filter(
      (r): r is { name: string; reason: string } => !('exposure' in r),
    );
    const options: BuildOptions = {
      grid,
      tile,
      band: values.band ?? release?.band,
      config: { ...knobs, ...given },
      version: release?.version ?? version,
      unreadable,
      pool: WorkerPool.shared(),
      onProgress: progress,
    };
    let build;
    try {
      build = await buildTemplate(inputs, options);
    } catch (err) {
      if (err instanceof NotEnoughInputsError) throw new InputError(err.message);
      throw err;
    }
    progress('writing');
    await writeFile(out, templateToFits(build));
    const vet = values.vet ?? `${out.replace(/\.fits(\.fz)?$/i, '')}-vetting.html`;
    await writeFile(vet, vettingHtml(build));
    progressDone();
    const rejected = build.inputs.length - build.nUsed;
    process.stdout.write(
      `${out}: ${build.tmplId}, ${build.nUsed} of ${build.inputs.length} inputs used (${rejected} rejected), ${build.exposure.width}x${build.exposure.height} px on ${build.grid.name}, zero point ${build.zeroPoint.toFixed(3)}, depth ${build.depthMag.toFixed(2)} mag (ideal ${build.idealDepthMag.toFixed(2)}), coverage ${build.coverage.toFixed(3)}, ${(build.timingsMs.total / 1000).toFixed(1)} s\n`,
    );
    process.stderr.write(
      `${JSON.stringify({
        severity: 'INFO',
        message: 'ap template done',
        tmplId: build.tmplId,
        used: build.nUsed,
        rejected: build.inputs
          .filter((r) => !r.used)
          .map((r) => ({ file: r.file, reason: r.reason })),
        coaddPsfMaxResidual: build.coaddPsfMaxResidual,
        halfSplitSigma: build.halfSplitSigma,
        vetting: vet,
        timingsMs: Object.fromEntries(
          Object.entries(build.timingsMs).map(([k, v]) => [k, Math.round(v)]),
        ),
        peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
        cpuSeconds: Number(
          ((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(1),
        ),
      })}\n`,
    );
  },
});
