/**
 * Variance planes from the noise maps real images come with: a 1-sigma map (JWST's ERR, a
 * `*.noise.fits` or `*.rms.fits` beside the image), a variance map (VARIANCE, `*.var.fits`), or
 * an inverse-variance weight map (WHT with drizzle's ivm weighting, `*.weight.fits`, `*.ivar.fits`).
 * What a map holds is read, in this order, from its EXTNAME, its BUNIT against the image's
 * (squared units: variance; inverse squared: weight; the image's own units: sigma), and the words
 * of its file name; a map none of these names is refused rather than guessed.
 */
import { FitsError } from './errors.js';
import type { FitsHeader } from './header.js';
import type { FitsData } from './pixels.js';
import type { FitsHdu } from './read.js';

export type NoiseMapKind = 'sigma' | 'variance' | 'inverse-variance';

const EXTNAMES: Array<[RegExp, NoiseMapKind]> = [
  [/^(ERR|ERROR|SIGMA|NOISE|RMS|STD|STDEV|UNCERT|UNC)$/, 'sigma'],
  [/^(VARIANCE|VAR)$/, 'variance'],
  [/^(WHT|WEIGHT|IVAR|INVVAR|IVM)$/, 'inverse-variance'],
];
const NAME_WORDS: Array<[RegExp, NoiseMapKind]> = [
  [/(^|[^a-z])(ivar|invvar|ivm|wht|weight|wt)([^a-z]|$)/, 'inverse-variance'],
  [/(^|[^a-z])(var|variance)([^a-z]|$)/, 'variance'],
  [/(^|[^a-z])(noise|err|error|sigma|rms|std|unc|uncert)([^a-z]|$)/, 'sigma'],
];

/** The units of a header's BUNIT, lower case without spaces ('' when absent). */
function units(header: FitsHeader | null): string {
  return (header?.getString('BUNIT') ?? '').trim().toLowerCase().replace(/\s+/g, '');
}

/** What a noise map holds, or null when nothing says. `imageUnits` is the image's BUNIT. */
export function noiseMapKind(
  extname: string,
  header: FitsHeader | null,
  imageUnits: string,
  fileName: string,
): NoiseMapKind | null {
  for (const [re, kind] of EXTNAMES) if (re.test(extname.trim().toUpperCase())) return kind;
  const u = units(header);
  const base = imageUnits.trim().toLowerCase().replace(/\s+/g, '');
  if (u) {
    if (/(\^|\*\*)-2$|\)-2$/.test(u)) return 'inverse-variance';
    if (/(\^|\*\*)2$|\)2$/.test(u) || (base && u === `${base}2`)) return 'variance';
    if (base && u === base) return 'sigma';
  }
  const name = fileName.toLowerCase().replace(/^.*[\\/]/, '');
  for (const [re, kind] of NAME_WORDS) if (re.test(name)) return kind;
  return null;
}

/** Variance from a map's pixels; unusable values (non-finite, sigma or variance <= 0, weight 0) become NaN. */
export function toVariance(data: FitsData, kind: NoiseMapKind): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    const variance = kind === 'sigma' ? v * v : kind === 'variance' ? v : 1 / v;
    out[i] = v > 0 && Number.isFinite(variance) ? variance : Number.NaN;
  }
  return out;
}

export interface VarianceMap {
  variance: Float32Array;
  kind: NoiseMapKind;
  /** Where it came from, for logs and headers: 'ERR extension', 'science.noise.fits (sigma)'. */
  origin: string;
}

/** Extensions that carry noise rather than pixels, in order of preference; JWST's VAR_* parts are summed. */
export const NOISE_EXTENSIONS = [
  'VARIANCE',
  'ERR',
  'VAR_POISSON',
  'VAR_RNOISE',
  'VAR_FLAT',
  'WHT',
  'WEIGHT',
  'IVAR',
];

/** A variance from a file's own noise extension (VARIANCE, ERR, JWST's VAR_POISSON + VAR_RNOISE + VAR_FLAT, WHT), or null. */
export function varianceFromExtensions(
  hdus: FitsHdu[],
  width: number,
  height: number,
): VarianceMap | null {
  const named = (name: string): FitsHdu | undefined =>
    hdus.find(
      (h) =>
        h.name.toUpperCase() === name &&
        h.data !== null &&
        h.width === width &&
        h.height === height,
    );
  for (const name of ['VARIANCE', 'ERR']) {
    const hdu = named(name);
    if (hdu) {
      const kind = noiseMapKind(name, hdu.header, '', '') as NoiseMapKind;
      return {
        variance: toVariance(hdu.data as FitsData, kind),
        kind,
        origin: `${name} extension`,
      };
    }
  }
  const parts = ['VAR_POISSON', 'VAR_RNOISE', 'VAR_FLAT']
    .map(named)
    .filter((h): h is FitsHdu => h !== undefined);
  if (parts.length) {
    const sum = new Float32Array(width * height);
    for (const p of parts) {
      const v = toVariance(p.data as FitsData, 'variance');
      for (let i = 0; i < sum.length; i++) sum[i] += v[i];
    }
    return {
      variance: sum,
      kind: 'variance',
      origin: `${parts.map((p) => p.name).join(' + ')} extensions`,
    };
  }
  for (const name of ['WHT', 'WEIGHT', 'IVAR']) {
    const hdu = named(name);
    if (hdu)
      return {
        variance: toVariance(hdu.data as FitsData, 'inverse-variance'),
        kind: 'inverse-variance',
        origin: `${name} extension`,
      };
  }
  return null;
}

/**
 * The variance of a separate noise-map file (`--science-variance`), which must match the image's
 * shape: its pixel HDU (first with data), its kind as noiseMapKind reads it. Throws FitsError.
 */
export function varianceFromMapFile(
  hdus: FitsHdu[],
  fileName: string,
  imageUnits: string,
  width: number,
  height: number,
): VarianceMap {
  const fromExt = varianceFromExtensions(hdus, width, height);
  if (fromExt && hdus.filter((h) => h.data !== null).length > 1) return fromExt;
  const hdu = hdus.find((h) => h.data !== null && h.width > 0 && h.height > 0);
  if (!hdu) throw new FitsError('no image HDU with pixels');
  if (hdu.width !== width || hdu.height !== height)
    throw new FitsError(`noise map is ${hdu.width}x${hdu.height}, the image ${width}x${height}`);
  const kind = noiseMapKind(
    hdu.name === 'PRIMARY' ? '' : hdu.name,
    inherited(hdu, hdus[0]),
    imageUnits,
    fileName,
  );
  if (!kind) {
    throw new FitsError(
      'cannot tell whether the noise map holds sigma, variance or inverse variance: give it an EXTNAME (ERR, VARIANCE, WHT), a BUNIT, or a name with noise/rms/err, var or weight/ivar in it',
    );
  }
  return {
    variance: toVariance(hdu.data as FitsData, kind),
    kind,
    origin: `${fileName.replace(/^.*[\\/]/, '')} (${kind})`,
  };
}

/** The HDU's header, or the primary's when the HDU has no BUNIT of its own. */
function inherited(hdu: FitsHdu, primary: FitsHdu): FitsHeader {
  return hdu.header.getString('BUNIT') !== undefined ? hdu.header : primary.header;
}
