/**
 * Exposures in FITS: pixels, mask, variance, WCS and visit metadata.
 *
 * Reading takes the pixels from the extension named IMAGE, else the primary HDU when it has
 * data, else the first image extension (as in a .fits.fz file); optional MASK (integer, planes named by MP_<NAME> = bit cards) and VARIANCE
 * extensions. Without a VARIANCE extension the variance plane is NaN everywhere
 * (`varianceFromFile` false): the characterization stage derives it from gain, read noise and
 * the background. Non-finite pixels stay NaN in the image and get NO_DATA in the mask.
 *
 * Times: VisitInfo.mjd is the exposure midpoint, read from MJD-AVG, else MJD-OBS (exposure
 * start, FITS Standard 4.0 sect. 9.2) + EXPTIME / 2; written as both.
 *
 * Sub-images: a view's origin (image.x0, y0) is written as Rubin's 'A' WCS (CTYPE1A = 'LINEAR',
 * CRVAL1A = x0) with the celestial CRPIX shifted to the view, and restored on reading.
 * @example
 *   const { exposure, header } = readExposureWithHeader(readFileSync('science.fits'), 'science.fits');
 *   writeFileSync('out.fits', writeExposure(exposure, { extraHeader: [['DIFFMETH', 'AL']] }));
 */
import { Exposure } from '../image/exposure.js';
import { MASK_PLANE_NAMES, MaskPlane, type MaskPlaneName } from '../image/mask.js';
import { Plane } from '../image/plane.js';
import { imageIdentity } from '../image/identity.js';
import { emptyVisitInfo, type VisitInfo } from '../image/visit-info.js';
import type { Wcs } from '../wcs/types.js';
import { wcsFromHeader } from '../wcs/index.js';
import { FitsError } from './errors.js';
import { FitsHeader, type FitsValue } from './header.js';
import type { FitsData } from './pixels.js';
import { readFits, readFitsFile, type FitsHdu, type ReadFitsOptions } from './read.js';
import { writeFits, writeFitsFile, type FitsHduInput, type WriteFitsOptions } from './write.js';
import { NOISE_EXTENSIONS, varianceFromExtensions } from './variance-map.js';
import { zeroPointFromHeader } from './zero-point-cards.js';
import { filterName, observationTime } from './observation-time.js';

export interface ReadExposureResult {
  exposure: Exposure;
  /**
   * The pixel HDU's header with the primary header's cards it lacks (the INHERIT convention),
   * for later stages to copy cards from.
   */
  header: FitsHeader;
  /** Name of the HDU the pixels came from ('PRIMARY', 'IMAGE', ...). */
  imageHdu: string;
  /** True when a MASK extension was read (else the mask holds only NO_DATA for non-finite pixels). */
  maskFromFile: boolean;
  /** True when a VARIANCE extension was read (else the variance plane is NaN, to be derived). */
  varianceFromFile: boolean;
  /** Where the variance came from ('VARIANCE extension', 'ERR extension', ...), '' when it is to be derived. */
  varianceOrigin: string;
}

/** Extensions that never hold the pixels: the mask, JWST's data quality, and the noise maps. */
const AUXILIARY = ['MASK', 'DQ', ...NOISE_EXTENSIONS];

/** Keywords of the primary header not inherited by extensions. */
const NOT_INHERITED =
  /^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|BSCALE|BZERO|BLANK|EXTNAME|COMMENT|HISTORY|CHECKSUM|DATASUM|INHERIT)$/;

/** The pixels of a file as an Exposure; see readExposureWithHeader. */
export function readExposure(bytes: Uint8Array, source?: string): Exposure {
  return readExposureWithHeader(bytes, source).exposure;
}

/** Reads an Exposure and the header it came with; throws FitsError('<source>: <problem>'). */
export function readExposureWithHeader(
  bytes: Uint8Array,
  source = 'FITS file',
): ReadExposureResult {
  return readExposureFromHdus(readFitsNamed(bytes, source), source);
}

