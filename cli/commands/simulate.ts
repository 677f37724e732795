/**
 * `ap simulate --out DIR [--size N] [--seed S] [--visits K]`: a deep template and K science
 * visits of one simulated detector as camera-like FITS files, and truth.csv (see shared/sim/).
 * Images are rendered and written one at a time, so memory holds one image and the template's
 * variance; half of each image's stars and galaxies are drawn on a worker thread.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  defineCommand,
  InputError,
  numberOption,
  progress,
  progressDone,
  required,
} from '../command.js';
import {
  CROWDED_SIM_CONFIG,
  DEFAULT_SIM_CONFIG,
  type SimConfig,
  type TemplateSeeing,
} from '../../shared/sim/config.js';
import {
  planNight,
  renderImageAsync,
  truthForVisit,
  type TemplateForTruth,
} from '../../shared/sim/night.js';
import { SkyWorker } from '../../shared/sim/parallel.js';
import type { ImageSpec } from '../../shared/sim/plan.js';
import { truthToCsv, type TruthRow } from '../../shared/sim/truth.js';
import { formatOrbitsCsv } from '../../shared/solar/orbit.js';
import { simulatedImageFits } from '../../shared/sim/write.js';
import { writeTemplateInputSet } from './simulate-template-inputs.js';

const DEFAULT_SIZE = 2048;

function integerOption(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  lo: number,
  hi: number,
): number {
  const n = numberOption(values, name, fallback);
  if (!Number.isInteger(n) || n < lo || n > hi)
    throw new InputError(
      `--${name} must be an integer in [${lo}, ${hi}], got '${String(values[name])}'`,
    );
  return n;
}

/** A non-negative number option, else InputError. */
function nonNegative(values: Record<string, unknown>, name: string, fallback: number): number {
  const n = numberOption(values, name, fallback);
  if (!(n >= 0) || !Number.isFinite(n))
    throw new InputError(`--${name} must be a non-negative number, got '${String(values[name])}'`);
  return n;
}

/** The real-world effects asked for on the command line (shared/sim/real-world.ts). */
function realWorldOptions(values: Record<string, unknown>): Partial<SimConfig> {
  const out: Partial<SimConfig> = {
    vignetteRadius: nonNegative(values, 'vignetting', 0),
    diffuseLightFraction: nonNegative(values, 'diffuse-light', 0),
    writeWcs: values['no-wcs'] !== true,
    writeSaturate: values['no-saturate'] !== true,
    writeGain: values['no-gain'] !== true,
    ditherPx: nonNegative(values, 'dither', DEFAULT_SIM_CONFIG.ditherPx),
  };
  const scale = nonNegative(values, 'unit-scale', 1);
  if (scale === 0)
    throw new InputError(`--unit-scale must be positive, got '${String(values['unit-scale'])}'`);
  out.unitScale = scale;
  if (typeof values.unit === 'string') out.unit = values.unit;
  if (values.rotation !== undefined) {
    const r = nonNegative(values, 'rotation', 0);
    out.rotationDeg = [r, r];
  }
  if (typeof values['wcs-error'] === 'string') {
    const parts = values['wcs-error'].split(',').map(Number);
    if (parts.length !== 3 || parts.some((v) => !(v >= 0) || !Number.isFinite(v)))
      throw new InputError(
        `--wcs-error must be ARCSEC,DEG,FRACTION (three non-negative numbers), got '${values['wcs-error']}'`,
      );
    [out.wcsErrorArcsec, out.wcsErrorRotationDeg, out.wcsErrorScale] = parts;
  }
  return out;
}

async function prepareDirectory(dir: string): Promise<void> {
  const existing = await stat(dir).catch(() => null);
  if (existing && !existing.isDirectory())
    throw new InputError(`${dir}: exists and is not a directory`);
  await mkdir(dir, { recursive: true }).catch((err: Error) => {
    throw new InputError(`${dir}: cannot create directory (${err.message})`);
  });
}

