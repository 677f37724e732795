/**
 * What `ap diff` and `ap process` share about their input images: reading them (with a noise map
 * given beside them) and the options that supply what a header lacks (--mjd, --band,
 * --zero-point, --science-variance, --template-variance).
 */
import { fileError, InputError, numberOption, readInput } from './command.js';
import {
  readExposureFromHdus,
  readFitsFileNamed,
  readFitsNamed,
  type ReadExposureResult,
} from '../shared/fits/exposure.js';
import type { FitsHdu } from '../shared/fits/read.js';
import { preparedFrom } from '../shared/pipeline/prepared-io.js';
import type { PreparedImage } from '../shared/pipeline/preprocess.js';
import { varianceFromMapFile } from '../shared/fits/variance-map.js';
import { bandOf } from '../shared/fits/exposure.js';

export const IMAGE_OPTIONS = {
  'science-variance': { type: 'string' },
  'template-variance': { type: 'string' },
  mjd: { type: 'string' },
  band: { type: 'string' },
  'zero-point': { type: 'string' },
} as const;

export const IMAGE_OPTIONS_HELP = `  --science-variance N.fits, --template-variance N.fits
                     noise map of each image, same shape: a 1-sigma map, a variance or an inverse-variance
                     weight, told apart by its EXTNAME (ERR, VARIANCE, WHT), its BUNIT (the image's units,
                     squared, or inverse squared) or its file name (noise/rms/err, var, weight/ivar); used
                     as the variance plane. Without it a file's own VARIANCE, ERR, VAR_POISSON+VAR_RNOISE
                     or WHT extension is used, else the variance is derived from gain and sky noise
  --mjd MJD          exposure midpoint of the science image (default: MJD-AVG, MJD-OBS, MJD, DATE-OBS
                     (+TIME-OBS) or JD, start times plus EXPTIME/2)
  --band B           band of the science image (default: FILTER, FILTER1/FILTER2 or BAND)
  --zero-point MAG   AB magnitude of 1 science image unit (default: PHOTZP, MAGZERO or MAGZP, or BUNIT
                     MJy/sr with PIXAR_SR, else the template's through the kernel sum)`;

/** Reads `path` (and its noise map `variancePath`, which replaces any variance it carries); InputError names the file at fault. */
export async function loadImage(path: string, variancePath?: string): Promise<ReadExposureResult> {
  return withVarianceMap((await readHdus(path)).read, variancePath);
}

/** The file's HDUs and its exposure as read. */
async function readHdus(path: string): Promise<{ hdus: FitsHdu[]; read: ReadExposureResult }> {
  try {
    const hdus = await readFitsFileNamed(path);
    return { hdus, read: readExposureFromHdus(hdus, path) };
  } catch (err) {
    throw fileError(path, err);
  }
}

/** The template of `ap diff` and `ap process`, read once: `prepared` when the file is a prepared template (APPREP = T). */
export async function loadTemplate(
  path: string,
  variancePath?: string,
): Promise<{ read: ReadExposureResult; prepared: PreparedImage | null }> {
  const { hdus, read } = await readHdus(path);
  if (read.header.get('APPREP') !== true)
    return { read: await withVarianceMap(read, variancePath), prepared: null };
  if (variancePath !== undefined)
    throw new InputError(
      `${path}: a prepared template carries its own variance; --template-variance does not apply`,
    );
  try {
    return { read, prepared: preparedFrom(hdus, read, path) };
  } catch (err) {
    throw fileError(path, err);
  }
}

/** `variancePath`'s noise map, when given, as the variance plane of the image read. */
async function withVarianceMap(
  result: ReadExposureResult,
  variancePath: string | undefined,
): Promise<ReadExposureResult> {
  if (variancePath === undefined) return result;
  try {
    const { exposure } = result;
    const map = varianceFromMapFile(
      readFitsNamed(await readInput(variancePath), variancePath),
      variancePath,
      exposure.info.units ?? '',
      exposure.width,
      exposure.height,
    );
    exposure.variance.data.set(map.variance);
    return { ...result, varianceFromFile: true, varianceOrigin: map.origin };
  } catch (err) {
    throw fileError(variancePath, err);
  }
}

/** Applies --mjd, --band and --zero-point to the science image's visit info. */
export function applyScienceOverrides(
  science: ReadExposureResult,
  values: Record<string, unknown>,
): void {
  const info = science.exposure.info;
  if (values.mjd !== undefined) {
    info.mjd = numberOption(values, 'mjd', Number.NaN);
    info.mjdOrigin = '--mjd';
  }
  if (typeof values.band === 'string') {
    if (!values.band.trim()) throw new InputError('--band must not be empty');
    info.band = bandOf(values.band);
  }
  if (values['zero-point'] !== undefined) {
    info.zeroPoint = numberOption(values, 'zero-point', Number.NaN);
    info.zeroPointOrigin = '--zero-point';
  }
}