/** readFits with errors prefixed by the file's name: FitsError('<source>: <problem>'). */
export function readFitsNamed(
  bytes: Uint8Array,
  source: string,
  options: ReadFitsOptions = {},
): FitsHdu[] {
  try {
    return readFits(bytes, options);
  } catch (e) {
    if (e instanceof FitsError) throw new FitsError(`${source}: ${e.message}`);
    throw e;
  }
}

/** readFitsFile (the file's images read straight into shared buffers) with errors prefixed by `source`. */
export async function readFitsFileNamed(
  path: string,
  source = path,
  options: ReadFitsOptions = {},
): Promise<FitsHdu[]> {
  try {
    return await readFitsFile(path, options);
  } catch (e) {
    if (e instanceof FitsError) throw new FitsError(`${source}: ${e.message}`);
    throw e;
  }
}

/** As readExposureWithHeader, from HDUs already read (for files with further extensions to read). */
export function readExposureFromHdus(hdus: FitsHdu[], source = 'FITS file'): ReadExposureResult {
  try {
    return readExposureHdus(hdus);
  } catch (e) {
    if (e instanceof FitsError) throw new FitsError(`${source}: ${e.message}`);
    throw e;
  }
}

function readExposureHdus(hdus: FitsHdu[]): ReadExposureResult {
  const withData = hdus.filter((h) => h.data !== null && h.width > 0 && h.height > 0);
  const image =
    withData.find((h) => h.name.toUpperCase() === 'IMAGE') ??
    withData.find((h) => h === hdus[0]) ??
    withData.find((h) => h.name.toUpperCase() === 'SCI') ??
    withData.find((h) => !AUXILIARY.includes(h.name.toUpperCase()));
  if (!image || image.data === null) throw new FitsError('no image HDU with pixels');
  const { width, height } = image;
  const header = inheritedHeader(image.header, hdus[0] !== image ? hdus[0].header : null);
  const x0 = originOf(header, 1);
  const y0 = originOf(header, 2);

  // Planes on shared memory, as the pixels are (pixels.ts fromBigEndian): a worker characterizes them in place.
  const pixels = toFloat32(image.data);
  const mask = new Int32Array(new SharedArrayBuffer(4 * width * height));
  const maskHdu = withData.find((h) => h.name.toUpperCase() === 'MASK' && h !== image);
  if (maskHdu) readMask(maskHdu, width, height, mask);
  for (let i = 0; i < pixels.length; i++)
    if (!Number.isFinite(pixels[i])) mask[i] |= MaskPlane.NO_DATA;

  const varianceHdu = withData.find((h) => h.name.toUpperCase() === 'VARIANCE' && h !== image);
  let variance: Float32Array;
  let varianceOrigin = '';
  if (varianceHdu) {
    checkShape(varianceHdu, width, height);
    variance = toFloat32(varianceHdu.data as FitsData);
    varianceOrigin = 'VARIANCE extension';
  } else {
    // A noise extension of another kind (JWST's ERR, VAR_*, WHT) is converted to a variance.
    const map = varianceFromExtensions(
      hdus.filter((h) => h !== image),
      width,
      height,
    );
    variance =
      map?.variance ?? new Float32Array(new SharedArrayBuffer(4 * width * height)).fill(Number.NaN);
    varianceOrigin = map?.origin ?? '';
  }

  const plane = <T extends Float32Array | Int32Array>(data: T): Plane<T> =>
    new Plane(data, width, height, width, 0, x0, y0);
  const exposure = new Exposure(
    plane(pixels),
    plane(mask),
    plane(variance),
    wcsOf(header, x0, y0),
    null,
    visitInfoOf(header, () => new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength)),
  );
  return {
    exposure,
    header,
    imageHdu: image.name,
    maskFromFile: maskHdu !== undefined,
    varianceFromFile: varianceOrigin !== '',
    varianceOrigin,
  };
}