function log(message: string, fields: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ severity: 'INFO', message, ...fields })}\n`);
}

export const command = defineCommand({
  name: 'simulate',
  summary: 'write a template, science visits and truth.csv for one simulated detector',
  help: `usage: ap simulate --out DIR [--size N] [--seed S] [--visits K] [--template-seeing better|worse|random]
                   [--crowded]
                   [real-world effects, all off by default: --vignetting R --diffuse-light F
                    --wcs-error ARCSEC,DEG,FRAC --no-wcs --no-saturate --no-gain --unit-scale S --unit NAME
                    --dither PX --rotation DEG]

  --out DIR            output folder (created if missing): template.fits, science-1.fits ...
                       science-K.fits (float32 ADU in the primary HDU, GAIN, RDNOISE, SATURATE,
                       MJD-OBS, EXPTIME, FILTER, PHOTZP, VISIT, DETECTOR, INSTRUME='APSIM',
                       OBSGEO-B/L/H and a TAN-SIP WCS), truth.csv (one row per injected change
                       per visit) and orbits.csv (the asteroids' two-body elements, the known-object
                       catalogue of 'ap process --orbits')
  --size N             side of the square detector, pixels (default ${DEFAULT_SIZE})
  --seed S             seed of every random draw (default ${DEFAULT_SIM_CONFIG.seed})
  --visits K           science visits (default ${DEFAULT_SIM_CONFIG.visits})
  --template-seeing    the template's seeing against the visits' (default random, from the seed)
  --crowded            a crowded field: ${CROWDED_SIM_CONFIG.starsPerMegapixel} stars per square megapixel (~10,000 above the
                       visits' 5-sigma limit at --size 4096), a ${CROWDED_SIM_CONFIG.templateDepth}x deep template at ${CROWDED_SIM_CONFIG.templateFwhmPx} px FWHM
                       against visits at ${CROWDED_SIM_CONFIG.fwhmRangePx?.[0]} px, ${CROWDED_SIM_CONFIG.transientsPerMegapixel} transients per square megapixel (~400 at
                       4096), a plain TAN WCS (no distortion) with the usual small dither and rotation
  --template-inputs N  instead: N template-input visits input-1.fits ... (seeing 2.5-7 px, dithers,
                       rotations, transparency, streaks, one transient in one input only; see
                       inputs-truth.csv) and K later visits science-(N+1).fits ... to difference

Real-world effects (shared/sim/real-world.ts):
  --vignetting R       circular field of view: response 1 out to R x the half-side, falling over
                       ${DEFAULT_SIM_CONFIG.vignetteEdgePx} px to ${DEFAULT_SIM_CONFIG.vignetteFloor} beyond (sky and sources; the same in every image)
  --diffuse-light F    diffuse nebulae on the sky peaking at F x the mean science sky
  --wcs-error A,R,S    science headers' WCS off by A arcsec, R degrees of rotation and a fractional
                       scale error S (random directions and signs); the truth's CRVAL/CRPIX/CD are
                       written as SIMVALn, SIMPIXn, SIMCDi_j
  --no-wcs             no WCS cards at all (register the pair by its stars)
  --no-saturate        no SATURATE card;   --no-gain: no GAIN and RDNOISE cards
  --unit-scale S       pixels in units of S per ADU (GAIN, SATURATE, PHOTZP follow); --unit sets BUNIT
  --dither PX          largest pointing dither (default ${DEFAULT_SIM_CONFIG.ditherPx}); --rotation DEG: the visits'
                       rotation (default ${DEFAULT_SIM_CONFIG.rotationDeg[0]}-${DEFAULT_SIM_CONFIG.rotationDeg[1]}); --dither 0 --rotation 0 aligns the images

The template is ${DEFAULT_SIM_CONFIG.templateDepth}x deeper than a ${DEFAULT_SIM_CONFIG.exposureTime} s visit; visits differ in pointing, rotation,
PSF, sky, transparency; they carry transients, variable stars, asteroids, cosmic rays, hot
pixels, a hot column, saturation with bleed trails, and now and then a satellite streak.`,
  options: {
    out: { type: 'string' },
    size: { type: 'string' },
    seed: { type: 'string' },
    visits: { type: 'string' },
    'template-seeing': { type: 'string' },
    crowded: { type: 'boolean' },
    'template-inputs': { type: 'string' },
    vignetting: { type: 'string' },
    'diffuse-light': { type: 'string' },
    'wcs-error': { type: 'string' },
    'no-wcs': { type: 'boolean' },
    'no-saturate': { type: 'boolean' },
    'no-gain': { type: 'boolean' },
    'unit-scale': { type: 'string' },
    unit: { type: 'string' },
    dither: { type: 'string' },
    rotation: { type: 'string' },
  },
  async run(values) {
    const out = required(values, 'out');
    const crowded = values.crowded === true ? CROWDED_SIM_CONFIG : {};
    const seeing = values['template-seeing'] ?? crowded.templateSeeing ?? 'random';
    if (!['better', 'worse', 'random'].includes(seeing)) {
      throw new InputError(`--template-seeing must be better, worse or random, got '${seeing}'`);
    }
    const config: Partial<SimConfig> = {
      ...crowded,
      size: integerOption(values, 'size', DEFAULT_SIZE, 64, 16384),
      seed: integerOption(values, 'seed', DEFAULT_SIM_CONFIG.seed, 0, 2 ** 31 - 1),
      visits: integerOption(values, 'visits', DEFAULT_SIM_CONFIG.visits, 1, 100),
      templateSeeing: seeing as TemplateSeeing,
      ...realWorldOptions(values),
    };
    await prepareDirectory(out);
    const started = performance.now();
    if (values['template-inputs'] !== undefined) {
      const files = await writeTemplateInputSet(
        out,
        config,
        integerOption(values, 'template-inputs', 12, 1, 100),
        config.visits ?? 1,
      );
      progressDone();
      log('template-input set written', {
        out,
        files,
        seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
      });
      return;
    }
    const plan = planNight(config);
    const write = async (spec: ImageSpec, bytes: Uint8Array): Promise<string> => {
      const file = join(out, `${spec.name}.fits`);
      await writeFile(file, bytes);
      return file;
    };
    const seedCards = (spec: ImageSpec) => ({
      seed: plan.config.seed,
      fwhmPx: spec.psf.fwhmAt((plan.config.size - 1) / 2, (plan.config.size - 1) / 2),
      skyAdu: spec.skyAdu,
      unit: plan.config.unit,
    });
    // Half the stars and galaxies of every image are drawn on a second thread.
    const worker = new SkyWorker(plan.config);
    const files: string[] = [];
    const truth: TruthRow[] = [];
    try {
      progress('ap simulate: template');
      // Only what the truth needs of the template stays in memory once it is written.
      const writeTemplate = async (): Promise<TemplateForTruth> => {
        const template = (await renderImageAsync(plan, plan.template, worker)).image;
        const bytes = simulatedImageFits(template, seedCards(plan.template));
        files.push(await write(plan.template, bytes));
        const { variance, wcs, info } = template.exposure;
        return { variance, wcs, info };
      };
      const templateForTruth = await writeTemplate();
      for (const spec of plan.visits) {
        progress(`ap simulate: visit ${spec.visit}/${plan.visits.length}`);
        const science = await renderImageAsync(plan, spec, worker);
        files.push(await write(spec, simulatedImageFits(science.image, seedCards(spec))));
        truth.push(...truthForVisit(plan, spec, science, templateForTruth));
      }
    } finally {
      await worker.close();
    }
    const truthFile = join(out, 'truth.csv');
    await writeFile(truthFile, truthToCsv(truth));
    // The asteroids' elements: the known-object catalogue `ap process --orbits` reads.
    const orbitsFile = join(out, 'orbits.csv');
    await writeFile(orbitsFile, formatOrbitsCsv(plan.field.moving.map((m) => m.orbit)));
    progressDone();
    log('simulated night written', {
      out,
      size: plan.config.size,
      seed: plan.config.seed,
      visits: plan.visits.length,
      files: [...files, truthFile, orbitsFile],
      truthRows: truth.length,
      limitMag: Number(plan.limitMag.toFixed(2)),
      seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
    });
  },
});