function inheritedHeader(own: FitsHeader, primary: FitsHeader | null): FitsHeader {
  const merged = own.clone();
  if (primary)
    for (const card of primary)
      if (!NOT_INHERITED.test(card.keyword) && !merged.has(card.keyword))
        merged.set(card.keyword, card.value, card.comment);
  return merged;
}

/** Parent-frame origin of the pixels along an axis, from Rubin's 'A' (PHYSICAL) linear WCS; 0 without it. */
function originOf(header: FitsHeader, axis: 1 | 2): number {
  if ((header.getString(`CTYPE${axis}A`) ?? '').trim().toUpperCase() !== 'LINEAR') return 0;
  const value =
    (header.getNumber(`CRVAL${axis}A`) ?? 0) + 1 - (header.getNumber(`CRPIX${axis}A`) ?? 1);
  if (!Number.isInteger(value))
    throw new FitsError(`pixel origin CRVAL${axis}A ${value} is not an integer`);
  return value;
}

/** The celestial WCS in the parent frame (CRPIX shifted by the origin), or null. */
function wcsOf(header: FitsHeader, x0: number, y0: number): Wcs | null {
  const shift: Record<string, number> = { CRPIX1: x0, CRPIX2: y0 };
  const view = {
    get(key: string): FitsValue | undefined {
      const value = header.get(key);
      const k = key.toUpperCase();
      return k in shift && typeof value === 'number' ? value + shift[k] : value;
    },
  };
  try {
    return wcsFromHeader(view);
  } catch (e) {
    throw new FitsError(`bad WCS: ${(e as Error).message}`);
  }
}

function checkShape(hdu: FitsHdu, width: number, height: number): void {
  if (hdu.width !== width || hdu.height !== height) {
    throw new FitsError(
      `${hdu.name} extension is ${hdu.width}x${hdu.height}, the image ${width}x${height}`,
    );
  }
}

function toFloat32(data: FitsData): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(new SharedArrayBuffer(4 * data.length));
  if (data instanceof BigInt64Array) for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  else out.set(data);
  return out;
}

/** Copies a MASK extension into our bits: its MP_<NAME> cards name its bits; unknown planes are dropped. */
function readMask(hdu: FitsHdu, width: number, height: number, out: Int32Array): void {
  checkShape(hdu, width, height);
  const data = hdu.data as FitsData;
  if (
    data instanceof Float32Array ||
    data instanceof Float64Array ||
    data instanceof BigInt64Array
  ) {
    throw new FitsError(`MASK extension has non-integer pixels (BITPIX ${hdu.bitpix})`);
  }
  const map: Array<[from: number, to: number]> = [];
  for (const card of hdu.header) {
    if (!card.keyword.startsWith('MP_') || typeof card.value !== 'number') continue;
    const name = card.keyword.slice(3) as MaskPlaneName;
    if (Number.isInteger(card.value) && card.value >= 0 && card.value < 32 && name in MaskPlane) {
      map.push([2 ** card.value, MaskPlane[name]]);
    }
  }
  if (map.length === 0) {
    out.set(data); // no plane names: our own bit layout
    return;
  }
  // Our own files name each bit as ours: the known bits kept, in place, without a loop over the map.
  if (map.every(([from, to]) => from === to)) {
    const known = map.reduce((bits, [from]) => bits | from, 0);
    for (let i = 0; i < out.length; i++) out[i] = data[i] & known;
    return;
  }
  for (let i = 0; i < out.length; i++) {
    const v = data[i];
    if (v === 0) continue;
    let bits = 0;
    for (const [from, to] of map) if (v & from) bits |= to;
    out[i] = bits;
  }
}

/** Band letter u g r i z y when FILTER starts with one ('i', 'i DECam SDSS c0003 ...', 'Y', SDSS's "r'"), else FILTER itself. */
export function bandOf(filter: string): string {
  const text = filter.trim();
  const m = /^([ugrizyY])(?=$|[\s._\-:'])/.exec(text);
  return m ? m[1].toLowerCase() : text;
}

/** The visit metadata of a header; `pixels` (the raw pixel bytes) is hashed for a visit id only when the header has neither id nor time. */
function visitInfoOf(header: FitsHeader, pixels: () => Uint8Array): VisitInfo {
  const info = emptyVisitInfo();
  const num = (...keys: string[]): number => {
    for (const key of keys) {
      const v = header.getNumber(key);
      if (v !== undefined) return v;
    }
    return Number.NaN;
  };
  info.band = bandOf(filterName(header));
  info.exposureTime = num('EXPTIME');
  const time = observationTime(header);
  info.mjd = time.mjd;
  info.mjdOrigin = time.origin;
  info.gain = num('GAIN');
  info.readNoise = num('RDNOISE');
  info.saturation = num('SATURATE');
  const zp = zeroPointFromHeader(header);
  info.zeroPoint = zp?.zeroPoint ?? Number.NaN;
  info.zeroPointOrigin = zp?.origin ?? '';
  info.units = (header.getString('BUNIT') ?? '').trim();
  info.instrument = (header.getString('INSTRUME') ?? '').trim();
  const tmplId = (header.getString('TMPLID') ?? '').trim();
  if (tmplId) info.templateVersion = tmplId;
  const startMjd =
    info.mjd - (Number.isFinite(info.exposureTime) ? info.exposureTime / 2 / 86400 : 0);
  Object.assign(info, imageIdentity(header, startMjd, pixels));
  return info;
}

/** Longest string value of a card (80 columns less key, '= ' and quotes). */
const MAX_STRING_CARD = 68;

/** Header cards of a VisitInfo (unknown values left out). */
export function visitInfoCards(
  info: VisitInfo,
): Array<[string, string | number | boolean, string]> {
  const cards: Array<[string, string | number | boolean, string]> = [];
  const put = (key: string, value: string | number, comment: string): void => {
    if (typeof value === 'string' ? value !== '' : Number.isFinite(value))
      cards.push([key, value, comment]);
  };
  put('INSTRUME', info.instrument, 'instrument');
  put('VISIT', info.visit, 'visit id');
  put('DETECTOR', info.detector, 'detector number');
  put('FILTER', info.band, 'filter band');
  const half = Number.isFinite(info.exposureTime) ? info.exposureTime / 2 / 86400 : 0;
  put('MJD-OBS', info.mjd - half, '[d] exposure start, MJD');
  put('MJD-AVG', info.mjd, '[d] exposure midpoint, MJD');
  put('EXPTIME', info.exposureTime, '[s] exposure time');
  put(
    'GAIN',
    info.gain,
    info.gainOrigin === 'estimated'
      ? '[e-/ADU] gain, estimated: sky level / sky variance'
      : '[e-/ADU] gain',
  );
  put('RDNOISE', info.readNoise, '[e-] read noise');
  put(
    'SATURATE',
    info.saturation,
    info.saturationOrigin === 'estimated'
      ? '[ADU] saturation level, estimated from the pixels'
      : '[ADU] saturation level',
  );
  if (info.saturationOrigin === 'estimated' && Number.isFinite(info.saturation))
    cards.push(['SATEST', true, 'SATURATE estimated (no card in the input)']);
  put('PHOTZP', info.zeroPoint, '[mag] AB magnitude of 1 ADU');
  if (Number.isFinite(info.zeroPoint))
    put(
      'PHOTZSRC',
      (info.zeroPointOrigin ?? '').slice(0, MAX_STRING_CARD),
      'where PHOTZP came from',
    );
  put('TMPLID', info.templateVersion ?? '', 'template version id');
  return cards;
}

export interface WriteExposureOptions {
  /** Extra cards for the primary header (e.g. DIFFMETH, KERNSUM, PSFFWHM). */
  extraHeader?: Array<[string, string | number | boolean]>;
  /** HDUs appended after VARIANCE (e.g. a PSF image). */
  extraHdus?: FitsHduInput[];
  /** RICE_1 tile compression: MASK lossless; IMAGE and VARIANCE quantized (step = noise / quantizeLevel). */
  compress?: 'RICE_1';
  /** Quantization level for compressed float planes; default 16. */
  quantizeLevel?: number;
}

/** Pixel-frame cards of an extension: the WCS shifted to the plane's origin, and Rubin's 'A' origin WCS. */
function frameCards(exposure: Exposure): FitsHeader {
  const header = new FitsHeader();
  const { x0, y0 } = exposure.image;
  for (const [key, value] of exposure.wcs?.toHeaderCards() ?? []) {
    const shift = key === 'CRPIX1' ? x0 : key === 'CRPIX2' ? y0 : 0;
    header.set(key, typeof value === 'number' ? value - shift : value);
  }
  header.set('CTYPE1A', 'LINEAR', 'pixel origin of this image in its parent');
  header.set('CTYPE2A', 'LINEAR');
  header.set('CRPIX1A', 1);
  header.set('CRPIX2A', 1);
  header.set('CRVAL1A', x0);
  header.set('CRVAL2A', y0);
  header.set('CUNIT1A', 'PIXEL');
  header.set('CUNIT2A', 'PIXEL');
  header.set('WCSNAMEA', 'PHYSICAL');
  return header;
}

function contiguous<T extends Float32Array | Int32Array>(plane: Plane<T>): T {
  return plane.contiguous ? plane.data : plane.clone().data;
}

/**
 * An Exposure as a multi-extension FITS file: an empty primary HDU with the visit cards, then
 * IMAGE (float32, ADU), MASK (int32, MP_<NAME> cards), VARIANCE (float32, ADU^2), each with the
 * WCS, then `extraHdus`. The PSF is not written.
 */
export function writeExposure(exposure: Exposure, options: WriteExposureOptions = {}): Uint8Array {
  return writeFits(exposureHdus(exposure, options), fitsOptions(options));
}

/** writeExposure to the file at `path`, without the whole file in memory (writeFitsFile): the same bytes. */
export async function writeExposureFile(
  path: string,
  exposure: Exposure,
  options: WriteExposureOptions = {},
): Promise<void> {
  await writeFitsFile(path, exposureHdus(exposure, options), fitsOptions(options));
}

function fitsOptions(options: WriteExposureOptions): WriteFitsOptions {
  return { compress: options.compress, quantizeLevel: options.quantizeLevel };
}

/** The HDUs writeExposure writes. */
function exposureHdus(exposure: Exposure, options: WriteExposureOptions): FitsHduInput[] {
  const primary = new FitsHeader();
  for (const [key, value, comment] of visitInfoCards(exposure.info))
    primary.set(key, value, comment);
  primary.set('INHERIT', true, 'extensions inherit this header');
  for (const [key, value] of options.extraHeader ?? []) primary.set(key, value);
  const { width, height } = exposure;
  const frame = frameCards(exposure);
  const maskHeader = frame.clone();
  MASK_PLANE_NAMES.forEach((name) =>
    maskHeader.set(`MP_${name}`, Math.log2(MaskPlane[name]), `mask plane bit of ${name}`),
  );
  // Units as read (MJy/sr stays MJy/sr); counts when the input named none.
  const units = exposure.info.units || 'adu';
  const imageHeader = frame.clone().set('BUNIT', units);
  const varianceHeader = frame
    .clone()
    .set('BUNIT', /^[\w]+$/.test(units) ? `${units}2` : `(${units})**2`);
  return [
    { data: null, header: primary },
    { name: 'IMAGE', data: contiguous(exposure.image), width, height, header: imageHeader },
    { name: 'MASK', data: contiguous(exposure.mask), width, height, header: maskHeader },
    {
      name: 'VARIANCE',
      data: contiguous(exposure.variance),
      width,
      height,
      header: varianceHeader,
    },
    ...(options.extraHdus ?? []),
  ];
}
